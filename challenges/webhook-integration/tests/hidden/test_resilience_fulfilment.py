"""Calls to the flaky fulfilment service: bounded retries, backoff, timeouts, later retry."""

import socket

import pytest
from _wh import FakeSleep, Slow, event, headers_for


def _deliver(handler, body):
    status, _ = handler.handle(headers_for(body), body)
    assert status == 200
    return status


def test_backoff_doubles_between_attempts(make_handler, provider, sleeper):
    provider.respond(503, 500, 503)
    handler = make_handler()
    _deliver(handler, event("evt_r1", "payment.succeeded", "pay_r1"))
    assert len(provider.requests) == 4
    assert sleeper.calls == pytest.approx([0.5, 1.0, 2.0])
    assert handler.fulfilment_status("pay_r1") == "fulfilled"
    keys = {r["headers"].get("idempotency-key") for r in provider.requests}
    assert keys == {"pay_r1"}, "every attempt must carry the same Idempotency-Key"


def test_gives_up_after_max_attempts_and_keeps_it_pending(make_handler, provider, sleeper):
    provider.respond(default=503)
    handler = make_handler()
    _deliver(handler, event("evt_r2", "payment.succeeded", "pay_r2"))
    assert len(provider.requests) == 4
    assert sleeper.calls == pytest.approx([0.5, 1.0, 2.0])
    assert handler.fulfilment_status("pay_r2") == "pending"
    assert handler.payment_status("pay_r2") == "succeeded"


def test_retry_policy_is_configurable(make_handler, provider, sleeper):
    provider.respond(default=500)
    handler = make_handler(max_attempts=6, base_delay=0.1)
    _deliver(handler, event("evt_r3", "payment.succeeded", "pay_r3"))
    assert len(provider.requests) == 6
    assert sleeper.calls == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6])
    assert handler.fulfilment_status("pay_r3") == "pending"


def test_slow_response_past_timeout_counts_as_a_failure(make_handler, provider, sleeper):
    provider.respond(Slow(8.0, 200), 200)
    handler = make_handler(timeout=1.5)
    _deliver(handler, event("evt_r4", "payment.succeeded", "pay_r4"))
    assert sleeper.calls == pytest.approx([0.5]), "the first call should have timed out"
    assert len(provider.requests) == 2
    assert handler.fulfilment_status("pay_r4") == "fulfilled"


def test_unreachable_provider_is_retried_then_pending(make_handler, sleeper):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    handler = make_handler(provider_url=f"http://127.0.0.1:{port}")
    _deliver(handler, event("evt_r5", "payment.succeeded", "pay_r5"))
    assert sleeper.calls == pytest.approx([0.5, 1.0, 2.0])
    assert handler.fulfilment_status("pay_r5") == "pending"


def test_client_error_is_not_retried(make_handler, provider, sleeper):
    provider.respond(422)
    handler = make_handler()
    _deliver(handler, event("evt_r6", "payment.succeeded", "pay_r6"))
    assert len(provider.requests) == 1
    assert sleeper.calls == []
    assert handler.fulfilment_status("pay_r6") == "rejected"


def test_pending_fulfilment_is_retried_later_by_a_new_process(make_handler, provider):
    provider.respond(default=503)
    _deliver(make_handler(), event("evt_r7", "payment.succeeded", "pay_r7", amount=990))
    assert len(provider.requests) == 4
    provider.respond(503, default=200)
    later = make_handler(sleep=FakeSleep())
    assert later.retry_pending() == 1
    assert later.fulfilment_status("pay_r7") == "fulfilled"
    assert len(provider.requests) == 6
    assert later.retry_pending() == 0
    assert len(provider.requests) == 6


def test_retry_pending_skips_payments_refunded_meanwhile(make_handler, provider):
    provider.respond(default=503)
    handler = make_handler()
    _deliver(handler, event("evt_r8a", "payment.succeeded", "pay_r8", created=1_767_225_000))
    _deliver(handler, event("evt_r8b", "payment.refunded", "pay_r8", created=1_767_225_100))
    before = len(provider.requests)
    provider.respond(default=200)
    assert handler.retry_pending() == 0
    assert len(provider.requests) == before


def test_failure_of_one_payment_does_not_block_the_next(make_handler, provider):
    provider.respond(503, 503, 503, 503, default=200)
    handler = make_handler()
    _deliver(handler, event("evt_r9a", "payment.succeeded", "pay_r9a"))
    _deliver(handler, event("evt_r9b", "payment.succeeded", "pay_r9b"))
    assert handler.fulfilment_status("pay_r9a") == "pending"
    assert handler.fulfilment_status("pay_r9b") == "fulfilled"
