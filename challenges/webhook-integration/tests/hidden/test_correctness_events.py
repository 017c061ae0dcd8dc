"""Duplicate and out-of-order deliveries."""

import threading

from _wh import NOW, event, headers_for


def _deliver(handler, body):
    status, _ = handler.handle(headers_for(body), body)
    assert status == 200, f"a valid, signed delivery answered {status}, not 200"
    return status


def _status_is(handler, payment, want, after):
    got = handler.payment_status(payment)
    assert got == want, f"after {after}, the payment is {got!r}; expected {want!r}"


def _shipped(provider, times, after):
    got = len(provider.requests)
    assert got == times, f"after {after}, the order was sent for fulfilment {got} times, not {times}"


def test_duplicate_delivery_is_processed_once(make_handler, provider):
    handler = make_handler()
    body = event("evt_c1", "payment.succeeded", "pay_c1")
    for _ in range(3):
        _deliver(handler, body)
    _shipped(provider, 1, "the same event delivered three times")
    _status_is(handler, "pay_c1", "succeeded", "the same event delivered three times")


def test_duplicate_survives_a_restart(make_handler, provider):
    body = event("evt_c2", "payment.succeeded", "pay_c2")
    _deliver(make_handler(), body)
    _deliver(make_handler(), body)  # new process, same database
    _shipped(provider, 1, "the same event delivered again after a restart")


def test_distinct_events_for_one_payment_are_all_applied(make_handler, provider):
    handler = make_handler()
    _deliver(handler, event("evt_c3a", "payment.failed", "pay_c3", created=NOW - 200))
    _status_is(handler, "pay_c3", "failed", "a payment.failed event")
    _deliver(handler, event("evt_c3b", "payment.succeeded", "pay_c3", created=NOW - 100))
    _status_is(handler, "pay_c3", "succeeded", "a newer payment.succeeded event (another id)")
    _shipped(provider, 1, "a payment failed, then succeeded")
    _deliver(handler, event("evt_c3c", "payment.refunded", "pay_c3", created=NOW - 10))
    _status_is(handler, "pay_c3", "refunded", "a newer payment.refunded event (a third id)")


def test_refund_arriving_before_success_wins(make_handler, provider):
    handler = make_handler()
    _deliver(handler, event("evt_c4b", "payment.refunded", "pay_c4", created=NOW - 50))
    _deliver(handler, event("evt_c4a", "payment.succeeded", "pay_c4", created=NOW - 100))
    _status_is(handler, "pay_c4", "refunded", "a refund followed by an older success")
    assert provider.requests == [], "a refunded payment must not be shipped"


def test_late_failure_does_not_override_newer_success(make_handler, provider):
    handler = make_handler()
    _deliver(handler, event("evt_c5b", "payment.succeeded", "pay_c5", created=NOW - 50))
    _deliver(handler, event("evt_c5a", "payment.failed", "pay_c5", created=NOW - 100))
    _status_is(handler, "pay_c5", "succeeded", "a success followed by an older failure")
    _shipped(provider, 1, "a success followed by an older failure")


def test_refund_is_final(make_handler, provider):
    handler = make_handler()
    _deliver(handler, event("evt_c6a", "payment.refunded", "pay_c6", created=NOW - 100))
    _deliver(handler, event("evt_c6b", "payment.succeeded", "pay_c6", created=NOW - 50))
    _status_is(handler, "pay_c6", "refunded", "a refund followed by a newer success")
    _shipped(provider, 0, "a refund followed by a newer success")


def test_unknown_event_type_is_acknowledged_and_ignored(make_handler, provider):
    handler = make_handler()
    _deliver(handler, event("evt_c7", "customer.updated", "pay_c7"))
    _status_is(handler, "pay_c7", None, "an event of a type the handler does not know")
    _shipped(provider, 0, "an event of a type the handler does not know")


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
    assert not errors, f"concurrent deliveries raised: {errors[:2]}"
    assert results == [200] * 8, f"8 concurrent deliveries of one event answered {results}"
    _shipped(provider, 1, "8 concurrent deliveries of one event")
    got = handler.fulfilment_status("pay_c8")
    assert got == "fulfilled", f"after 8 concurrent deliveries, fulfilment is {got!r}"
