"""Test helpers: the production database before the migration, and what is in it."""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing

SCHEMA = """
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    fullname   TEXT NOT NULL DEFAULT '',
    mail       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
"""
V1_COLUMNS = ["id", "fullname", "mail", "created_at"]
GIVEN = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances"]
FAMILY = ["Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "van Rossum", "Allen"]


def fullname(rng: random.Random) -> str:
    """Names as production has them: one word, two words, or a family name with a space."""
    kind = rng.random()
    if kind < 0.1:
        return rng.choice(GIVEN)
    return f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}"


def make_db(path, users: int = 2000, seed: int = 42):
    """The production database before the migration: v1's schema and `users` rows."""
    rng = random.Random(seed)
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO users (id, fullname, mail, created_at) VALUES (?, ?, ?, ?)",
            [(i, fullname(rng), f"user{i}@example.com", "2025-06-01 12:00:00")
             for i in range(1, users + 1)],
        )
        db.commit()
    return path


def split(name: str) -> tuple[str, str]:
    """The brief's rule: given_name up to the first space, family_name the rest."""
    given, _, family = name.partition(" ")
    return given, family


def columns(path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return [row[1] for row in db.execute("PRAGMA table_info(users)")]


def rows(path) -> dict[int, dict]:
    with closing(sqlite3.connect(path)) as db:
        db.row_factory = sqlite3.Row
        return {r["id"]: dict(r) for r in db.execute("SELECT * FROM users")}
