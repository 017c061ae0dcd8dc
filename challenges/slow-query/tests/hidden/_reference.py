"""Reference implementation: a plain, good fix (not a hyper-tuned one).

Performance tests time the candidate against this, on its own copy of the same database.
"""

from __future__ import annotations

import sqlite3

_SQL = """
SELECT c.id, c.name, COUNT(DISTINCT o.id) AS paid_orders,
       COALESCE(SUM(i.quantity * i.unit_price_cents), 0) AS revenue_cents
FROM orders o
JOIN customers c ON c.id = o.customer_id
LEFT JOIN order_items i ON i.order_id = o.id
WHERE o.created_at >= ? AND o.created_at < ? AND o.status = 'paid'
GROUP BY c.id
ORDER BY revenue_cents DESC, c.id ASC
"""


def month_range(year: int, month: int) -> tuple[str, str]:
    nxt_year, nxt_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}-01 00:00:00", f"{nxt_year:04d}-{nxt_month:02d}-01 00:00:00"


def prepare(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE INDEX IF NOT EXISTS ref_orders_created_at ON orders(created_at)")
    conn.execute("CREATE INDEX IF NOT EXISTS ref_order_items_order_id ON order_items(order_id)")
    conn.commit()


def monthly_revenue(conn: sqlite3.Connection, year: int, month: int) -> list[tuple]:
    return [tuple(r) for r in conn.execute(_SQL, month_range(year, month))]
