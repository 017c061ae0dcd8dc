"""The order-events queue: at-least-once delivery over SQLite (given; do not change).

A message is *visible* until a worker receives it; receiving hides it for `visibility_timeout`
seconds and hands out a receipt. The worker then either deletes it (done), releases it (try
again after a delay) or parks it (never again). A message that is neither deleted, released
nor parked before its visibility timeout ends becomes visible again and is delivered once more,
with `attempts` one higher: that is what at-least-once means. Only the latest receipt of a
message is valid: after a redelivery the old receipt does nothing.

The tests' copy of the queue the candidate is given (starter/sqlqueue.py): the same code.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id          INTEGER PRIMARY KEY,
    body        TEXT NOT NULL,
    visible_at  REAL NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    receipt     TEXT
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (visible_at, id);
CREATE TABLE IF NOT EXISTS parked (
    id        INTEGER PRIMARY KEY,
    body      TEXT NOT NULL,
    attempts  INTEGER NOT NULL,
    reason    TEXT NOT NULL,
    parked_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Message:
    id: int
    body: str
    """The message as the producer sent it: JSON text, or anything else a buggy producer sent."""
    attempts: int
    """1 on the first delivery, 2 on the second, ..."""
    receipt: str


class Queue:
    """One queue in one SQLite file. Safe to share between threads."""

    def __init__(self, path: str, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self.clock = clock
        self._lock = threading.Lock()  # one writer at a time in this process
        self._local = threading.local()
        db = self._connect()
        db.execute("PRAGMA journal_mode = WAL")  # stays set in the file
        db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection, opened once: opening and closing one per call costs a
        WAL checkpoint each time."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: no fsync per commit
            self._local.db = db
        return db

    def send(self, body: Any, delay: float = 0.0) -> int:
        """Enqueue a message (a dict is sent as JSON); return its id."""
        text = body if isinstance(body, str) else json.dumps(body)
        with self._lock:
            db = self._connect()
            cur = db.execute(
                "INSERT INTO messages (body, visible_at) VALUES (?, ?)",
                (text, self.clock() + delay),
            )
            return int(cur.lastrowid or 0)

    def receive(self, visibility_timeout: float) -> Message | None:
        """The oldest visible message, hidden for `visibility_timeout` seconds; None if none."""
        if visibility_timeout <= 0:
            raise ValueError("visibility_timeout must be positive")
        with self._lock:
            db = self._connect()
            now = self.clock()
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT id, body, attempts FROM messages WHERE visible_at <= ? "
                    "ORDER BY visible_at, id LIMIT 1",
                    (now,),
                ).fetchone()
                if row is None:
                    db.execute("COMMIT")
                    return None
                receipt = secrets.token_hex(8)
                db.execute(
                    "UPDATE messages SET visible_at = ?, attempts = attempts + 1, receipt = ? "
                    "WHERE id = ?",
                    (now + visibility_timeout, receipt, row[0]),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return Message(row[0], row[1], row[2] + 1, receipt)

    def _settle(self, receipt: str, sql: str, params: tuple[Any, ...]) -> bool:
        with self._lock:
            db = self._connect()
            cur = db.execute(sql, (*params, receipt))
            return cur.rowcount == 1

    def delete(self, receipt: str) -> bool:
        """Done with it: remove the message. False when the receipt is no longer valid."""
        return self._settle(receipt, "DELETE FROM messages WHERE receipt = ?", ())

    def release(self, receipt: str, delay: float) -> bool:
        """Not done: make the message visible again `delay` seconds from now."""
        if delay < 0:
            raise ValueError("delay must not be negative")
        return self._settle(
            receipt,
            "UPDATE messages SET visible_at = ?, receipt = NULL WHERE receipt = ?",
            (self.clock() + delay,),
        )

    def extend(self, receipt: str, seconds: float) -> bool:
        """Still working on it: keep it hidden for `seconds` more from now."""
        return self._settle(
            receipt,
            "UPDATE messages SET visible_at = ? WHERE receipt = ?",
            (self.clock() + seconds,),
        )

    def park(self, receipt: str, reason: str) -> bool:
        """Never deliver it again: move it to the parked messages, with the reason."""
        with self._lock:
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                "SELECT id, body, attempts FROM messages WHERE receipt = ?", (receipt,)
            ).fetchone()
            if row is None:
                db.execute("COMMIT")
                return False
            db.execute(
                "INSERT INTO parked (id, body, attempts, reason, parked_at) VALUES (?, ?, ?, ?, ?)",
                (*row, str(reason), self.clock()),
            )
            db.execute("DELETE FROM messages WHERE id = ?", (row[0],))
            db.execute("COMMIT")
            return True

    def counts(self) -> dict[str, int]:
        """{"visible": deliverable now, "hidden": received or delayed, "parked": parked}."""
        db = self._connect()
        now = self.clock()
        visible = db.execute(
            "SELECT count(*) FROM messages WHERE visible_at <= ?", (now,)
        ).fetchone()[0]
        total = db.execute("SELECT count(*) FROM messages").fetchone()[0]
        parked = db.execute("SELECT count(*) FROM parked").fetchone()[0]
        return {"visible": visible, "hidden": total - visible, "parked": parked}
