"""Time the report the way the dashboard calls it.

python seed.py shop.db            # once: the production-sized database
python bench.py shop.db 2024 3    # prepare(), then one month: time and SQL statement count
"""

from __future__ import annotations

import sqlite3
import sys
import time

import report


def main(path: str, year: int, month: int) -> None:
    conn = sqlite3.connect(path)
    start = time.perf_counter()
    report.prepare(conn)
    print(f"prepare(): {time.perf_counter() - start:.3f} s")
    statements = []
    conn.set_trace_callback(statements.append)
    start = time.perf_counter()
    rows = report.monthly_revenue(conn, year, month)
    elapsed = time.perf_counter() - start
    conn.set_trace_callback(None)
    print(
        f"monthly_revenue({year}, {month}): {elapsed:.3f} s, {len(statements)} SQL statements, "
        f"{len(rows)} customers"
    )
    for row in rows[:5]:
        print("  ", tuple(row))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
