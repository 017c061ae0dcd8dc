"""Results: month boundaries, statuses, zero totals, ordering, empty months."""

from __future__ import annotations

import sqlite3

import _reference
import report
from _helpers import as_rows

CUSTOMERS = [(1, "Zoe Adams"), (2, "Ann Young"), (3, "Mia Berg"), (4, "Bob Vance")]


def run(conn, year, month):
    report.prepare(conn)
    return as_rows(report.monthly_revenue(conn, year, month))


def expect(conn, year, month, want):
    """Fail, in words, unless the report for the month is `want`."""
    got = run(conn, year, month)
    assert got == want, (
        f"the report for {year}-{month:02d} of a small hand-built shop is wrong: "
        f"{difference(got, want)}"
    )


def difference(got, want):
    """The first way two reports differ, in words."""
    mine, right = {r[0]: r for r in got}, {r[0]: r for r in want}
    for cid, row in right.items():
        if cid not in mine:
            return f"customer {cid} is missing"
        if mine[cid] != row:
            return (
                f"customer {cid} has {mine[cid][2]} paid orders worth {mine[cid][3]} cents; "
                f"expected {row[2]} worth {row[3]}"
            )
    extra = [cid for cid in mine if cid not in right]
    if extra:
        return f"customer {extra[0]} is listed but has no paid order in that month"
    if len(got) != len(mine):
        return "a customer is listed twice"
    return "the rows are not in the expected order (revenue descending, then customer id)"


def test_month_is_half_open_at_both_ends(shop):
    conn = shop(
        CUSTOMERS,
        [
            (1, 1, "paid", "2024-01-31 23:59:59"),  # January
            (2, 1, "paid", "2024-02-01 00:00:00"),  # first second of February
            (3, 2, "paid", "2024-02-29 23:59:59"),  # last second of February (leap year)
            (4, 2, "paid", "2024-03-01 00:00:00"),  # March
            (5, 3, "paid", "2024-03-01 00:00:00"),  # March
        ],
        [(1, 1, 100), (2, 1, 200), (3, 1, 300), (4, 1, 400), (5, 1, 500)],
    )
    expect(conn, 2024, 2, [(2, "Ann Young", 1, 300), (1, "Zoe Adams", 1, 200)])
    expect(conn, 2024, 3, [(3, "Mia Berg", 1, 500), (2, "Ann Young", 1, 400)])
    expect(conn, 2024, 1, [(1, "Zoe Adams", 1, 100)])


def test_december_report_does_not_spill_into_january(shop):
    conn = shop(
        CUSTOMERS,
        [
            (1, 1, "paid", "2023-11-30 23:59:59"),
            (2, 1, "paid", "2023-12-01 00:00:00"),
            (3, 2, "paid", "2023-12-31 23:59:59"),
            (4, 3, "paid", "2024-01-01 00:00:00"),
        ],
        [(1, 1, 1000), (2, 2, 150), (3, 1, 250), (4, 1, 999)],
    )
    expect(conn, 2023, 12, [(1, "Zoe Adams", 1, 300), (2, "Ann Young", 1, 250)])
    expect(conn, 2024, 1, [(3, "Mia Berg", 1, 999)])


def test_refunded_and_cancelled_orders_are_ignored(shop):
    conn = shop(
        CUSTOMERS,
        [
            (1, 1, "paid", "2024-05-10 10:00:00"),
            (2, 1, "refunded", "2024-05-11 10:00:00"),
            (3, 2, "refunded", "2024-05-12 10:00:00"),  # only refunded: not in the report
            (4, 3, "cancelled", "2024-05-13 10:00:00"),
            (5, 3, "paid", "2024-05-14 10:00:00"),
        ],
        [(1, 1, 500), (2, 10, 999), (3, 1, 700), (4, 5, 100), (5, 2, 50)],
    )
    expect(conn, 2024, 5, [(1, "Zoe Adams", 1, 500), (3, "Mia Berg", 1, 100)])


def test_zero_total_orders_still_count(shop):
    conn = shop(
        CUSTOMERS,
        [
            (1, 1, "paid", "2024-06-01 09:00:00"),  # free sample only
            (2, 2, "paid", "2024-06-02 09:00:00"),  # discount cancels the line out
            (3, 3, "paid", "2024-06-03 09:00:00"),  # no lines at all
            (4, 3, "paid", "2024-06-04 09:00:00"),
        ],
        [(1, 1, 0), (2, 2, 450), (2, 1, -900), (4, 1, 120)],
    )
    rows = run(conn, 2024, 6)
    want = [(3, "Mia Berg", 2, 120), (1, "Zoe Adams", 1, 0), (2, "Ann Young", 1, 0)]
    assert rows == want, f"orders worth 0 cents: {difference(rows, want)}"
    assert all(isinstance(row[3], int) for row in rows), "revenue_cents must be an integer"


