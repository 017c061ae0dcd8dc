"""The month's orders are found through an index; no statement reads a whole big table."""

from __future__ import annotations

import report
from _helpers import capture_statements, full_reads, month_searches, plans_touching


def report_plans(conn, table):
    report.prepare(conn)
    with capture_statements(conn) as seen:
        report.monthly_revenue(conn, 2024, 3)
    plans = plans_touching(conn, seen, table)
    assert plans, f"no statement that reads {table} could be explained"
    return plans


def test_orders_are_found_by_a_created_at_range_on_an_index(medium_db_file, copy_db):
    plans = report_plans(copy_db(medium_db_file), "orders")
    found = [line for _sql, names, details in plans for line in month_searches(details, names)]
    assert found, (
        "no query finds the month's orders through an index on created_at; plans were:\n"
        + "\n".join(f"{sql}\n  -> {details}" for sql, _names, details in plans[:3])
    )


def test_no_statement_scans_all_orders(medium_db_file, copy_db):
    for sql, names, details in report_plans(copy_db(medium_db_file), "orders"):
        bad = full_reads(details, names)
        assert not bad, f"reads every order: {bad}\nin: {sql}"


def test_no_statement_scans_all_order_items(medium_db_file, copy_db):
    for sql, names, details in report_plans(copy_db(medium_db_file), "order_items"):
        bad = full_reads(details, names)
        assert not bad, f"reads every order line: {bad}\nin: {sql}"
