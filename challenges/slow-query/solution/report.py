"""Monthly revenue report: revenue per customer for one calendar month.

Used by the finance dashboard and the month-end export job. See brief.md for the rules.
"""

from __future__ import annotations

import sqlite3

# One set-based query instead of one query per customer and per order. The month filter is a
# half-open range on the raw column, so SQLite can walk the created_at index instead of
# computing strftime() for every order ever placed.
_REPORT_SQL = """
SELECT c.id, c.name,
       COUNT(DISTINCT o.id) AS paid_orders,
       COALESCE(SUM(i.quantity * i.unit_price_cents), 0) AS revenue_cents
FROM orders AS o
JOIN customers AS c ON c.id = o.customer_id
LEFT JOIN order_items AS i ON i.order_id = o.id   -- LEFT: an order with no lines is worth 0
WHERE o.created_at >= :start AND o.created_at < :end
  AND o.status = 'paid'
GROUP BY c.id, c.name
ORDER BY revenue_cents DESC, c.id ASC
"""


def _month_bounds(year: int, month: int) -> dict[str, str]:
    """[first instant of the month, first instant of the next month) as stored text."""
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return {
        "start": f"{year:04d}-{month:02d}-01 00:00:00",
        "end": f"{next_year:04d}-{next_month:02d}-01 00:00:00",
    }


def prepare(conn: sqlite3.Connection) -> None:
    """Run once at deploy time, before the report is served (migrations go here).

    May be called again on a database it has already prepared.
    """
    conn.execute("CREATE INDEX IF NOT EXISTS idx_orders_created_at ON orders(created_at)")
    conn.execute("CREATE INDEX IF NOT EXISTS idx_order_items_order_id ON order_items(order_id)")
    conn.commit()


def monthly_revenue(conn: sqlite3.Connection, year: int, month: int) -> list[tuple]:
    """Return [(customer_id, name, paid_orders, revenue_cents), ...] for the month.

    Only 'paid' orders count. Sorted by revenue_cents descending, then customer_id ascending.
    """
    return [tuple(row) for row in conn.execute(_REPORT_SQL, _month_bounds(year, month))]