def test_paid_orders_counts_orders_not_lines(shop):
    conn = shop(
        CUSTOMERS,
        [(1, 2, "paid", "2024-07-01 08:00:00"), (2, 2, "paid", "2024-07-20 08:00:00")],
        [(1, 1, 100), (1, 2, 100), (1, 3, 100), (2, 1, 1), (2, 1, 1), (2, 1, 1)],
    )
    expect(conn, 2024, 7, [(2, "Ann Young", 2, 603)])


def test_customers_without_orders_are_left_out(shop):
    conn = shop(CUSTOMERS, [(1, 2, "paid", "2024-08-15 12:00:00")], [(1, 3, 333)])
    expect(conn, 2024, 8, [(2, "Ann Young", 1, 999)])


def test_ties_are_ordered_by_customer_id(shop):
    # names sort the other way round from ids, so ordering by name is caught
    conn = shop(
        CUSTOMERS,
        [
            (1, 3, "paid", "2024-09-03 12:00:00"),
            (2, 1, "paid", "2024-09-04 12:00:00"),
            (3, 2, "paid", "2024-09-05 12:00:00"),
            (4, 4, "paid", "2024-09-06 12:00:00"),
        ],
        [(1, 1, 700), (2, 2, 350), (3, 1, 700), (4, 1, 900)],
    )
    expect(conn, 2024, 9, [
        (4, "Bob Vance", 1, 900),
        (1, "Zoe Adams", 1, 700),
        (2, "Ann Young", 1, 700),
        (3, "Mia Berg", 1, 700),
    ])


def test_month_without_orders_is_an_empty_list(shop):
    conn = shop(CUSTOMERS, [(1, 1, "paid", "2024-04-30 23:59:59")], [(1, 1, 10)])
    expect(conn, 2024, 5, [])
    expect(conn, 2024, 3, [])


def test_generated_data_matches_reference(medium_db_file, copy_db):
    mine = copy_db(medium_db_file, "candidate.db")
    ref = copy_db(medium_db_file, "reference.db")
    report.prepare(mine)
    _reference.prepare(ref)
    for year, month in [(2023, 1), (2023, 12), (2024, 2), (2024, 7), (2024, 12), (2025, 1)]:
        expected = _reference.monthly_revenue(ref, year, month)
        got = as_rows(report.monthly_revenue(mine, year, month))
        assert got == expected, (
            f"the report for {year}-{month:02d} of a generated shop is wrong: "
            f"{difference(got, expected)}"
        )


def test_orders_placed_after_prepare_are_reported(shop):
    conn = shop(CUSTOMERS, [(1, 1, "paid", "2024-10-01 00:00:00")], [(1, 1, 100)])
    report.prepare(conn)
    got = as_rows(report.monthly_revenue(conn, 2024, 10))
    assert got == [(1, "Zoe Adams", 1, 100)], f"before new orders: {difference(got, [(1, 'Zoe Adams', 1, 100)])}"
    with conn:
        conn.execute("INSERT INTO orders VALUES (2, 2, 'paid', '2024-10-31 23:00:00')")
        conn.execute(
            "INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) "
            "VALUES (2, 'SKU-2', 4, 50)"
        )
        conn.execute("UPDATE orders SET status = 'refunded' WHERE id = 1")
    got = as_rows(report.monthly_revenue(conn, 2024, 10))
    assert got == [(2, "Ann Young", 1, 200)], (
        f"after orders changed since prepare(): {difference(got, [(2, 'Ann Young', 1, 200)])}"
    )


def test_prepare_can_run_twice(shop):
    conn = shop(CUSTOMERS, [(1, 3, "paid", "2024-11-11 11:11:11")], [(1, 2, 21)])
    report.prepare(conn)
    report.prepare(conn)
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    other = sqlite3.connect(path)  # the next deploy: a new process, same database
    try:
        report.prepare(other)
        got = as_rows(report.monthly_revenue(other, 2024, 11))
        assert got == [(3, "Mia Berg", 1, 42)], (
            f"after prepare() ran again: {difference(got, [(3, 'Mia Berg', 1, 42)])}"
        )
    finally:
        other.close()
    got = as_rows(report.monthly_revenue(conn, 2024, 11))
    assert got == [(3, "Mia Berg", 1, 42)], (
        f"after prepare() ran twice: {difference(got, [(3, 'Mia Berg', 1, 42)])}"
    )
