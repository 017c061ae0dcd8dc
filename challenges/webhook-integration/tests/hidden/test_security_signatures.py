"""Signature checks: HMAC over "t.body", timestamp tolerance both ways, constant time."""

import hashlib
import hmac
import json

import pytest
from _wh import NOW, SECRET, event, headers_for, sign

from tui_assess.judge import candidate


def _deliver(handler, body, headers):
    status, _ = handler.handle(headers, body)
    return status


def _answers(handler, body, headers, want, delivery):
    """Deliver, and fail in words unless the handler answers `want`."""
    got = _deliver(handler, body, headers)
    assert got == want, f"{delivery} answered {got}; expected {want}"


def _nothing_happened(handler, provider, payment):
    assert handler.payment_status(payment) is None, "a refused delivery changed the payment"
    assert provider.requests == [], "a refused delivery called the fulfilment provider"


def test_tampered_body_is_rejected(make_handler, provider):
    handler = make_handler()
    body = event("evt_s1", "payment.succeeded", "pay_s1", amount=100)
    headers = headers_for(body)
    forged = body.replace(b'"amount": 100', b'"amount": 1')
    assert forged != body
    _answers(handler, forged, headers, 401, "a body changed after it was signed")
    _nothing_happened(handler, provider, "pay_s1")


@pytest.mark.parametrize(
    "header",
    ["", "garbage", "t=,v1=", "t=abc,v1=00", "v1={sig}", "t={t}", "t={t};v1={sig}", "t={t},v0={sig}"],
)
def test_missing_or_malformed_signature_header_is_401(make_handler, provider, header):
    handler = make_handler()
    body = event("evt_s2", "payment.succeeded", "pay_s2")
    value = header.format(t=NOW, sig=sign(body))
    try:
        _answers(handler, body, {"Webhook-Signature": value}, 401, "a malformed signature header")
        _answers(handler, body, {}, 401, "a delivery without a signature header")
    except (KeyError, ValueError, IndexError, TypeError) as exc:
        raise AssertionError(
            f"a malformed or missing signature header crashed the handler with "
            f"{type(exc).__name__} instead of a 401"
        ) from None
    _nothing_happened(handler, provider, "pay_s2")


def test_header_name_is_case_insensitive(make_handler):
    handler = make_handler()
    body = event("evt_s3", "payment.succeeded", "pay_s3")
    value = headers_for(body)["Webhook-Signature"]
    headers = {"webhook-signature": value, "Content-Type": "application/json"}
    _answers(handler, body, headers, 200, "a valid delivery with a lower-case header name")


def test_stale_delivery_is_rejected(make_handler, provider):
    handler = make_handler()
    body = event("evt_s4", "payment.succeeded", "pay_s4")
    _answers(handler, body, headers_for(body, t=NOW - 301), 401, "a delivery signed 301 s ago")
    _answers(handler, body, headers_for(body, t=NOW - 86_400), 401, "a delivery signed a day ago")
    assert provider.requests == [], "a refused delivery called the fulfilment provider"
    _answers(handler, body, headers_for(body, t=NOW - 300), 200, "a delivery signed 300 s ago")


def test_far_future_timestamp_is_rejected(make_handler, provider):
    handler = make_handler()
    body = event("evt_s5", "payment.succeeded", "pay_s5")
    # a signature minted for "next week" would otherwise be replayable all week long
    _answers(handler, body, headers_for(body, t=NOW + 301), 401, "a delivery stamped 301 s ahead")
    _answers(
        handler, body, headers_for(body, t=NOW + 7 * 86_400), 401, "a delivery stamped a week ahead"
    )
    assert provider.requests == [], "a refused delivery called the fulfilment provider"
    _answers(handler, body, headers_for(body, t=NOW + 299), 200, "a delivery stamped 299 s ahead")


def test_custom_tolerance_is_honoured(make_handler):
    handler = make_handler(tolerance=30)
    body = event("evt_s6", "payment.succeeded", "pay_s6")
    when = "with tolerance=30, a delivery"
    _answers(handler, body, headers_for(body, t=NOW - 31), 401, f"{when} signed 31 s ago")
    _answers(handler, body, headers_for(body, t=NOW + 31), 401, f"{when} stamped 31 s ahead")
    _answers(handler, body, headers_for(body, t=NOW - 29), 200, f"{when} signed 29 s ago")


def test_old_signature_restamped_with_fresh_timestamp_is_rejected(make_handler, provider):
    handler = make_handler()
    body = event("evt_s7", "payment.succeeded", "pay_s7")
    captured = sign(body, t=NOW - 3600)  # sniffed an hour ago
    _answers(
        handler, body, {"Webhook-Signature": f"t={NOW},v1={captured}"}, 401,
        "an hour-old signature sent again with a fresh timestamp",
    )
    # a MAC over the body alone does not bind the timestamp, so it must not be accepted either
    body_only = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    _answers(
        handler, body, {"Webhook-Signature": f"t={NOW},v1={body_only}"}, 401,
        "a signature that does not cover the timestamp",
    )
    _nothing_happened(handler, provider, "pay_s7")


def test_any_matching_v1_entry_is_accepted(make_handler):
    handler = make_handler()
    body = event("evt_s8", "payment.succeeded", "pay_s8")
    old = sign(body, secret="whsec_retired_one")
    header = f"t={NOW},v1={old},v1={sign(body)}"
    _answers(
        handler, body, {"Webhook-Signature": header}, 200,
        "a delivery whose second v1 entry is signed with the current secret",
    )
    assert handler.payment_status("pay_s8") == "succeeded", "the accepted event was not applied"


def test_signature_compared_in_constant_time(monkeypatch, make_handler):
    import webhooks

    # The spy goes into the handler's process, where the comparison happens.
    host_hmac, host_secrets = candidate.module("hmac"), candidate.module("secrets")
    real = host_hmac.compare_digest
    seen = []

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(host_hmac, "compare_digest", spy)
    monkeypatch.setattr(host_secrets, "compare_digest", spy)
    for name, value in list(candidate.module("builtins").vars(webhooks).items()):
        if value is real:
            monkeypatch.setattr(webhooks, name, spy)

    handler = make_handler()
    body = event("evt_s9", "payment.succeeded", "pay_s9")
    _answers(handler, body, headers_for(body), 200, "a valid delivery")

    def text(x):
        if isinstance(x, (bytes, bytearray)):
            return bytes(x).hex() if len(x) == 32 else bytes(x).decode("latin-1")
        return x

    good = sign(body)
    assert any(good in (text(a), text(b)) for a, b in seen), (
        "the signature must be checked with hmac.compare_digest, not =="
    )


def test_malformed_event_with_valid_signature_is_400(make_handler):
    handler = make_handler()
    for body in (b"not json", b"[]", json.dumps({"type": "payment.succeeded"}).encode()):
        try:
            _answers(handler, body, headers_for(body), 400, "a signed body that is not a valid event")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AssertionError(
                f"a signed body that is not a valid event crashed the handler with "
                f"{type(exc).__name__} instead of a 400"
            ) from None
