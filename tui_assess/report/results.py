"""The regrade results file: a small SQLite database beside the sessions.

One row per (snapshot, challenge hash): the same submitted files graded against the same
challenge give the same verdict, so a folder graded twice only grades what is new, two
sessions that submitted identical files are graded once, and a run stopped half-way resumes
where it stopped (every result is committed as soon as it arrives). A comparison with what a
session *recorded* is not stored: it is made per session, each time, from this row.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_assess.errors import UserError

#: The default results file name, in the folder of the sessions.
DEFAULT_NAME = "grades.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS grades (
    snapshot        TEXT NOT NULL,   -- snapshot digest of the graded files
    challenge_hash  TEXT NOT NULL,   -- content hash of the challenge graded against
    challenge_id    TEXT NOT NULL,
    status          TEXT NOT NULL,   -- the run's status: pass, fail, error, timeout, limit
    score           REAL,
    max_score       REAL,
    result          TEXT NOT NULL,   -- the check result as JSON (check --json), plus worker
    graded_at       REAL NOT NULL,   -- Unix seconds
    PRIMARY KEY (snapshot, challenge_hash)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def default_path(session: Path) -> Path:
    return session.parent / DEFAULT_NAME


@dataclass(frozen=True)
class Grade:
    """One stored regrade."""

    snapshot: str
    challenge_hash: str
    challenge_id: str
    status: str
    score: float | None
    max_score: float | None
    result: dict[str, Any]
    graded_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "snapshot": self.snapshot, "challenge_hash": self.challenge_hash,
            "challenge_id": self.challenge_id, "status": self.status, "score": self.score,
            "max_score": self.max_score, "graded_at": self.graded_at,
            "sandbox": self.result.get("sandbox"), "worker": self.result.get("worker"),
            "tests": self.result.get("tests", []), "groups": self.result.get("groups", {}),
            "resources": self.result.get("resources"), "reason": self.result.get("reason", ""),
        }


class ResultsStore:
    """Read and write a results file. ``readonly`` never creates or changes it."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is not None:
            return self._conn
        try:
            if self.readonly:
                if not self.path.is_file():
                    return None
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
                conn.execute("SELECT 1 FROM grades LIMIT 1").fetchall()
            else:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
        except sqlite3.Error as exc:
            if self.readonly:
                return None  # not a results file (or unreadable): no regrades known
            raise UserError(
                f"{self.path} cannot be used as the results file ({exc}); "
                "choose another with --results."
            ) from None
        except OSError as exc:
            raise UserError(f"{self.path} cannot be opened: {exc.strerror or exc}.") from None
        self._conn = conn
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _row(row: tuple[Any, ...]) -> Grade:
        snapshot, chash, cid, status, score, max_score, result, at = row
        try:
            data = json.loads(result)
        except ValueError:
            data = {}
        return Grade(snapshot, chash, cid, status, score, max_score,
                     data if isinstance(data, dict) else {}, at)

    _COLUMNS = ("snapshot, challenge_hash, challenge_id, status, score, max_score, result, "
                "graded_at")

    def get(self, snapshot: str, challenge_hash: str) -> Grade | None:
        conn = self._connect()
        if conn is None:
            return None
        row = conn.execute(
            f"SELECT {self._COLUMNS} FROM grades WHERE snapshot = ? AND challenge_hash = ?",
            (snapshot, challenge_hash),
        ).fetchone()
        return None if row is None else self._row(row)

    def for_snapshot(self, snapshot: str, prefer_hash: str | None = None) -> Grade | None:
        """A regrade of ``snapshot``: against ``prefer_hash`` if stored, else the newest."""
        conn = self._connect()
        if conn is None:
            return None
        rows = [self._row(r) for r in conn.execute(
            f"SELECT {self._COLUMNS} FROM grades WHERE snapshot = ? ORDER BY graded_at",
            (snapshot,),
        )]
        for g in rows:
            if g.challenge_hash == prefer_hash:
                return g
        return rows[-1] if rows else None

    def put(self, challenge_id: str, result: dict[str, Any], *, snapshot: str,
            challenge_hash: str) -> Grade:
        """Store one regrade (committed at once, so an interrupted run keeps it)."""
        conn = self._connect()
        assert conn is not None
        grade = Grade(snapshot, challenge_hash, challenge_id, str(result.get("status")),
                      result.get("score"), result.get("max_score"), result, time.time())
        conn.execute(
            f"INSERT OR REPLACE INTO grades ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (grade.snapshot, grade.challenge_hash, grade.challenge_id, grade.status,
             grade.score, grade.max_score, json.dumps(result, sort_keys=True), grade.graded_at),
        )
        return grade

    def __iter__(self) -> Iterator[Grade]:
        conn = self._connect()
        if conn is None:
            return iter(())
        return (self._row(r) for r in conn.execute(
            f"SELECT {self._COLUMNS} FROM grades ORDER BY graded_at"))
