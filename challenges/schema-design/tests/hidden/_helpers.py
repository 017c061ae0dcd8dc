import sqlite3

import pytest

from _data import DAY0, HOUR

T9 = DAY0 + 9 * HOUR


def count(db, table):
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def snapshot(db, table):
    return sorted(db.execute(f"SELECT * FROM {table}").fetchall())


def assert_rejected(db, table, sql, params=()):
    """The statement raises IntegrityError and leaves `table` exactly as it was."""
    before = snapshot(db, table)
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(sql, params)
    assert snapshot(db, table) == before, "the rejected change was stored anyway"


def seed(db):
    """One customer, two rooms, one booking (Room A, 09:00-10:00) and one payment."""
    ids = {}
    ids["customer"] = db.execute(
        "INSERT INTO customers (name, email) VALUES ('Ana', 'ana@example.com')"
    ).lastrowid
    ids["room_a"] = db.execute("INSERT INTO resources (name) VALUES ('Room A')").lastrowid
    ids["room_b"] = db.execute("INSERT INTO resources (name) VALUES ('Room B')").lastrowid
    ids["booking"] = db.execute(
        "INSERT INTO bookings (resource_id, customer_id, starts_at, ends_at) VALUES (?, ?, ?, ?)",
        (ids["room_a"], ids["customer"], T9, T9 + HOUR),
    ).lastrowid
    ids["payment"] = db.execute(
        "INSERT INTO payments (booking_id, amount_cents, status) VALUES (?, 2500, 'paid')",
        (ids["booking"],),
    ).lastrowid
    return ids
