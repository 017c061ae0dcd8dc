"""Calls to the flaky fulfilment service: bounded retries, backoff, timeouts, later retry."""

import socket

import pytest
from _wh import FakeSleep, Slow, event, headers_for


def _deliver(handler, body):
    status, _ = handler.handle(headers_for(body), body)
    assert status == 200, f"a valid, signed delivery answered {status}, not 200"
    return status


def _attempts(provider, want, when):
    got = len(provider.requests)
    assert got == want, f"{when}: the provider was called {got} times; expected {want}"


def _waits(sleeper, want, when):
    assert sleeper.calls == pytest.approx(want), (
        f"{when}: the waits between attempts were {sleeper.calls} s; expected {want}"
    )


def _fulfilment(handler, payment, want, when):
    got = handler.fulfilment_status(payment)
    assert got == want, f"{when}: fulfilment is {got!r}; expected {want!r}"


def test_backoff_doubles_between_attempts(make_handler, provider, sleeper):
    provider.respond(503, 500, 503)
    handler = make_handler()
    _deliver(handler, event("evt_r1", "payment.succeeded", "pay_r1"))
    when = "three 5xx answers, then a 200"
    _attempts(provider, 4, when)
    _waits(sleeper, [0.5, 1.0, 2.0], when)
    _fulfilment(handler, "pay_r1", "fulfilled", when)
    keys = {r["headers"].get("idempotency-key") for r in provider.requests}
    assert keys == {"pay_r1"}, "every attempt must carry the same Idempotency-Key"


def test_gives_up_after_max_attempts_and_keeps_it_pending(make_handler, provider, sleeper):
    provider.respond(default=503)
    handler = make_handler()
    _deliver(handler, event("evt_r2", "payment.succeeded", "pay_r2"))
    when = "a provider that always answers 503"
    _attempts(provider, 4, when)
    _waits(sleeper, [0.5, 1.0, 2.0], when)
    _fulfilment(handler, "pay_r2", "pending", when)
    got = handler.payment_status("pay_r2")
    assert got == "succeeded", f"{when}: the payment is {got!r}, not 'succeeded'"


def test_retry_policy_is_configurable(make_handler, provider, sleeper):
    provider.respond(default=500)
    handler = make_handler(max_attempts=6, base_delay=0.1)
    _deliver(handler, event("evt_r3", "payment.succeeded", "pay_r3"))
    when = "max_attempts=6, base_delay=0.1 and a provider that always fails"
    _attempts(provider, 6, when)
    _waits(sleeper, [0.1, 0.2, 0.4, 0.8, 1.6], when)
    _fulfilment(handler, "pay_r3", "pending", when)


def test_slow_response_past_timeout_counts_as_a_failure(make_handler, provider, sleeper):
    provider.respond(Slow(8.0, 200), 200)
    handler = make_handler(timeout=1.5)
    _deliver(handler, event("evt_r4", "payment.succeeded", "pay_r4"))
    assert sleeper.calls == pytest.approx([0.5]), (
        "with timeout=1.5, a provider that takes 8 s should time out once, then be retried "
        f"after 0.5 s; the waits were {sleeper.calls}"
    )
    _attempts(provider, 2, "a slow answer, then a fast one")
    _fulfilment(handler, "pay_r4", "fulfilled", "a slow answer, then a fast one")


def test_unreachable_provider_is_retried_then_pending(make_handler, sleeper):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    handler = make_handler(provider_url=f"http://127.0.0.1:{port}")
    _deliver(handler, event("evt_r5", "payment.succeeded", "pay_r5"))
    _waits(sleeper, [0.5, 1.0, 2.0], "a provider nobody listens for")
    _fulfilment(handler, "pay_r5", "pending", "a provider nobody listens for")


def test_client_error_is_not_retried(make_handler, provider, sleeper):
    provider.respond(422)
    handler = make_handler()
    _deliver(handler, event("evt_r6", "payment.succeeded", "pay_r6"))
    when = "a 422 from the provider"
    _attempts(provider, 1, when)
    _waits(sleeper, [], when)
    _fulfilment(handler, "pay_r6", "rejected", when)


def test_pending_fulfilment_is_retried_later_by_a_new_process(make_handler, provider):
    provider.respond(default=503)
    _deliver(make_handler(), event("evt_r7", "payment.succeeded", "pay_r7", amount=990))
    _attempts(provider, 4, "a provider that always answers 503")
    provider.respond(503, default=200)
    later = make_handler(sleep=FakeSleep())
    got = later.retry_pending()
    assert got == 1, f"retry_pending() in a new process returned {got} for one pending fulfilment"
    _fulfilment(later, "pay_r7", "fulfilled", "retry_pending() once the provider is back")
    _attempts(provider, 6, "retry_pending() once the provider is back")
    got = later.retry_pending()
    assert got == 0, f"a second retry_pending() with nothing pending returned {got}"
    _attempts(provider, 6, "a second retry_pending() with nothing pending")


def test_retry_pending_skips_payments_refunded_meanwhile(make_handler, provider):
    provider.respond(default=503)
    handler = make_handler()
    _deliver(handler, event("evt_r8a", "payment.succeeded", "pay_r8", created=1_767_225_000))
    _deliver(handler, event("evt_r8b", "payment.refunded", "pay_r8", created=1_767_225_100))
    before = len(provider.requests)
    provider.respond(default=200)
    got = handler.retry_pending()
    assert got == 0, f"retry_pending() retried {got} fulfilments of a payment refunded meanwhile"
    _attempts(provider, before, "retry_pending() after the payment was refunded")


def test_failure_of_one_payment_does_not_block_the_next(make_handler, provider):
    provider.respond(503, 503, 503, 503, default=200)
    handler = make_handler()
    _deliver(handler, event("evt_r9a", "payment.succeeded", "pay_r9a"))
    _deliver(handler, event("evt_r9b", "payment.succeeded", "pay_r9b"))
    _fulfilment(handler, "pay_r9a", "pending", "four 503 answers for the first payment")
    _fulfilment(handler, "pay_r9b", "fulfilled", "the next payment, with the provider back")
