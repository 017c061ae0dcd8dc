"""Thundering herd, parallel loads of different keys, hits during loads, shared errors."""

from __future__ import annotations

import threading
import time

from _fakes import Call, FakeClock, FakeService, UpstreamError
from cache import Cache


def make(max_entries=100, data=None):
    service = FakeService(data or {"sku-1": 100})
    return Cache(service, ttl_seconds=60.0, max_entries=max_entries, clock=FakeClock()), service


def start_together(n, fn, *args):
    """n calls of fn(*args), released at the same moment by a barrier."""
    barrier = threading.Barrier(n)

    def together():
        barrier.wait(timeout=10)
        return fn(*args)

    return [Call(together) for _ in range(n)]


def test_concurrent_misses_on_one_key_make_one_upstream_call():
    cache, service = make()
    service.hold(20)
    try:
        calls = start_together(20, cache.get, "sku-1")
        assert service.wait_entered(), "no get() reached the service"
        time.sleep(0.3)  # let every caller pile up behind the first load
    finally:
        service.release()
    assert all(c.wait(10) for c in calls), "some get() calls never returned"
    assert [c.error for c in calls] == [None] * 20
    assert [c.result for c in calls] == [100] * 20
    assert service.get_calls == 1, f"20 concurrent misses made {service.get_calls} upstream calls"


def test_misses_on_different_keys_load_in_parallel():
    cache, service = make()
    keys = [f"sku-{i}" for i in range(8)]
    service.rendezvous(len(keys), timeout=5.0)  # each load waits until all 8 are in flight
    calls = [Call(cache.get, key) for key in keys]
    assert all(c.wait(40) for c in calls), "some get() calls never returned"
    assert service.max_in_flight == len(keys), (
        f"only {service.max_in_flight} of {len(keys)} loads of different keys ran at once: "
        "a slow key must not hold up the others"
    )


def test_hit_is_not_blocked_by_another_keys_load():
    cache, service = make(data={"sku-1": 100, "sku-2": 200, "sku-3": 300})
    assert cache.get("sku-2") == 200
    service.hold(1)
    slow = Call(cache.get, "sku-1")
    try:
        assert service.wait_entered(2), "the slow get() never reached the service"
        hit = Call(cache.get, "sku-2")
        other_miss = Call(cache.get, "sku-3")
        hit_ok = hit.wait(5.0) and hit.result == 200
        miss_ok = other_miss.wait(5.0) and other_miss.result == 300
    finally:
        service.release()
    assert slow.wait(), "the slow get() never returned"
    assert hit_ok, "a cached key waited for another key's upstream load"
    assert miss_ok, "a miss on one key waited for another key's upstream load"


def test_error_reaches_every_waiter_and_is_not_cached():
    cache, service = make()
    service.hold(5)
    service.fail(1)
    try:
        calls = start_together(5, cache.get, "sku-1")
        assert service.wait_entered(), "no get() reached the service"
        time.sleep(0.3)
    finally:
        service.release()
    assert all(c.wait(10) for c in calls), "callers waiting on a failed load never returned"
    assert all(isinstance(c.error, UpstreamError) for c in calls), (
        "every caller waiting on the failed load must get its error: "
        f"{[c.error or c.result for c in calls]}"
    )
    assert service.get_calls == 1
    again = Call(cache.get, "sku-1")
    assert again.wait(), "get() after a failed load never returned"
    assert again.error is None and again.result == 100, "the error must not be cached"
    assert service.get_calls == 2
