"""Payout worker: turns `order.paid` events from the queue into merchant credits.

Each message is JSON, for example

    {"event_id": "evt_8f2c", "type": "order.paid", "merchant": "m-0042", "amount_cents": 1299}

and credits the merchant's balance in the ledger (SQLite), then tells the merchant through the
notifier service. Production runs several workers at once: `run_workers(..., workers=8)`.

Delivery is at least once, so the credit is keyed by event_id and made in one short
transaction with its dedupe row; the slow notifier call happens outside any transaction (it is
idempotent by key), so workers only ever wait for each other for a few milliseconds.
"""

from __future__ import annotations

import json
import sqlite3
import threading

LEDGER_SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS balances (
    merchant TEXT PRIMARY KEY,
    cents    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS credits (
    event_id     TEXT PRIMARY KEY,
    merchant     TEXT NOT NULL,
    amount_cents INTEGER NOT NULL
);
"""


class Malformed(ValueError):
    """A message that can never be handled, however often it is retried."""


def parse(body: str) -> dict | None:
    """The order.paid event in `body`; None for another event type; Malformed otherwise."""
    try:
        event = json.loads(body)
    except (ValueError, TypeError):
        raise Malformed("not JSON") from None
    if not isinstance(event, dict):
        raise Malformed("not a JSON object")
    if event.get("type") != "order.paid":
        if isinstance(event.get("type"), str):
            return None  # another kind of event: not ours to act on
        raise Malformed("no event type")
    for key in ("event_id", "merchant"):
        if not isinstance(event.get(key), str) or not event[key]:
            raise Malformed(f"{key} must be a non-empty string")
    amount = event.get("amount_cents")
    if type(amount) is not int or amount <= 0:
        raise Malformed("amount_cents must be a positive integer")
    return event


class Consumer:
    """One worker: takes messages from `queue` and applies them to the ledger at `ledger_path`."""

    def __init__(
        self,
        queue,
        ledger_path,
        notifier,
        *,
        visibility_timeout: float = 60.0,
        max_attempts: int = 5,
        base_delay: float = 2.0,
    ):
        self.queue = queue
        self.ledger_path = str(ledger_path)
        self.notifier = notifier
        self.visibility_timeout = visibility_timeout
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self._local = threading.local()
        self._db().executescript(LEDGER_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        """This thread's ledger connection, opened once (a close per message would cost a
        WAL checkpoint each time)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.ledger_path, timeout=30, isolation_level=None)
            db.execute("PRAGMA synchronous = NORMAL")
            self._local.db = db
        return db

    def poll(self) -> bool:
        """Take one message and handle it; False when no message was visible."""
        message = self.queue.receive(visibility_timeout=self.visibility_timeout)
        if message is None:
            return False
        try:
            event = parse(message.body)
        except Malformed as exc:
            self.queue.park(message.receipt, f"malformed: {exc}")
            return True
        if event is not None:
            try:
                self._credit(event)
                self.notifier.notify(
                    event["merchant"], event["amount_cents"], key=event["event_id"]
                )
            except Exception as exc:  # transient: the notifier or the ledger failed this time
                self._retry_later(message, exc)
                return True
        self.queue.delete(message.receipt)
        return True

    def _credit(self, event: dict) -> None:
        """Credit the merchant once per event_id, however often the event is delivered."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            new = db.execute(
                "INSERT INTO credits (event_id, merchant, amount_cents) VALUES (?, ?, ?) "
                "ON CONFLICT (event_id) DO NOTHING",
                (event["event_id"], event["merchant"], event["amount_cents"]),
            ).rowcount
            if new:
                db.execute(
                    "INSERT INTO balances (merchant, cents) VALUES (?, ?) "
                    "ON CONFLICT (merchant) DO UPDATE SET cents = cents + excluded.cents",
                    (event["merchant"], event["amount_cents"]),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _retry_later(self, message, error: Exception) -> None:
        if message.attempts >= self.max_attempts:
            self.queue.park(
                message.receipt,
                f"gave up after {message.attempts} attempts: {type(error).__name__}: {error}",
            )
        else:
            self.queue.release(message.receipt, self.base_delay * 2 ** (message.attempts - 1))


def run_workers(queue, ledger_path, notifier, workers: int = 4, **options) -> None:
    """Drain the queue with `workers` consumers, each on its own thread.

    Returns when no message is visible any more. `options` go to each Consumer.
    """
    consumers = [Consumer(queue, ledger_path, notifier, **options) for _ in range(workers)]

    def drain(consumer: Consumer) -> None:
        while consumer.poll():
            pass

    threads = [threading.Thread(target=drain, args=(c,)) for c in consumers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
