"""Make a local copy of the portal's data to try the API on: portal.db and files/.

    python seed_portal.py            # writes portal.db and the files/ folder next to it

The same schema as production (the tests build their own data the same way):

    users(id, name, email, token, is_admin)       token: what callers send as a Bearer token
    products(id, name, category, price_cents, active)
    orders(id, user_id, product_id, quantity, note, created_at)

Look up a token with the SQL console (f3): SELECT name, token, is_admin FROM users.
"""

from __future__ import annotations

import random
import sqlite3
import sys
from pathlib import Path

SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE, is_admin INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL,
    price_cents INTEGER NOT NULL, active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
    product_id INTEGER NOT NULL REFERENCES products(id), quantity INTEGER NOT NULL,
    note TEXT NOT NULL, created_at TEXT NOT NULL
);
"""
USERS = [  # name, email, is_admin
    ("Priya Raman", "priya@example.com", 0),
    ("Tom Becker", "tom@example.com", 0),
    ("Sofia Lind", "sofia@example.com", 0),
    ("Omar Haddad", "omar@example.com", 1),
]
PRODUCTS = [  # name, category, active
    ("O'Brien's Cast Iron Kettle", "kitchen", 1),
    ("Electric Kettle", "kitchen", 1),
    ("Whistling Kettle", "kitchen", 0),
    ("Bread Knife", "kitchen", 1),
    ("Garden Hose 25m", "garden", 1),
    ("Pruning Shears", "garden", 1),
    ("Cordless Drill", "tools", 1),
    ("Claw Hammer", "tools", 1),
    ("Staff-only Sample Kit", "internal", 0),
]
FILES = {
    "price-list.txt": "Price list 2026\nElectric Kettle 29.90\n",
    "manuals/kettle-manual.txt": "Fill with water. Switch on.\n",
}


def build(folder: Path, seed: int = 7) -> None:
    rng = random.Random(seed)
    db_path = folder / "portal.db"
    db_path.unlink(missing_ok=True)
    conn = sqlite3.connect(db_path)
    conn.executescript(SCHEMA)
    for i, (name, email, admin) in enumerate(USERS, start=1):
        token = "%032x" % rng.getrandbits(128)
        conn.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)", (i, name, email, token, admin))
    for i, (name, category, active) in enumerate(PRODUCTS, start=1):
        price = rng.randrange(299, 25000)
        conn.execute("INSERT INTO products VALUES (?, ?, ?, ?, ?)", (i, name, category, price, active))
    for oid in range(1, 25):
        note = f"Ship to {rng.randint(1, 999)} Harbour Road"
        created = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
        product = rng.choice([i for i, p in enumerate(PRODUCTS, start=1) if p[2]])
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
            (oid, (oid - 1) % len(USERS) + 1, product, rng.randint(1, 5), note, created),
        )
    conn.commit()
    conn.close()
    for rel, text in FILES.items():
        path = folder / "files" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(__doc__)
    build(Path("."))
    print("wrote portal.db and files/")
