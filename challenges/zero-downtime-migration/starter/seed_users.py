"""Make a copy of the production accounts database to try the migration on.

    python seed_users.py users.db          # 20,000 users, v1's schema (replaces the file)

The table as production has it today:

    users(id INTEGER PRIMARY KEY, fullname TEXT NOT NULL DEFAULT '',
          mail TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)
"""

from __future__ import annotations

import random
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

GIVEN = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Cher"]
FAMILY = ["Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "van Rossum"]


def build(path: Path, users: int = 20_000, seed: int = 7) -> None:
    rng = random.Random(seed)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, fullname TEXT NOT NULL DEFAULT '', "
            "mail TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)"
        )
        rows = []
        for i in range(1, users + 1):
            given = rng.choice(GIVEN)
            name = given if given == "Cher" else f"{given} {rng.choice(FAMILY)}"
            rows.append((i, name, f"user{i}@example.com", "2025-06-01 12:00:00"))
        db.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", rows)
        db.commit()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    build(Path(sys.argv[1]))
    print(f"wrote {sys.argv[1]}")
