"""Bounded size with LRU eviction, memory that does not grow with key count, None and errors."""

from __future__ import annotations

import pytest
from _fakes import FakeClock, FakeService, UpstreamError, call
from cache import Cache

from tui_assess.judge import candidate


def make(max_entries, ttl=300.0):
    service = FakeService(default="v")
    return Cache(service, ttl_seconds=ttl, max_entries=max_entries, clock=FakeClock()), service


def test_never_holds_more_than_max_entries():
    cache, service = make(max_entries=50)
    for i in range(1000):
        cache.get(f"sku-{i}")
        assert len(cache) <= 50, f"{len(cache)} entries held, max_entries is 50"
    assert len(cache) == 50, "a full cache should hold max_entries entries"


def test_least_recently_used_is_evicted_first():
    cache, service = make(max_entries=3)
    for key in ("a", "b", "c"):
        cache.get(key)
    cache.get("a")  # a is now the most recently used; b the least
    cache.get("d")  # evicts b
    assert service.keys_loaded == ["a", "b", "c", "d"], (
        f"four first reads should load each key once; upstream loads were {service.keys_loaded}"
    )
    for key in ("a", "c", "d"):
        cache.get(key)
    assert service.keys_loaded == ["a", "b", "c", "d"], "a, c and d should still be cached"
    cache.get("b")
    assert service.keys_loaded == ["a", "b", "c", "d", "b"], (
        "b, the least recently used key, should have been evicted when d arrived, so reading it "
        f"again loads it; upstream loads were {service.keys_loaded}"
    )


def test_memory_does_not_grow_with_distinct_keys():
    cache, service = make(max_entries=100)
    service.record = False
    for i in range(1000):
        cache.get(f"warm-{i}")
    process = candidate.process()  # the cache's process, measured from outside it
    before = process.memory_info().rss
    for i in range(10_000):
        cache.get(f"sku-{i:06d}")
    grown = process.memory_info().rss - before
    print(f"\nmemory grew by {grown / 1000:.0f} kB over 10,000 distinct keys")
    assert grown < 500_000, (
        f"memory grew by {grown / 1000:.0f} kB over 10,000 distinct keys with max_entries=100: "
        "something besides the entries is kept per key"
    )


def test_none_is_cached_like_any_value():
    cache, service = make(max_entries=10)
    service.default = None
    assert cache.get("discontinued") is None
    assert cache.get("discontinued") is None
    assert service.get_calls == 1


def test_failed_load_is_retried_on_next_get():
    cache, service = make(max_entries=10)
    service.fail(1)
    with pytest.raises(UpstreamError):
        call(cache.get, "sku-1")
    assert call(cache.get, "sku-1") == "v"
    assert call(cache.get, "sku-1") == "v"
    assert service.get_calls == 2
