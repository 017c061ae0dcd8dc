"""Mutant: indexes and a range filter, but still one query per order for its lines."""

from __future__ import annotations

import sqlite3


def prepare(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE INDEX IF NOT EXISTS idx_orders_created_at ON orders(created_at)")
    conn.execute("CREATE INDEX IF NOT EXISTS idx_order_items_order_id ON order_items(order_id)")
    conn.commit()


def monthly_revenue(conn: sqlite3.Connection, year: int, month: int) -> list[tuple]:
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    start = f"{year:04d}-{month:02d}-01 00:00:00"
    end = f"{next_year:04d}-{next_month:02d}-01 00:00:00"
    orders = conn.execute(
        "SELECT o.id, c.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id "
        "WHERE o.created_at >= ? AND o.created_at < ? AND o.status = 'paid'",
        (start, end),
    ).fetchall()
    totals: dict[int, list] = {}
    for order_id, customer_id, name in orders:
        (order_total,) = conn.execute(
            "SELECT COALESCE(SUM(quantity * unit_price_cents), 0) FROM order_items "
            "WHERE order_id = ?",
            (order_id,),
        ).fetchone()
        entry = totals.setdefault(customer_id, [customer_id, name, 0, 0])
        entry[2] += 1
        entry[3] += order_total
    rows = [tuple(e) for e in totals.values()]
    rows.sort(key=lambda row: (-row[3], row[0]))
    return rows
