"""Payment-provider webhooks for the shop.

The provider POSTs an event to /webhooks/payments; the web layer calls
WebhookHandler.handle(headers, body) and sends back the (status, body) it returns.
A succeeded payment is handed to the fulfilment service (POST {provider_url}/fulfilments).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
import urllib.error
import urllib.request
from contextlib import closing

SIGNATURE_HEADER = "webhook-signature"

STATUS_BY_TYPE = {
    "payment.succeeded": "succeeded",
    "payment.failed": "failed",
    "payment.refunded": "refunded",
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    order_id TEXT,
    amount INTEGER
);
CREATE TABLE IF NOT EXISTS fulfilments (
    payment_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,          -- fulfilled | pending | rejected
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
"""


class WebhookHandler:
    def __init__(
        self,
        secret: str,
        db_path,
        provider_url: str,
        *,
        clock=time.time,
        sleep=time.sleep,
        tolerance: int = 300,
        max_attempts: int = 4,
        base_delay: float = 0.5,
        timeout: float = 2.0,
    ):
        self.secret = secret.encode()
        self.db_path = str(db_path)
        self.provider_url = provider_url.rstrip("/")
        self.clock = clock
        self.sleep = sleep
        self.tolerance = tolerance
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.timeout = timeout
        with closing(self._connect()) as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=30, isolation_level=None)

    # ------------------------------------------------------------------ webhook entry point

    def handle(self, headers: dict, body: bytes) -> tuple[int, bytes]:
        header = ""
        for name, value in headers.items():
            if name.lower() == SIGNATURE_HEADER:
                header = value
        parts = dict(p.split("=", 1) for p in header.split(","))
        expected = hmac.new(
            self.secret, parts["t"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if parts.get("v1") != expected:
            return 401, b'{"error": "invalid signature"}'

        event = json.loads(body)
        data = event.get("data") or {}
        payment_id = data.get("payment_id")
        status = STATUS_BY_TYPE.get(event["type"])
        if status and payment_id:
            with closing(self._connect()) as db:
                db.execute(
                    "INSERT INTO payments (id, status, order_id, amount) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET status = excluded.status",
                    (payment_id, status, data.get("order_id"), data.get("amount")),
                )
            if status == "succeeded":
                self._fulfil(payment_id)
        return 200, b'{"received": true}'

    # ------------------------------------------------------------------ fulfilment

    def _fulfil(self, payment_id: str) -> str:
        with closing(self._connect()) as db:
            order_id, amount = db.execute(
                "SELECT order_id, amount FROM payments WHERE id = ?", (payment_id,)
            ).fetchone()
        request = urllib.request.Request(
            self.provider_url + "/fulfilments",
            data=json.dumps(
                {"payment_id": payment_id, "order_id": order_id, "amount": amount}
            ).encode(),
            headers={"Content-Type": "application/json", "Idempotency-Key": payment_id},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request) as response:
                response.read()
            status, error = "fulfilled", None
        except urllib.error.URLError as exc:
            status, error = "pending", str(exc)
        with closing(self._connect()) as db:
            db.execute(
                "INSERT INTO fulfilments (payment_id, status, attempts, last_error) "
                "VALUES (?, ?, 1, ?) ON CONFLICT(payment_id) DO UPDATE SET "
                "status = excluded.status, attempts = attempts + 1, last_error = excluded.last_error",
                (payment_id, status, error),
            )
        return status

    def retry_pending(self) -> int:
        """Retry every pending fulfilment; return how many are now fulfilled."""
        with closing(self._connect()) as db:
            pending = [r[0] for r in db.execute(
                "SELECT payment_id FROM fulfilments WHERE status = 'pending' ORDER BY payment_id"
            )]
        return sum(self._fulfil(pid) == "fulfilled" for pid in pending)

    # ------------------------------------------------------------------ read side

    def payment_status(self, payment_id: str) -> str | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT status FROM payments WHERE id = ?", (payment_id,)).fetchone()
        return row[0] if row else None

    def fulfilment_status(self, payment_id: str) -> str | None:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT status FROM fulfilments WHERE payment_id = ?", (payment_id,)
            ).fetchone()
        return row[0] if row else None
