"""Migration ACC-219: `users.fullname` becomes `given_name` + `family_name`, `mail` becomes `email`.

Expand, then contract, while both versions of the service keep writing:

    expand()    new columns next to the old ones, and triggers that keep the two in step
                whichever version writes (v1 writes the old columns, v2 the new ones)
    backfill()  fills the new columns of the rows written before expand, in short batches
    contract()  once v1 is gone: drop the triggers and the old columns

Each step has an undo_*() that returns to the state before it, with every row intact.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

# The name rules, in SQL: given_name is fullname up to its first space, family_name the rest.
GIVEN = "CASE WHEN instr({0}, ' ') > 0 THEN substr({0}, 1, instr({0}, ' ') - 1) ELSE {0} END"
FAMILY = "CASE WHEN instr({0}, ' ') > 0 THEN substr({0}, instr({0}, ' ') + 1) ELSE '' END"
JOINED = "CASE WHEN {1} = '' THEN {0} ELSE {0} || ' ' || {1} END"


def _given(col: str) -> str:
    return GIVEN.format(col)


def _family(col: str) -> str:
    return FAMILY.format(col)


def _joined(given: str, family: str) -> str:
    return JOINED.format(given, family)


# Each trigger copies one side to the other only when the two disagree, so a copy made by one
# trigger never sets off the other (and what v2 wrote is never re-split).
TRIGGERS = {
    "users_sync_insert_v1": f"""
        AFTER INSERT ON users WHEN NEW.given_name IS NULL BEGIN
            UPDATE users SET given_name = {_given("NEW.fullname")},
                             family_name = {_family("NEW.fullname")},
                             email = NEW.mail
            WHERE id = NEW.id;
        END""",
    "users_sync_insert_v2": f"""
        AFTER INSERT ON users WHEN NEW.given_name IS NOT NULL BEGIN
            UPDATE users SET fullname = {_joined("NEW.given_name", "NEW.family_name")},
                             mail = NEW.email
            WHERE id = NEW.id;
        END""",
    "users_sync_name_v1": f"""
        AFTER UPDATE OF fullname ON users
        WHEN NEW.fullname IS NOT {_joined("NEW.given_name", "NEW.family_name")} BEGIN
            UPDATE users SET given_name = {_given("NEW.fullname")},
                             family_name = {_family("NEW.fullname")}
            WHERE id = NEW.id;
        END""",
    "users_sync_name_v2": f"""
        AFTER UPDATE OF given_name, family_name ON users
        WHEN NEW.fullname IS NOT {_joined("NEW.given_name", "NEW.family_name")} BEGIN
            UPDATE users SET fullname = {_joined("NEW.given_name", "NEW.family_name")}
            WHERE id = NEW.id;
        END""",
    "users_sync_mail_v1": """
        AFTER UPDATE OF mail ON users WHEN NEW.email IS NOT NEW.mail BEGIN
            UPDATE users SET email = NEW.mail WHERE id = NEW.id;
        END""",
    "users_sync_mail_v2": """
        AFTER UPDATE OF email ON users WHEN NEW.mail IS NOT NEW.email BEGIN
            UPDATE users SET mail = NEW.email WHERE id = NEW.id;
        END""",
}

NOT_BACKFILLED = "given_name IS NULL OR family_name IS NULL OR email IS NULL"


def _connect(db_path) -> sqlite3.Connection:
    # autocommit mode: every transaction below is explicit, and as short as it can be
    return sqlite3.connect(db_path, timeout=30, isolation_level=None)


def _columns(db: sqlite3.Connection) -> set[str]:
    return {row[1] for row in db.execute("PRAGMA table_info(users)")}


def _in_transaction(db_path, work) -> None:
    with closing(_connect(db_path)) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            work(db)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def _create_triggers(db: sqlite3.Connection) -> None:
    for name, body in TRIGGERS.items():
        db.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


def _drop_triggers(db: sqlite3.Connection) -> None:
    for name in TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")


def expand(db_path) -> None:
    """Add the new columns and the triggers that keep old and new in step. One short
    transaction: v1 keeps running, v2 can start as soon as it returns."""

    def work(db: sqlite3.Connection) -> None:
        have = _columns(db)
        for column in ("given_name", "family_name", "email"):
            if column not in have:
                db.execute(f"ALTER TABLE users ADD COLUMN {column} TEXT")
        _create_triggers(db)

    _in_transaction(db_path, work)


def undo_expand(db_path) -> None:
    """Back to the schema before expand (v2 must be stopped); rows v2 wrote keep their
    fullname and mail, which the triggers filled."""

    def work(db: sqlite3.Connection) -> None:
        _drop_triggers(db)
        have = _columns(db)
        for column in ("given_name", "family_name", "email"):
            if column in have:
                db.execute(f"ALTER TABLE users DROP COLUMN {column}")

    _in_transaction(db_path, work)


def backfill(db_path, batch_size: int = 500) -> int:
    """Fill the new columns of rows that do not have them yet; return how many rows it filled.

    Batches of `batch_size` rows, each its own transaction, so writers wait milliseconds, not
    the whole backfill. Only empty new columns are filled: what v2 wrote stays as written.
    Safe to run again, and to stop half way.
    """
    filled = 0
    with closing(_connect(db_path)) as db:
        while True:
            db.execute("BEGIN IMMEDIATE")
            try:
                n = db.execute(
                    f"""UPDATE users SET
                        given_name = coalesce(given_name, {_given("fullname")}),
                        family_name = coalesce(family_name, {_family("fullname")}),
                        email = coalesce(email, mail)
                    WHERE id IN (SELECT id FROM users WHERE {NOT_BACKFILLED} LIMIT ?)""",
                    (batch_size,),
                ).rowcount
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            filled += n
            if n < batch_size:
                return filled


def undo_backfill(db_path) -> None:
    """Nothing to undo: filled new columns are what the triggers would have written, and
    undo_expand drops them."""


def contract(db_path) -> None:
    """Once no v1 is left: drop the triggers and the old columns. Refuses (RuntimeError,
    nothing changed) while a row is not backfilled."""

    def work(db: sqlite3.Connection) -> None:
        have = _columns(db)
        if "fullname" not in have and "mail" not in have:
            return  # already contracted
        missing = db.execute(f"SELECT count(*) FROM users WHERE {NOT_BACKFILLED}").fetchone()[0]
        if missing:
            raise RuntimeError(f"{missing} rows are not backfilled yet: run backfill() first")
        _drop_triggers(db)
        for column in ("fullname", "mail"):
            if column in have:
                db.execute(f"ALTER TABLE users DROP COLUMN {column}")

    _in_transaction(db_path, work)


def undo_contract(db_path) -> None:
    """Bring the old columns back, filled from the new ones, with the triggers: v1 can start
    again as soon as it returns."""

    def work(db: sqlite3.Connection) -> None:
        have = _columns(db)
        for column in ("fullname", "mail"):
            if column not in have:
                db.execute(f"ALTER TABLE users ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
        db.execute(
            f"UPDATE users SET fullname = {_joined('given_name', 'family_name')}, mail = email"
        )
        _create_triggers(db)

    _in_transaction(db_path, work)
