"""Fill a local catalog to try the API on: catalog.db with 240 products.

    python seed_catalog.py            # writes catalog.db (replacing it)

The table is the one make_app() creates and the nightly export reads:

    products(id INTEGER PRIMARY KEY, sku TEXT UNIQUE, name TEXT, category TEXT, price INTEGER)

Prices are integer cents; many products share a price (the mobile app sorts by price).
"""

from __future__ import annotations

import random
import sqlite3
import sys
from pathlib import Path

CATEGORIES = ["books", "garden", "kitchen", "toys", "tools"]
PRICES = [0, 499, 999, 1500, 2500, 4999, 12000]
WORDS = ["oak", "steel", "blue", "mini", "pro", "classic", "smart", "eco", "max", "soft"]


def build(path: Path, n: int = 240, seed: int = 7) -> None:
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE,"
        " name TEXT NOT NULL, category TEXT NOT NULL, price INTEGER NOT NULL)"
    )
    conn.executemany(
        "INSERT INTO products (id, sku, name, category, price) VALUES (?, ?, ?, ?, ?)",
        [
            (i, f"CAT-{i:05d}", f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}",
             rng.choice(CATEGORIES), rng.choice(PRICES))
            for i in range(1, n + 1)
        ],
    )
    conn.commit()
    conn.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(__doc__)
    build(Path("catalog.db"))
    print("wrote catalog.db")
