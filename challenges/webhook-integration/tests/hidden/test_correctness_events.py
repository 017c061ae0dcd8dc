"""Duplicate and out-of-order deliveries."""

import threading

from _wh import NOW, event, headers_for


def _deliver(handler, body):
    status, _ = handler.handle(headers_for(body), body)
    assert status == 200
    return status


def test_duplicate_delivery_is_processed_once(make_handler, provider):
    handler = make_handler()
    body = event("evt_c1", "payment.succeeded", "pay_c1")
    for _ in range(3):
        _deliver(handler, body)
    assert len(provider.requests) == 1
    assert handler.payment_status("pay_c1") == "succeeded"


def test_duplicate_survives_a_restart(make_handler, provider):
    body = event("evt_c2", "payment.succeeded", "pay_c2")
    _deliver(make_handler(), body)
    _deliver(make_handler(), body)  # new process, same database
    assert len(provider.requests) == 1


def test_distinct_events_for_one_payment_are_all_applied(make_handler, provider):
    handler = make_handler()
    _deliver(handler, event("evt_c3a", "payment.failed", "pay_c3", created=NOW - 200))
    assert handler.payment_status("pay_c3") == "failed"
    _deliver(handler, event("evt_c3b", "payment.succeeded", "pay_c3", created=NOW - 100))
    assert handler.payment_status("pay_c3") == "succeeded"
    assert len(provider.requests) == 1
    _deliver(handler, event("evt_c3c", "payment.refunded", "pay_c3", created=NOW - 10))
    assert handler.payment_status("pay_c3") == "refunded"


def test_refund_arriving_before_success_wins(make_handler, provider):
    handler = make_handler()
    _deliver(handler, event("evt_c4b", "payment.refunded", "pay_c4", created=NOW - 50))
    _deliver(handler, event("evt_c4a", "payment.succeeded", "pay_c4", created=NOW - 100))
    assert handler.payment_status("pay_c4") == "refunded"
    assert provider.requests == [], "a refunded payment must not be shipped"


def test_late_failure_does_not_override_newer_success(make_handler, provider):
    handler = make_handler()
    _deliver(handler, event("evt_c5b", "payment.succeeded", "pay_c5", created=NOW - 50))
    _deliver(handler, event("evt_c5a", "payment.failed", "pay_c5", created=NOW - 100))
    assert handler.payment_status("pay_c5") == "succeeded"
    assert len(provider.requests) == 1


def test_refund_is_final(make_handler, provider):
    handler = make_handler()
    _deliver(handler, event("evt_c6a", "payment.refunded", "pay_c6", created=NOW - 100))
    _deliver(handler, event("evt_c6b", "payment.succeeded", "pay_c6", created=NOW - 50))
    assert handler.payment_status("pay_c6") == "refunded"
    assert provider.requests == []


def test_unknown_event_type_is_acknowledged_and_ignored(make_handler, provider):
    handler = make_handler()
    _deliver(handler, event("evt_c7", "customer.updated", "pay_c7"))
    assert handler.payment_status("pay_c7") is None
    assert provider.requests == []


def test_concurrent_duplicate_deliveries_fulfil_once(make_handler, provider):
    handler = make_handler()
    body = event("evt_c8", "payment.succeeded", "pay_c8")
    barrier = threading.Barrier(8)
    results, errors = [], []

    def deliver():
        try:
            barrier.wait(10)
            results.append(handler.handle(headers_for(body), body)[0])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert results == [200] * 8
    assert len(provider.requests) == 1
    assert handler.fulfilment_status("pay_c8") == "fulfilled"
