"""Payout worker: turns `order.paid` events from the queue into merchant credits.

Each message is JSON, for example

    {"event_id": "evt_8f2c", "type": "order.paid", "merchant": "m-0042", "amount_cents": 1299}

and credits the merchant's balance in the ledger (SQLite), then tells the merchant through the
notifier service. Production runs several workers at once: `run_workers(..., workers=8)`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing

LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS balances (
    merchant TEXT PRIMARY KEY,
    cents    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS credits (
    event_id     TEXT NOT NULL,
    merchant     TEXT NOT NULL,
    amount_cents INTEGER NOT NULL
);
"""

# Since we went from one worker to eight, SQLite kept failing with "database is locked".
# One lock for the whole process fixed that.
_LEDGER_LOCK = threading.Lock()


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
        with closing(sqlite3.connect(self.ledger_path)) as db, db:
            db.executescript(LEDGER_SCHEMA)

    def poll(self) -> bool:
        """Take one message and handle it; False when no message was visible."""
        message = self.queue.receive(visibility_timeout=10)
        if message is None:
            return False
        with _LEDGER_LOCK:
            event = json.loads(message.body)
            with closing(sqlite3.connect(self.ledger_path)) as db, db:
                db.execute(
                    "INSERT INTO balances (merchant, cents) VALUES (?, 0) "
                    "ON CONFLICT (merchant) DO NOTHING",
                    (event["merchant"],),
                )
                db.execute(
                    "UPDATE balances SET cents = cents + ? WHERE merchant = ?",
                    (event["amount_cents"], event["merchant"]),
                )
                db.execute(
                    "INSERT INTO credits (event_id, merchant, amount_cents) VALUES (?, ?, ?)",
                    (event["event_id"], event["merchant"], event["amount_cents"]),
                )
            self.notifier.notify(event["merchant"], event["amount_cents"], key=event["event_id"])
        self.queue.delete(message.receipt)
        return True


def run_workers(queue, ledger_path, notifier, workers: int = 4, **options) -> None:
    """Drain the queue with `workers` consumers, each on its own thread.

    Returns when no message is visible any more. `options` go to each Consumer.
    """
    consumers = [Consumer(queue, ledger_path, notifier, **options) for _ in range(workers)]

    def drain(consumer: Consumer) -> None:
        while True:
            try:
                if not consumer.poll():
                    return
            except Exception:  # one bad message must not stop the worker
                continue

    threads = [threading.Thread(target=drain, args=(c,)) for c in consumers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
