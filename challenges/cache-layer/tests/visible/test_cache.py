"""Happy-path checks for the cache (the hidden review goes further, see brief.md)."""

from __future__ import annotations

from _fakes import FakeClock, FakeService
from cache import Cache


def test_second_get_is_served_from_cache():
    service = FakeService({"sku-1": 100})
    cache = Cache(service, ttl_seconds=30, max_entries=10, clock=FakeClock())
    assert cache.get("sku-1") == 100
    assert cache.get("sku-1") == 100
    assert service.get_calls == 1


def test_value_is_reloaded_once_ttl_has_passed():
    clock = FakeClock()
    service = FakeService({"sku-1": 100})
    cache = Cache(service, ttl_seconds=30, max_entries=10, clock=clock)
    cache.get("sku-1")
    service.data["sku-1"] = 120
    clock.advance(31)
    assert cache.get("sku-1") == 120


def test_put_writes_through_and_get_returns_it():
    service = FakeService({"sku-1": 100})
    cache = Cache(service, ttl_seconds=30, max_entries=10, clock=FakeClock())
    cache.get("sku-1")
    cache.put("sku-1", 130)
    assert service.data["sku-1"] == 130
    assert cache.get("sku-1") == 130


def test_size_stays_within_max_entries():
    service = FakeService(default=1)
    cache = Cache(service, ttl_seconds=30, max_entries=5, clock=FakeClock())
    for i in range(20):
        cache.get(i)
    assert len(cache) <= 5
