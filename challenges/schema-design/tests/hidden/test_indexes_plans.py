"""The app's queries are served by the schema's own indexes (EXPLAIN QUERY PLAN)."""

import re

from _data import DAY0, QUERIES

INDEX_SEARCH = re.compile(r"^SEARCH (\w+) USING (?:COVERING )?INDEX \w+ \((.*)\)$")


def plan(db, name, params):
    return [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + QUERIES[name], params)]


def check_plan(details, expected):
    """expected: {table or alias: first constraint of its index search, e.g. 'resource_id=?'}"""
    # One line: a hidden test's message shows only its first line.
    text = "; ".join(details)
    scans = [d for d in details if d.startswith("SCAN ")]
    assert not scans, f"{scans[0]}: a table is read whole (plan: {text})"
    assert not any("TEMP B-TREE" in d for d in details), f"results are sorted afterwards (plan: {text})"
    for table, constraint in expected.items():
        found = [m.group(2) for d in details if (m := INDEX_SEARCH.match(d)) and m.group(1) == table]
        assert found, f"{table} is not searched through an index of the schema (plan: {text})"
        assert found[0].startswith(constraint), (
            f"{table}: the index used does not lead with {constraint} (plan: {text})"
        )


def test_resource_schedule_uses_resource_and_start_index(loaded):
    params = {"resource_id": 1, "window_start": DAY0, "window_end": DAY0 + 86400}
    check_plan(plan(loaded, "resource_schedule", params), {"bookings": "resource_id=? AND starts_at"})


def test_customer_bookings_uses_customer_index(loaded):
    check_plan(plan(loaded, "customer_bookings", {"customer_id": 1}), {"bookings": "customer_id=?"})


def test_booking_payments_uses_booking_index(loaded):
    check_plan(plan(loaded, "booking_payments", {"booking_id": 1}), {"payments": "booking_id=?"})


def test_unpaid_upcoming_uses_start_and_payment_indexes(loaded):
    check_plan(plan(loaded, "unpaid_upcoming", {"from_ts": DAY0}), {"b": "starts_at>?", "p": "booking_id=?"})
