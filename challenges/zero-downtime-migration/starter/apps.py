"""The SQL of the two versions of the accounts service, exactly as production runs it (given).

During the migration both versions run at once against the same database: v1 (today's code,
`fullname` and `mail`) and v2 (the new code, `given_name`, `family_name` and `email`). Each
call opens its own connection and commits, like a request. Do not change this file: the tests
use their own copy, and production runs this code whatever your migration does.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

CREATED = "2026-01-01 09:00:00"


def connect(db_path) -> sqlite3.Connection:
    """A request's connection: waits up to 10 s for a lock, like the service does."""
    return sqlite3.connect(db_path, timeout=10)


class V1:
    """Today's code."""

    @staticmethod
    def create_user(db_path, fullname: str, mail: str) -> int:
        with closing(connect(db_path)) as db, db:
            cur = db.execute(
                "INSERT INTO users (fullname, mail, created_at) VALUES (?, ?, ?)",
                (fullname, mail, CREATED),
            )
            return int(cur.lastrowid or 0)

    @staticmethod
    def rename_user(db_path, user_id: int, fullname: str) -> None:
        with closing(connect(db_path)) as db, db:
            db.execute("UPDATE users SET fullname = ? WHERE id = ?", (fullname, user_id))

    @staticmethod
    def change_mail(db_path, user_id: int, mail: str) -> None:
        with closing(connect(db_path)) as db, db:
            db.execute("UPDATE users SET mail = ? WHERE id = ?", (mail, user_id))

    @staticmethod
    def get_user(db_path, user_id: int) -> tuple[str, str] | None:
        with closing(connect(db_path)) as db:
            row = db.execute("SELECT fullname, mail FROM users WHERE id = ?", (user_id,)).fetchone()
            return None if row is None else (row[0], row[1])


class V2:
    """The new code: the name in two parts, `mail` called `email`."""

    @staticmethod
    def create_user(db_path, given_name: str, family_name: str, email: str) -> int:
        with closing(connect(db_path)) as db, db:
            cur = db.execute(
                "INSERT INTO users (given_name, family_name, email, created_at) "
                "VALUES (?, ?, ?, ?)",
                (given_name, family_name, email, CREATED),
            )
            return int(cur.lastrowid or 0)

    @staticmethod
    def rename_user(db_path, user_id: int, given_name: str, family_name: str) -> None:
        with closing(connect(db_path)) as db, db:
            db.execute(
                "UPDATE users SET given_name = ?, family_name = ? WHERE id = ?",
                (given_name, family_name, user_id),
            )

    @staticmethod
    def change_email(db_path, user_id: int, email: str) -> None:
        with closing(connect(db_path)) as db, db:
            db.execute("UPDATE users SET email = ? WHERE id = ?", (email, user_id))

    @staticmethod
    def get_user(db_path, user_id: int) -> tuple[str, str, str] | None:
        with closing(connect(db_path)) as db:
            row = db.execute(
                "SELECT given_name, family_name, email FROM users WHERE id = ?", (user_id,)
            ).fetchone()
            return None if row is None else (row[0], row[1], row[2])
