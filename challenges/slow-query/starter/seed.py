"""Build a deterministic copy of the shop database for local testing.

    python seed.py shop.db              # 60,000 orders (~215,000 rows), a second or two
    python seed.py shop.db 5000         # a smaller one

Schema (the production schema; only primary keys are indexed):

    customers(id, name, email, created_at)
    orders(id, customer_id, status, created_at)      status: 'paid' | 'refunded' | 'cancelled'
    order_items(id, order_id, sku, quantity, unit_price_cents)

Timestamps are UTC text, always 'YYYY-MM-DD HH:MM:SS'. Orders span 2023-01-01 to 2024-12-31.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import sys

SCHEMA = """
CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    status      TEXT NOT NULL CHECK (status IN ('paid', 'refunded', 'cancelled')),
    created_at  TEXT NOT NULL
);
CREATE TABLE order_items (
    id               INTEGER PRIMARY KEY,
    order_id         INTEGER NOT NULL REFERENCES orders(id),
    sku              TEXT NOT NULL,
    quantity         INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL
);
"""

FIRST = [
    "Ada",
    "Bo",
    "Chen",
    "Dana",
    "Emil",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Jun",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
]
LAST = [
    "Okafor",
    "Berg",
    "Silva",
    "Novak",
    "Tanaka",
    "Haddad",
    "Murphy",
    "Kowalski",
    "Garcia",
    "Lindqvist",
    "Mensah",
    "Rossi",
    "Dubois",
    "Nguyen",
    "Schmidt",
    "Ali",
]
START = dt.datetime(2023, 1, 1)
SPAN_SECONDS = int((dt.datetime(2025, 1, 1) - START).total_seconds())


def create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def build_database(
    path: str, n_orders: int = 60_000, n_customers: int | None = None, seed: int = 42
) -> str:
    """Create (or replace) the SQLite database at `path`; return the path."""
    if os.path.exists(path):
        os.remove(path)
    rng = random.Random(seed)
    n_customers = n_customers or max(10, n_orders // 12)
    customers = []
    for cid in range(1, n_customers + 1):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        signup = START + dt.timedelta(days=rng.randrange(700))
        customers.append((cid, name, f"c{cid}@example.com", signup.strftime("%Y-%m-%d %H:%M:%S")))
    buying = max(1, n_customers * 9 // 10)  # a tenth of the customers never order
    orders = []
    items = []
    item_id = 0
    for oid in range(1, n_orders + 1):
        ts = START + dt.timedelta(seconds=rng.randrange(SPAN_SECONDS))
        r = rng.random()
        status = "paid" if r < 0.9 else ("refunded" if r < 0.97 else "cancelled")
        orders.append((oid, rng.randint(1, buying), status, ts.strftime("%Y-%m-%d %H:%M:%S")))
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 5))):
            item_id += 1
            r = rng.random()
            if r < 0.05:
                line = ("FREE-SAMPLE", 1, 0)
            elif r < 0.10:
                line = ("DISCOUNT", 1, -rng.randrange(100, 1000, 50))
            else:
                sku = f"SKU-{rng.randrange(500):03d}"
                line = (sku, rng.randint(1, 4), rng.randrange(199, 9999))
            items.append((item_id, oid) + line)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        create_schema(conn)
        with conn:
            conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", customers)
            conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", orders)
            conn.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?, ?)", items)
    finally:
        conn.close()
    return path


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    target = sys.argv[1]
    build_database(target, *(int(a) for a in sys.argv[2:]))
    print(f"wrote {target}")
