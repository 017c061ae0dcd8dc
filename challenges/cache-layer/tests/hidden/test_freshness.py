"""Time to live (measured from the write into the cache) and reads after writes."""

from __future__ import annotations

import pytest
from _fakes import Call, FakeClock, FakeService, UpstreamError, call
from cache import Cache


def make(ttl=10.0, max_entries=100, data=None):
    clock = FakeClock()
    service = FakeService(data or {"sku-1": 100, "sku-2": 200})
    return Cache(service, ttl_seconds=ttl, max_entries=max_entries, clock=clock), service, clock


def test_entry_expires_after_ttl():
    cache, service, clock = make(ttl=10.0)
    assert cache.get("sku-1") == 100
    clock.advance(9.5)
    assert cache.get("sku-1") == 100
    assert service.get_calls == 1, "a fresh entry must be served from the cache"
    service.data["sku-1"] = 101
    clock.advance(1.0)  # 10.5 s after it was stored
    assert cache.get("sku-1") == 101, "an expired entry must be loaded again"
    assert service.get_calls == 2
    clock.advance(9.0)  # the reloaded entry is fresh again
    assert cache.get("sku-1") == 101
    assert service.get_calls == 2


def test_reads_do_not_extend_ttl():
    cache, service, clock = make(ttl=10.0)
    cache.get("sku-1")
    for _ in range(3):
        clock.advance(4.0)  # read at 4, 8 and 12 seconds after the write
        cache.get("sku-1")
    assert service.get_calls == 2, (
        "an entry read every 4 s must still expire 10 s after it was stored"
    )


def test_each_key_has_its_own_age():
    cache, service, clock = make(ttl=10.0)
    cache.get("sku-1")
    clock.advance(6.0)
    cache.get("sku-2")
    clock.advance(6.0)  # sku-1 is 12 s old, sku-2 only 6 s
    cache.get("sku-1")
    cache.get("sku-2")
    assert service.keys_loaded == ["sku-1", "sku-2", "sku-1"], (
        f"with a 10 s ttl, a key stored 12 s ago must be loaded again and one stored 6 s ago "
        f"must not; upstream loads were {service.keys_loaded}"
    )


def test_read_after_write_sees_new_value():
    cache, service, clock = make()
    assert cache.get("sku-1") == 100, "get() did not return the service's value"
    cache.put("sku-1", 150)
    assert service.data["sku-1"] == 150, "put() must write through to the service"
    got = cache.get("sku-1")
    assert got == 150, f"a get() right after put(150) returned {got!r}, not the new value"
    clock.advance(5.0)
    got = cache.get("sku-1")
    assert got == 150, f"a get() 5 s after put(150) returned {got!r}, not the new value"


def test_failed_write_is_never_served():
    cache, service, clock = make()
    assert cache.get("sku-1") == 100
    service.fail_puts(1)
    with pytest.raises(UpstreamError):
        cache.put("sku-1", 999)
    assert call(cache.get, "sku-1") == 100


def test_write_during_slow_load_is_not_overwritten_by_it():
    cache, service, clock = make()
    service.hold(1)  # the first load reads the old price, then stalls
    slow = Call(cache.get, "sku-1")
    assert service.wait_entered(), "the first get() never reached the service"
    try:
        writer = Call(cache.put, "sku-1", 175)
        if not writer.wait(1.0):
            service.release()  # a put() may choose to wait for the load in flight; let it end
        assert writer.wait(5.0), "put() did not return"
        assert writer.error is None, f"put() raised {writer.error!r}"
        after = Call(cache.get, "sku-1")  # starts after the write returned
        after.wait(5.0)
    finally:
        service.release()
    assert slow.wait() and after.wait(), "get() did not return"
    assert after.error is None and after.result == 175, (
        f"a get() that started after put() returned {after.result!r}, not the new value"
    )
    assert call(cache.get, "sku-1") == 175, (
        "the load that started before put() must not put the old value back in the cache"
    )
