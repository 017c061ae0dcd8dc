"""Signature checks: HMAC over "t.body", timestamp tolerance both ways, constant time."""

import hashlib
import hmac
import json

import pytest
from _wh import NOW, SECRET, event, headers_for, sign


def _deliver(handler, body, headers):
    status, _ = handler.handle(headers, body)
    return status


def test_tampered_body_is_rejected(make_handler, provider):
    handler = make_handler()
    body = event("evt_s1", "payment.succeeded", "pay_s1", amount=100)
    headers = headers_for(body)
    forged = body.replace(b'"amount": 100', b'"amount": 1')
    assert forged != body
    assert _deliver(handler, forged, headers) == 401
    assert handler.payment_status("pay_s1") is None
    assert provider.requests == []


@pytest.mark.parametrize(
    "header",
    ["", "garbage", "t=,v1=", "t=abc,v1=00", "v1={sig}", "t={t}", "t={t};v1={sig}", "t={t},v0={sig}"],
)
def test_missing_or_malformed_signature_header_is_401(make_handler, provider, header):
    handler = make_handler()
    body = event("evt_s2", "payment.succeeded", "pay_s2")
    value = header.format(t=NOW, sig=sign(body))
    assert _deliver(handler, body, {"Webhook-Signature": value}) == 401
    assert _deliver(handler, body, {}) == 401
    assert handler.payment_status("pay_s2") is None
    assert provider.requests == []


def test_header_name_is_case_insensitive(make_handler):
    handler = make_handler()
    body = event("evt_s3", "payment.succeeded", "pay_s3")
    value = headers_for(body)["Webhook-Signature"]
    assert _deliver(handler, body, {"webhook-signature": value, "Content-Type": "application/json"}) == 200


def test_stale_delivery_is_rejected(make_handler, provider):
    handler = make_handler()
    body = event("evt_s4", "payment.succeeded", "pay_s4")
    assert _deliver(handler, body, headers_for(body, t=NOW - 301)) == 401
    assert _deliver(handler, body, headers_for(body, t=NOW - 86_400)) == 401
    assert provider.requests == []
    assert _deliver(handler, body, headers_for(body, t=NOW - 300)) == 200


def test_far_future_timestamp_is_rejected(make_handler, provider):
    handler = make_handler()
    body = event("evt_s5", "payment.succeeded", "pay_s5")
    # a signature minted for "next week" would otherwise be replayable all week long
    assert _deliver(handler, body, headers_for(body, t=NOW + 301)) == 401
    assert _deliver(handler, body, headers_for(body, t=NOW + 7 * 86_400)) == 401
    assert provider.requests == []
    assert _deliver(handler, body, headers_for(body, t=NOW + 299)) == 200


def test_custom_tolerance_is_honoured(make_handler):
    handler = make_handler(tolerance=30)
    body = event("evt_s6", "payment.succeeded", "pay_s6")
    assert _deliver(handler, body, headers_for(body, t=NOW - 31)) == 401
    assert _deliver(handler, body, headers_for(body, t=NOW + 31)) == 401
    assert _deliver(handler, body, headers_for(body, t=NOW - 29)) == 200


def test_old_signature_restamped_with_fresh_timestamp_is_rejected(make_handler, provider):
    handler = make_handler()
    body = event("evt_s7", "payment.succeeded", "pay_s7")
    captured = sign(body, t=NOW - 3600)  # sniffed an hour ago
    assert _deliver(handler, body, {"Webhook-Signature": f"t={NOW},v1={captured}"}) == 401
    # a MAC over the body alone does not bind the timestamp, so it must not be accepted either
    body_only = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert _deliver(handler, body, {"Webhook-Signature": f"t={NOW},v1={body_only}"}) == 401
    assert handler.payment_status("pay_s7") is None
    assert provider.requests == []


def test_any_matching_v1_entry_is_accepted(make_handler):
    handler = make_handler()
    body = event("evt_s8", "payment.succeeded", "pay_s8")
    old = sign(body, secret="whsec_retired_one")
    header = f"t={NOW},v1={old},v1={sign(body)}"
    assert _deliver(handler, body, {"Webhook-Signature": header}) == 200
    assert handler.payment_status("pay_s8") == "succeeded"


def test_signature_compared_in_constant_time(monkeypatch, make_handler):
    import secrets

    import webhooks

    real = hmac.compare_digest
    seen = []

    def spy(a, b):
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    monkeypatch.setattr(secrets, "compare_digest", spy)
    for name, value in list(vars(webhooks).items()):
        if value is real:
            monkeypatch.setattr(webhooks, name, spy)

    handler = make_handler()
    body = event("evt_s9", "payment.succeeded", "pay_s9")
    assert _deliver(handler, body, headers_for(body)) == 200

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
        assert _deliver(handler, body, headers_for(body)) == 400
