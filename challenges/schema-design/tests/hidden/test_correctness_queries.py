"""The documented tables take the generated data, and the app's queries return the right rows."""

import random

import pytest

from _data import (
    DAY0,
    HOUR,
    QUERIES,
    booking_rows,
    expected_booking_payments,
    expected_customer_bookings,
    expected_resource_schedule,
    expected_unpaid_upcoming,
)

COLUMNS = {
    "customers": {"id", "name", "email"},
    "resources": {"id", "name"},
    "bookings": {"id", "resource_id", "customer_id", "starts_at", "ends_at"},
    "payments": {"id", "booking_id", "amount_cents", "status"},
}


def rows_problem(rows, expected):
    """How a query's rows differ from the expected ones, in words."""
    rows, expected = [tuple(r) for r in rows], [tuple(r) for r in expected]
    typed = [(type(v).__name__, type(w).__name__) for r, e in zip(rows, expected) for v, w in zip(r, e)]
    wrong = next(((got, want) for got, want in typed if got != want), None)
    if wrong:
        return f"values come back as {wrong[0]} where {wrong[1]} is stored"
    missing = [e for e in expected if e not in rows]
    extra = [r for r in rows if r not in expected]
    return (
        f"{len(rows)} rows instead of {len(expected)}: {len(missing)} missing, {len(extra)} that "
        "should not be there"
    )


def same_rows(rows, expected, what):
    assert sorted(rows) == sorted(expected), f"{what}: {rows_problem(rows, expected)}"


def check_ordered(rows, expected, key_index, what):
    """Same rows as expected, and sorted on column key_index (ties in any order)."""
    same_rows(rows, expected, what)
    keys = [row[key_index] for row in rows]
    assert keys == sorted(keys), f"{what}: rows are not in start order"


@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_documented_columns_exist(db, table):
    cols = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    assert COLUMNS[table] <= cols, f"{table} lacks {COLUMNS[table] - cols}"


def test_generated_data_is_stored_with_its_types(loaded, dataset):
    rows = loaded.execute(
        "SELECT id, resource_id, customer_id, starts_at, ends_at FROM bookings"
    ).fetchall()
    types = loaded.execute(
        "SELECT DISTINCT typeof(starts_at), typeof(ends_at), typeof(resource_id) FROM bookings"
    ).fetchall()
    assert types == [("integer", "integer", "integer")], (
        f"bookings' starts_at, ends_at and resource_id are stored as {sorted(set(types))}, not "
        "integers"
    )
    amounts = loaded.execute("SELECT DISTINCT typeof(amount_cents) FROM payments").fetchall()
    assert amounts == [("integer",)], (
        f"payments.amount_cents is stored as {sorted(set(amounts))}, not integers"
    )
    same_rows(rows, booking_rows(dataset), "the generated bookings read back")


def test_resource_schedule_returns_overlapping_bookings(loaded, dataset):
    rng = random.Random(42)
    windows = [(DAY0, DAY0 + 400 * HOUR)]  # everything
    # windows whose edges fall exactly on booking boundaries, and random ones
    edges = [b[2] for b in dataset.bookings] + [b[3] for b in dataset.bookings]
    for _ in range(20):
        a, b = sorted(rng.sample(edges, 2))
        windows.append((a, b))
        start = DAY0 + rng.randrange(200 * 4) * 900
        windows.append((start, start + rng.choice([1, 2, 8, 24]) * HOUR))
    for resource_id in dataset.resource_ids:
        for ws, we in windows:
            params = {"resource_id": resource_id, "window_start": ws, "window_end": we}
            rows = loaded.execute(QUERIES["resource_schedule"], params).fetchall()
            check_ordered(
                rows, expected_resource_schedule(dataset, resource_id, ws, we), 2, "resource_schedule"
            )


def test_customer_bookings_in_start_order(loaded, dataset):
    for customer_id in dataset.customer_ids:
        rows = loaded.execute(QUERIES["customer_bookings"], {"customer_id": customer_id}).fetchall()
        check_ordered(rows, expected_customer_bookings(dataset, customer_id), 2, "customer_bookings")


def test_booking_payments_lists_every_attempt(loaded, dataset):
    for booking_id in dataset.booking_ids:
        rows = loaded.execute(QUERIES["booking_payments"], {"booking_id": booking_id}).fetchall()
        same_rows(rows, expected_booking_payments(dataset, booking_id), "booking_payments")


@pytest.mark.parametrize("hours", [0, 30, 120, 1000])
def test_unpaid_upcoming_skips_paid_bookings(loaded, dataset, hours):
    from_ts = DAY0 + hours * HOUR
    rows = loaded.execute(QUERIES["unpaid_upcoming"], {"from_ts": from_ts}).fetchall()
    check_ordered(rows, expected_unpaid_upcoming(dataset, from_ts), 3, "unpaid_upcoming")
