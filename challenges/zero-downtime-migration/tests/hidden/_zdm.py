"""Test helpers: the production database, writers that run during the migration, checks."""

from __future__ import annotations

import random
import sqlite3
import threading
from contextlib import closing

from _apps import V1, V2

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


def joined(given: str, family: str) -> str:
    return given if family == "" else f"{given} {family}"


def columns(path) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return [row[1] for row in db.execute("PRAGMA table_info(users)")]


def rows(path) -> dict[int, dict]:
    with closing(sqlite3.connect(path)) as db:
        db.row_factory = sqlite3.Row
        return {r["id"]: dict(r) for r in db.execute("SELECT * FROM users")}


def inconsistent(path) -> list[str]:
    """Rows where the old and the new columns disagree, in words (first few)."""
    problems = []
    for uid, r in rows(path).items():
        if "fullname" in r and "given_name" in r and r["given_name"] is not None:
            if r["fullname"] != joined(r["given_name"], r["family_name"] or ""):
                problems.append(
                    f"user {uid}: fullname {r['fullname']!r} but given/family "
                    f"{r['given_name']!r}/{r['family_name']!r}"
                )
        if "mail" in r and "email" in r and r["email"] is not None and r["mail"] != r["email"]:
            problems.append(f"user {uid}: mail {r['mail']!r} but email {r['email']!r}")
    return problems[:3]


class Writer(threading.Thread):
    """One version of the service, writing while the migration runs: creates users, renames
    and re-mails its own. Remembers what each acknowledged write left behind."""

    def __init__(self, path, version: str, seed: int, pause: float = 0.001) -> None:
        super().__init__(daemon=True)
        self.path, self.version, self.pause = path, version, pause
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        # id -> (given_name, family_name, email) that the acknowledged writes left
        self.expected: dict[int, tuple[str, str, str]] = {}
        self.errors: list[str] = []
        self.writes = 0

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                self.one(n)
                self.writes += 1
            except Exception as exc:  # noqa: BLE001 - reported by the test
                self.errors.append(f"{type(exc).__name__}: {exc}")
                if len(self.errors) > 20:
                    return
            self.stop.wait(self.pause)

    def one(self, n: int) -> None:
        mine = list(self.expected)
        name = fullname(self.rng)
        mail = f"{self.version}-{self.ident}-{n}@example.com"
        op = self.rng.random() if mine else 0.0
        uid = self.rng.choice(mine) if mine else 0
        if self.version == "v1":
            if op < 0.5:
                uid = V1.create_user(self.path, name, mail)
                self.expected[uid] = (*split(name), mail)
            elif op < 0.8:
                V1.rename_user(self.path, uid, name)
                self.expected[uid] = (*split(name), self.expected[uid][2])
            else:
                V1.change_mail(self.path, uid, mail)
                self.expected[uid] = (*self.expected[uid][:2], mail)
        else:
            given, family = self.two_part_name()
            if op < 0.5:
                uid = V2.create_user(self.path, given, family, mail)
                self.expected[uid] = (given, family, mail)
            elif op < 0.8:
                V2.rename_user(self.path, uid, given, family)
                self.expected[uid] = (given, family, self.expected[uid][2])
            else:
                V2.change_email(self.path, uid, mail)
                self.expected[uid] = (*self.expected[uid][:2], mail)

    def two_part_name(self) -> tuple[str, str]:
        # v2 lets people type both parts: a given name with a space ("Mary Ann"), or only one
        if self.rng.random() < 0.1:
            return self.rng.choice(GIVEN), ""
        return self.rng.choice(["Mary Ann", "Jean Luc", *GIVEN]), self.rng.choice(FAMILY)

    def finish(self) -> None:
        self.stop.set()
        self.join(30)


def lost_writes(path, writers) -> list[str]:
    """Acknowledged writes that are not in the database as written (first few), in words.

    v1 wrote fullname and mail; v2 the two name parts and email. Each is compared on the
    columns it wrote (while they exist), and through the name rules once they are gone."""
    now = rows(path)
    problems = []
    for w in writers:
        for uid, (given, family, mail) in w.expected.items():
            r = now.get(uid)
            if r is None:
                problems.append(f"{w.version} created user {uid} and it is gone")
                continue
            if w.version == "v1" and "fullname" in r:
                name = split(r["fullname"])
            elif r.get("given_name") is not None:
                name = (r["given_name"], r.get("family_name"))
            elif r.get("fullname") == joined(given, family):  # v2 wrote, the migration undone
                name = (given, family)
            else:
                name = split(r.get("fullname") or "")
            mail_column = "mail" if w.version == "v1" and "mail" in r else "email"
            got = (*name, r.get(mail_column, r.get("mail")))
            if got != (given, family, mail):
                problems.append(
                    f"{w.version} wrote user {uid} as {(given, family, mail)}; it reads {got}"
                )
    return problems[:3]
