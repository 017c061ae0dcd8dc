"""Required values, types, value rules, unique emails and references."""

import pytest

from _data import HOUR
from _helpers import T9, assert_rejected, seed

INSERT_BOOKING = "INSERT INTO bookings (resource_id, customer_id, starts_at, ends_at) VALUES (?, ?, ?, ?)"
INSERT_PAYMENT = "INSERT INTO payments (booking_id, amount_cents, status) VALUES (?, ?, ?)"


@pytest.fixture
def ids(db):
    return seed(db)


def valid_row(ids, table):
    """A valid row for each table, as {column: value} (a free slot for bookings)."""
    return {
        "customers": {"name": "Bo", "email": "bo@example.com"},
        "resources": {"name": "Room C"},
        "bookings": {
            "resource_id": ids["room_b"],
            "customer_id": ids["customer"],
            "starts_at": T9,
            "ends_at": T9 + HOUR,
        },
        "payments": {"booking_id": ids["booking"], "amount_cents": 100, "status": "pending"},
    }[table]


def insert_sql(table, row):
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    return f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(row.values())


@pytest.mark.parametrize(
    "table,column",
    [
        ("customers", "name"),
        ("customers", "email"),
        ("resources", "name"),
        ("bookings", "resource_id"),
        ("bookings", "customer_id"),
        ("bookings", "starts_at"),
        ("bookings", "ends_at"),
        ("payments", "booking_id"),
        ("payments", "amount_cents"),
        ("payments", "status"),
    ],
)
def test_required_column_rejects_null(db, ids, table, column):
    row = valid_row(ids, table)
    sql, params = insert_sql(table, row)
    db.execute("SAVEPOINT probe")  # the valid row itself must be accepted
    db.execute(sql, params)
    db.execute("ROLLBACK TO probe")
    db.execute("RELEASE probe")
    row[column] = None
    sql, params = insert_sql(table, row)
    assert_rejected(db, table, sql, params)


@pytest.mark.parametrize("email", ["ana@example.com", "Ana@Example.com", "ANA@EXAMPLE.COM"])
def test_duplicate_email_rejected_regardless_of_case(db, ids, email):
    assert_rejected(db, "customers", "INSERT INTO customers (name, email) VALUES (?, ?)", ("Ana 2", email))


def test_changing_email_to_a_taken_one_rejected(db, ids):
    db.execute("INSERT INTO customers (name, email) VALUES ('Bo', 'bo@example.com')")
    assert_rejected(
        db, "customers", "UPDATE customers SET email = 'Ana@example.com' WHERE email = 'bo@example.com'"
    )


@pytest.mark.parametrize("length", [0, -HOUR])
def test_booking_must_end_after_it_starts(db, ids, length):
    assert_rejected(db, "bookings", INSERT_BOOKING, (ids["room_b"], ids["customer"], T9, T9 + length))
    assert_rejected(db, "bookings", "UPDATE bookings SET ends_at = starts_at + ? WHERE id = ?", (length, ids["booking"]))


@pytest.mark.parametrize("column", ["starts_at", "ends_at"])
def test_timestamps_must_be_integers(db, ids, column):
    row = valid_row(ids, "bookings")
    row[column] = "2026-03-02T09:00:00Z"
    sql, params = insert_sql("bookings", row)
    assert_rejected(db, "bookings", sql, params)


@pytest.mark.parametrize("amount", [0, -2500])
def test_amount_must_be_positive(db, ids, amount):
    assert_rejected(db, "payments", INSERT_PAYMENT, (ids["booking"], amount, "paid"))


@pytest.mark.parametrize("amount", [12.5, "12.50", "ten"])
def test_amount_must_be_integer_cents(db, ids, amount):
    assert_rejected(db, "payments", INSERT_PAYMENT, (ids["booking"], amount, "paid"))


@pytest.mark.parametrize("status", ["done", "cancelled", "", "paid "])
def test_unknown_payment_status_rejected(db, ids, status):
    assert_rejected(db, "payments", INSERT_PAYMENT, (ids["booking"], 100, status))
    assert_rejected(db, "payments", "UPDATE payments SET status = ? WHERE id = ?", (status, ids["payment"]))


@pytest.mark.parametrize("column", ["resource_id", "customer_id"])
def test_booking_must_reference_existing_rows(db, ids, column):
    row = valid_row(ids, "bookings")
    row[column] = 9999
    sql, params = insert_sql("bookings", row)
    assert_rejected(db, "bookings", sql, params)


def test_payment_must_reference_an_existing_booking(db, ids):
    assert_rejected(db, "payments", INSERT_PAYMENT, (9999, 100, "paid"))
    assert_rejected(db, "payments", "UPDATE payments SET booking_id = 9999 WHERE id = ?", (ids["payment"],))


@pytest.mark.parametrize(
    "table,key",
    [("customers", "customer"), ("resources", "room_a"), ("bookings", "booking")],
)
def test_deleting_a_referenced_row_rejected(db, ids, table, key):
    assert_rejected(db, table, f"DELETE FROM {table} WHERE id = ?", (ids[key],))
