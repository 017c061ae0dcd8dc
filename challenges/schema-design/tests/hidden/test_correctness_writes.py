"""Valid writes the rules must not block."""

import pytest

from _data import DAY0, HOUR

T9 = DAY0 + 9 * HOUR


@pytest.fixture
def base(db):
    """Two customers, two rooms; returns their ids."""
    c1 = db.execute("INSERT INTO customers (name, email) VALUES ('Ana', 'ana@example.com')").lastrowid
    c2 = db.execute("INSERT INTO customers (name, email) VALUES ('Bo', 'bo@example.com')").lastrowid
    r1 = db.execute("INSERT INTO resources (name) VALUES ('Room A')").lastrowid
    r2 = db.execute("INSERT INTO resources (name) VALUES ('Room B')").lastrowid
    return db, c1, c2, r1, r2


def book(db, resource_id, customer_id, start, end):
    return db.execute(
        "INSERT INTO bookings (resource_id, customer_id, starts_at, ends_at) VALUES (?, ?, ?, ?)",
        (resource_id, customer_id, start, end),
    ).lastrowid


def times(db, booking_id):
    return db.execute(
        "SELECT resource_id, starts_at, ends_at FROM bookings WHERE id = ?", (booking_id,)
    ).fetchone()


def test_back_to_back_bookings_are_allowed(base):
    db, c1, c2, r1, _ = base
    book(db, r1, c1, T9, T9 + HOUR)
    book(db, r1, c2, T9 + HOUR, T9 + 2 * HOUR)  # starts when the first ends
    book(db, r1, c2, T9 - HOUR, T9)  # ends when the first starts
    n = db.execute("SELECT count(*) FROM bookings").fetchone()[0]
    assert n == 3, f"{n} of 3 back-to-back bookings were stored"


def test_same_slot_on_another_resource_is_allowed(base):
    db, c1, c2, r1, r2 = base
    book(db, r1, c1, T9, T9 + HOUR)
    book(db, r2, c2, T9, T9 + HOUR)
    n = db.execute("SELECT count(*) FROM bookings").fetchone()[0]
    assert n == 2, f"{n} of 2 bookings of the same slot in two rooms were stored"


def test_moving_a_booking_into_free_time_is_allowed(base):
    db, c1, c2, r1, r2 = base
    a = book(db, r1, c1, T9, T9 + HOUR)
    book(db, r1, c2, T9 + 3 * HOUR, T9 + 4 * HOUR)
    db.execute("UPDATE bookings SET starts_at = ?, ends_at = ? WHERE id = ?", (T9 + HOUR, T9 + 2 * HOUR, a))
    assert times(db, a) == (r1, T9 + HOUR, T9 + 2 * HOUR), "moving a booking to free time did not store it"
    # overlapping its own old slot is fine
    db.execute("UPDATE bookings SET ends_at = ? WHERE id = ?", (T9 + 3 * HOUR, a))
    assert times(db, a) == (r1, T9 + HOUR, T9 + 3 * HOUR), "stretching a booking into free time did not store it"
    db.execute("UPDATE bookings SET resource_id = ? WHERE id = ?", (r2, a))
    assert times(db, a) == (r2, T9 + HOUR, T9 + 3 * HOUR), "moving a booking to a free room did not store it"


def test_updating_other_columns_of_a_booking_is_allowed(base):
    db, c1, c2, r1, _ = base
    a = book(db, r1, c1, T9, T9 + HOUR)
    db.execute("UPDATE bookings SET customer_id = ? WHERE id = ?", (c2, a))
    db.execute("UPDATE bookings SET starts_at = starts_at, ends_at = ends_at WHERE id = ?", (a,))
    got = db.execute("SELECT customer_id FROM bookings WHERE id = ?", (a,)).fetchone()
    assert got == (c2,), f"changing a booking's customer stored {got}"


@pytest.mark.parametrize("status", ["pending", "paid", "refunded", "failed"])
def test_every_documented_status_is_accepted(base, status):
    db, c1, _, r1, _ = base
    b = book(db, r1, c1, T9, T9 + HOUR)
    db.execute(
        "INSERT INTO payments (booking_id, amount_cents, status) VALUES (?, ?, ?)", (b, 1, status)
    )
    db.execute("UPDATE payments SET status = ? WHERE booking_id = ?", (status, b))


def test_unreferenced_rows_can_be_deleted(base):
    db, c1, c2, r1, r2 = base
    b = book(db, r1, c1, T9, T9 + HOUR)
    db.execute("INSERT INTO payments (booking_id, amount_cents, status) VALUES (?, 100, 'paid')", (b,))
    db.execute("DELETE FROM payments WHERE booking_id = ?", (b,))
    db.execute("DELETE FROM bookings WHERE id = ?", (b,))
    db.execute("DELETE FROM customers WHERE id IN (?, ?)", (c1, c2))
    db.execute("DELETE FROM resources WHERE id IN (?, ?)", (r1, r2))
    for table in ("customers", "resources", "bookings", "payments"):
        n = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert n == 0, f"{table}: {n} rows left after deleting them all"

