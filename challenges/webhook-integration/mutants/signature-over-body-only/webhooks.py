"""Payment-provider webhooks for the shop.

The provider POSTs an event to /webhooks/payments; the web layer calls
WebhookHandler.handle(headers, body) and sends back the (status, body) it returns.
A succeeded payment is handed to the fulfilment service (POST {provider_url}/fulfilments).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
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
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    payment_id TEXT,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    order_id TEXT,
    amount INTEGER,
    last_event_created INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS fulfilments (
    payment_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,          -- fulfilled | pending | rejected | cancelled
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
"""

_UNAUTHORIZED = (401, b'{"error": "invalid signature"}')
_BAD_REQUEST = (400, b'{"error": "malformed event"}')
_OK = (200, b'{"received": true}')


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
        if not self._verify(headers, body):
            return _UNAUTHORIZED
        try:
            event = json.loads(body)
            event_id = event["id"]
            event_type = event["type"]
            created = event["created"]
            data = event.get("data") or {}
            if not (isinstance(event_id, str) and event_id and isinstance(event_type, str)):
                raise ValueError("bad id/type")
            if not isinstance(created, int) or isinstance(created, bool):
                raise ValueError("bad created")
            if not isinstance(data, dict):
                raise ValueError("bad data")
        except (ValueError, KeyError, TypeError, AttributeError):
            return _BAD_REQUEST
        to_fulfil = self._apply(event_id, event_type, created, data)
        if to_fulfil:
            self._fulfil(to_fulfil)
        return _OK

    def _verify(self, headers: dict, body: bytes) -> bool:
        header = None
        for name, value in headers.items():
            if isinstance(name, str) and name.lower() == SIGNATURE_HEADER:
                header = value
        if not isinstance(header, str):
            return False
        timestamp, signatures = None, []
        for part in header.split(","):
            key, sep, value = part.strip().partition("=")
            if not sep:
                continue
            if key == "t":
                timestamp = value
            elif key == "v1":
                signatures.append(value)
        if timestamp is None or not signatures:
            return False
        try:
            ts = int(timestamp)
        except ValueError:
            return False
        if abs(self.clock() - ts) > self.tolerance:  # too old (replay) or from the future
            return False
        expected = hmac.new(
            self.secret, body, hashlib.sha256
        ).hexdigest().encode()
        valid = False
        for candidate in signatures:  # several v1 entries while the secret is being rotated
            valid |= hmac.compare_digest(expected, candidate.encode("utf-8", "replace"))
        return valid

    def _apply(self, event_id: str, event_type: str, created: int, data: dict) -> str | None:
        """Record the event once and move the payment; return a payment id to fulfil."""
        payment_id = data.get("payment_id")
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                inserted = db.execute(
                    "INSERT OR IGNORE INTO events (id, type, payment_id, created) VALUES (?, ?, ?, ?)",
                    (event_id, event_type, payment_id, created),
                ).rowcount
                status = STATUS_BY_TYPE.get(event_type)
                fulfil = None
                if inserted and status and isinstance(payment_id, str):
                    fulfil = self._move_payment(db, payment_id, status, created, data)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return fulfil

    def _move_payment(self, db, payment_id, status, created, data) -> str | None:
        row = db.execute(
            "SELECT status, last_event_created FROM payments WHERE id = ?", (payment_id,)
        ).fetchone()
        if row is None:
            db.execute(
                "INSERT INTO payments (id, status, order_id, amount, last_event_created) "
                "VALUES (?, ?, ?, ?, ?)",
                (payment_id, status, data.get("order_id"), data.get("amount"), created),
            )
        else:
            current, last_created = row
            if current == "refunded" or created < last_created:
                return None  # refunds are final; an older event never overrides a newer one
            db.execute(
                "UPDATE payments SET status = ?, last_event_created = ?, "
                "order_id = COALESCE(order_id, ?), amount = COALESCE(amount, ?) WHERE id = ?",
                (status, created, data.get("order_id"), data.get("amount"), payment_id),
            )
        if status != "succeeded":
            return None
        claimed = db.execute(
            "INSERT OR IGNORE INTO fulfilments (payment_id, status) VALUES (?, 'pending')",
            (payment_id,),
        ).rowcount
        return payment_id if claimed else None

    # ------------------------------------------------------------------ fulfilment

    def _fulfil(self, payment_id: str) -> str:
        with closing(self._connect()) as db:
            order_id, amount = db.execute(
                "SELECT order_id, amount FROM payments WHERE id = ?", (payment_id,)
            ).fetchone()
        body = json.dumps({"payment_id": payment_id, "order_id": order_id, "amount": amount}).encode()
        outcome, error, attempts = "pending", None, 0
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                self.sleep(self.base_delay * 2 ** (attempt - 2))
            attempts += 1
            request = urllib.request.Request(
                self.provider_url + "/fulfilments",
                data=body,
                headers={"Content-Type": "application/json", "Idempotency-Key": payment_id},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
                outcome, error = "fulfilled", None
                break
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code}"
                exc.close()
                if exc.code < 500:  # the provider refused it: retrying will not help
                    outcome = "rejected"
                    break
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"  # timeouts, refused connections, resets
        with closing(self._connect()) as db:
            db.execute(
                "UPDATE fulfilments SET status = ?, attempts = attempts + ?, last_error = ? "
                "WHERE payment_id = ?",
                (outcome, attempts, error, payment_id),
            )
        return outcome

    def retry_pending(self) -> int:
        """Retry every pending fulfilment of a still-succeeded payment; return how many succeed."""
        with closing(self._connect()) as db:
            db.execute(
                "UPDATE fulfilments SET status = 'cancelled' WHERE status = 'pending' AND "
                "payment_id IN (SELECT id FROM payments WHERE status != 'succeeded')"
            )
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
