"""The report runs a small, fixed number of SQL statements, however big the data gets."""

from __future__ import annotations

import sqlite3

import _seed
import report
from _helpers import capture_statements

MAX_STATEMENTS = 5


def statements_for_one_month(path, year, month):
    conn = sqlite3.connect(path)
    try:
        report.prepare(conn)
        with capture_statements(conn) as seen:
            report.monthly_revenue(conn, year, month)
        return seen
    finally:
        conn.close()


def test_statement_count_is_small_on_a_small_shop(tmp_path):
    path = _seed.build_database(str(tmp_path / "small.db"), n_orders=400)
    seen = statements_for_one_month(path, 2024, 3)
    assert len(seen) <= MAX_STATEMENTS, (
        f"one month ran {len(seen)} SQL statements (at most {MAX_STATEMENTS} expected); "
        f"first ones: {seen[:3]}"
    )


def test_statement_count_does_not_grow_with_customers_and_orders(medium_db_file, copy_db):
    conn = copy_db(medium_db_file)
    report.prepare(conn)
    counts = []
    for year, month in [(2023, 6), (2024, 3)]:
        with capture_statements(conn) as seen:
            report.monthly_revenue(conn, year, month)
        counts.append(len(seen))
    assert max(counts) <= MAX_STATEMENTS, (
        f"a month ran {max(counts)} SQL statements on a 3,000-order shop "
        f"(at most {MAX_STATEMENTS} expected, whatever the number of customers or orders)"
    )
