"""Monthly revenue report: revenue per customer for one calendar month.

Used by the finance dashboard and the month-end export job. See brief.md for the rules.
"""

from __future__ import annotations

import sqlite3


def prepare(conn: sqlite3.Connection) -> None:
    """Run once at deploy time, before the report is served (migrations go here).

    May be called again on a database it has already prepared.
    """


def monthly_revenue(conn: sqlite3.Connection, year: int, month: int) -> list[tuple]:
    """Return [(customer_id, name, paid_orders, revenue_cents), ...] for the month.

    Only 'paid' orders count. Sorted by revenue_cents descending, then customer_id ascending.
    """
    month_key = f"{year:04d}-{month:02d}"
    rows = []
    customers = conn.execute("SELECT id, name FROM customers ORDER BY id").fetchall()
    for customer_id, name in customers:
        orders = conn.execute(
            "SELECT id FROM orders "
            "WHERE customer_id = ? AND status = 'paid' AND strftime('%Y-%m', created_at) = ?",
            (customer_id, month_key),
        ).fetchall()
        if not orders:
            continue
        revenue = 0
        for (order_id,) in orders:
            (order_total,) = conn.execute(
                "SELECT COALESCE(SUM(quantity * unit_price_cents), 0) "
                "FROM order_items WHERE order_id = ?",
                (order_id,),
            ).fetchone()
            revenue += order_total
        rows.append((customer_id, name, len(orders), revenue))
    rows.sort(key=lambda row: (-row[3], row[0]))
    return rows
