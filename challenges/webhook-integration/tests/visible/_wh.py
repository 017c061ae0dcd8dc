"""Helpers for the webhook tests: signing, events, a fake clock and sleep."""

import hashlib
import hmac
import json

SECRET = "whsec_9f3b2c7e41d8a5"
NOW = 1_767_225_600  # the handler's clock in every test


def sign(body: bytes, t: int | str = NOW, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def headers_for(body: bytes, t: int | str = NOW, secret: str = SECRET) -> dict:
    return {"Webhook-Signature": f"t={t},v1={sign(body, t, secret)}"}


def event(event_id, type_, payment_id, created=NOW - 60, amount=2599, order_id=None) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": type_,
            "created": created,
            "data": {
                "payment_id": payment_id,
                "order_id": order_id or "ord_" + payment_id.removeprefix("pay_"),
                "amount": amount,
            },
        }
    ).encode()


class FakeSleep:
    """Records the delays asked for; never really sleeps; refuses to loop forever."""

    def __init__(self, limit: int = 50):
        self.calls: list[float] = []
        self.limit = limit

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if len(self.calls) > self.limit:
            raise RuntimeError(f"sleep() called more than {self.limit} times: retries never stop")


class Slow:
    """A scripted provider answer: `status`, but only after `seconds` (or when the test ends)."""

    def __init__(self, seconds: float, status: int = 200):
        self.seconds = seconds
        self.status = status
