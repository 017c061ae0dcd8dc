"""Load schema.sql into a fresh in-memory database and print SQLite's plan for each query
in queries.sql.

    python try_schema.py
"""

import re
import sqlite3
from pathlib import Path


def main() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(Path("schema.sql").read_text(encoding="utf-8"))
    text = Path("queries.sql").read_text(encoding="utf-8")
    for block in re.split(r"^-- name: ", text, flags=re.M)[1:]:
        name, _, body = block.partition("\n")
        sql = "\n".join(line for line in body.splitlines() if not line.startswith("--")).strip()
        params = {p: 0 for p in re.findall(r":(\w+)", sql)}
        print(f"{name}:")
        for row in conn.execute("EXPLAIN QUERY PLAN " + sql.rstrip(";"), params):
            print("   ", row[3])


if __name__ == "__main__":
    main()
