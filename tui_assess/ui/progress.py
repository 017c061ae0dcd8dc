"""Practice progress: attempts, solved, best time, per challenge, in a small SQLite file.

Headless (no Textual): data_home()/progress.sqlite, written through sqlite-utils.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from tui_assess.paths import data_home

TABLE = "progress"


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
        self.db = sqlite_utils.Database(self.path)
        if TABLE not in self.db.table_names():
            self.db.table(TABLE).create(
                {
                    "challenge_id": str,
                    "attempts": int,
                    "solved": int,
                    "best_time_s": float,
                    "opened": int,
                    "gave_up": int,
                    "hints_shown": int,
                    "updated_at": float,
                    "attempt_started": float,
                    "attempt_number": int,
                },
                pk="challenge_id",
                not_null={"attempts", "solved", "opened", "gave_up", "hints_shown"},
                defaults={"attempts": 0, "solved": 0, "opened": 0, "gave_up": 0, "hints_shown": 0},
            )
        columns = self.db[TABLE].columns_dict  # type: ignore[union-attr]
        for name, kind in (("attempt_started", float), ("attempt_number", int)):
            if name not in columns:  # a progress file from before attempts were kept
                self.db[TABLE].add_column(name, kind)  # type: ignore[union-attr]

    def get(self, challenge_id: str) -> Progress:
        rows = list(self.db[TABLE].rows_where("challenge_id = ?", [challenge_id]))
        if not rows:
            return Progress(challenge_id)
        r = rows[0]
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
        return {r["challenge_id"]: self.get(r["challenge_id"]) for r in self.db[TABLE].rows}

    def _update(self, challenge_id: str, **values: object) -> Progress:
        values["updated_at"] = time.time()
        self.db.table(TABLE).upsert({"challenge_id": challenge_id, **values}, pk="challenge_id")
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
        rows = list(self.db[TABLE].rows_where("challenge_id = ?", [challenge_id]))
        row = rows[0] if rows else {}
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
