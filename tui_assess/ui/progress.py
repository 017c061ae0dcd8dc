"""Practice progress: attempts, solved, best time, per challenge, in a small SQLite file.

Headless (no Textual): data_home()/progress.sqlite, through the standard sqlite3 module
(sqlite-utils cost the app's start-up ~25 ms of imports for one small table).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_assess.paths import data_home

TABLE = "progress"
# The table as sqlite-utils created it (files written before keep working, and vice versa).
CREATE = f"""CREATE TABLE IF NOT EXISTS "{TABLE}" (
   "challenge_id" TEXT PRIMARY KEY,
   "attempts" INTEGER NOT NULL DEFAULT 0,
   "solved" INTEGER NOT NULL DEFAULT 0,
   "best_time_s" REAL,
   "opened" INTEGER NOT NULL DEFAULT 0,
   "gave_up" INTEGER NOT NULL DEFAULT 0,
   "hints_shown" INTEGER NOT NULL DEFAULT 0,
   "updated_at" REAL,
   "attempt_started" REAL,
   "attempt_number" INTEGER
)"""
LATER_COLUMNS = (("attempt_started", "REAL"), ("attempt_number", "INTEGER"))


@dataclass(frozen=True)
class Attempt:
    """The practice attempt a workspace opens into: its clock runs from `started` (Unix
    seconds), also while the app is closed, like an exam's."""

    started: float
    limit_s: float
    resumed: bool
    """True when an open attempt continues; False for a new one (the full time)."""
    number: int
    """1 for the first attempt at this challenge, 2 after the first was solved, ..."""

    def seconds_left(self, now: float | None = None) -> float:
        return self.started + self.limit_s - (time.time() if now is None else now)

    def elapsed(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.started

    def announcement(self) -> str | None:
        """What opening the workspace says about the clock (None for a first attempt: the
        countdown says it all)."""
        limit = format_duration(self.limit_s)
        if self.resumed:
            left = self.seconds_left()
            if left <= 0:
                return f"Resumed attempt {self.number}: its {limit} are up; keep going in practice."
            return f"Resumed attempt {self.number}: {format_duration(left)} of {limit} left."
        if self.number > 1:
            return f"New attempt ({self.number}): the full {limit} starts now."
        return None


@dataclass(frozen=True)
class Progress:
    challenge_id: str
    attempts: int = 0
    """Submissions made."""
    solved: bool = False
    """A submission passed every hidden test."""
    best_time_s: float | None = None
    """Shortest time from opening the workspace to a solving submission."""
    opened: bool = False
    gave_up: bool = False
    hints_shown: int = 0

    @property
    def status(self) -> str:
        """new / attempted / solved, as the catalog shows it."""
        if self.solved:
            return "solved"
        if self.attempts or self.opened:
            return "attempted"
        return "new"


class ProgressStore:
    """Read and update progress rows; every write is one small transaction."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_home() / "progress.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: every write below is one statement, so one small transaction.
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute(CREATE)
        columns = {r["name"] for r in self.db.execute(f"PRAGMA table_info([{TABLE}])")}
        for name, kind in LATER_COLUMNS:
            if name not in columns:  # a progress file from before attempts were kept
                self.db.execute(f"ALTER TABLE [{TABLE}] ADD COLUMN [{name}] {kind}")

    def _row(self, challenge_id: str) -> dict[str, Any]:
        row = self.db.execute(f"SELECT * FROM [{TABLE}] WHERE challenge_id = ?",
                              (challenge_id,)).fetchone()
        return dict(row) if row is not None else {}

    def get(self, challenge_id: str) -> Progress:
        r = self._row(challenge_id)
        if not r:
            return Progress(challenge_id)
        return Progress(
            challenge_id,
            attempts=r["attempts"],
            solved=bool(r["solved"]),
            best_time_s=r["best_time_s"],
            opened=bool(r["opened"]),
            gave_up=bool(r["gave_up"]),
            hints_shown=r["hints_shown"],
        )

    def all(self) -> dict[str, Progress]:
        ids = [r[0] for r in self.db.execute(f"SELECT challenge_id FROM [{TABLE}] ORDER BY rowid")]
        return {i: self.get(i) for i in ids}

    def _update(self, challenge_id: str, **values: object) -> Progress:
        values["updated_at"] = time.time()
        names = list(values)  # our own keyword names, never user input
        self.db.execute(
            f"INSERT INTO [{TABLE}] (challenge_id, {', '.join(names)}) "
            f"VALUES (?{', ?' * len(names)}) ON CONFLICT(challenge_id) DO UPDATE SET "
            + ", ".join(f"{n} = excluded.{n}" for n in names),
            (challenge_id, *values.values()),
        )
        return self.get(challenge_id)

    def opened(self, challenge_id: str) -> Progress:
        return self._update(challenge_id, opened=1)

    def hint_shown(self, challenge_id: str, count: int) -> Progress:
        current = self.get(challenge_id)
        return self._update(challenge_id, hints_shown=max(count, current.hints_shown))

    def gave_up(self, challenge_id: str) -> Progress:
        return self._update(challenge_id, gave_up=1)

    def submitted(self, challenge_id: str, solved: bool, elapsed_s: float) -> Progress:
        """Count a submission; a solving one may set a new best time and ends the attempt
        (the next opening starts a new one with the full time)."""
        current = self.get(challenge_id)
        values: dict[str, object] = {"attempts": current.attempts + 1, "opened": 1}
        if solved:
            values["solved"] = 1
            values["attempt_started"] = None
            if current.best_time_s is None or elapsed_s < current.best_time_s:
                values["best_time_s"] = round(elapsed_s, 1)
        return self._update(challenge_id, **values)

    def attempt(self, challenge_id: str, limit_s: float, *, new: bool = False) -> Attempt:
        """The open attempt at this challenge, or a new one (also when `new`: a reset)."""
        row = self._row(challenge_id)
        number = row.get("attempt_number") or 0
        started = row.get("attempt_started")
        if started is not None and not new:
            return Attempt(float(started), limit_s, resumed=True, number=max(number, 1))
        now = time.time()
        self._update(challenge_id, attempt_started=now, attempt_number=number + 1)
        return Attempt(now, limit_s, resumed=False, number=number + 1)


def format_duration(seconds: float | None) -> str:
    """'12:05' (m:ss) or '1:02:05'; '' for None."""
    if seconds is None:
        return ""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
