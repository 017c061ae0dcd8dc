"""Migration ACC-219: `users.fullname` becomes `given_name` + `family_name`, `mail` becomes `email`.

Run by the deploy pipeline, one step at a time, while the accounts service is live:

    expand()    -> v2 is deployed next to v1
    backfill()
    contract()  -> after v1 is switched off

If a deploy goes wrong, the pipeline runs the undo_*() of each step done, newest first.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing


def _connect(db_path) -> sqlite3.Connection:
    return sqlite3.connect(db_path, timeout=30)


def expand(db_path) -> None:
    with closing(_connect(db_path)) as db, db:
        db.execute("ALTER TABLE users RENAME COLUMN mail TO email")
        db.execute("ALTER TABLE users ADD COLUMN given_name TEXT")
        db.execute("ALTER TABLE users ADD COLUMN family_name TEXT")


def backfill(db_path, batch_size: int = 500) -> int:
    with closing(_connect(db_path)) as db, db:
        cur = db.execute(
            "UPDATE users SET given_name = substr(fullname, 1, instr(fullname, ' ') - 1), "
            "family_name = substr(fullname, instr(fullname, ' ') + 1)"
        )
        return cur.rowcount


def contract(db_path) -> None:
    with closing(_connect(db_path)) as db, db:
        db.execute("ALTER TABLE users DROP COLUMN fullname")


def undo_expand(db_path) -> None:
    raise NotImplementedError("no way back: restore last night's backup")


def undo_backfill(db_path) -> None:
    raise NotImplementedError("no way back: restore last night's backup")


def undo_contract(db_path) -> None:
    raise NotImplementedError("no way back: restore last night's backup")
