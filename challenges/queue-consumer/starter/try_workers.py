"""Fill a queue with payouts and drain it the way production does; print what happened.

    python try_workers.py        # 1 worker
    python try_workers.py 8      # 8 workers

Writes try-queue.db and try-ledger.db in this folder (the SQL console, f3, opens them):
200 payouts, 20 of them sent twice (a producer retry), and one malformed message. The
notifier is a stand-in that takes 30 ms per call, like the real service.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path

from consumer import run_workers
from sqlqueue import Queue


class SlowNotifier:
    def notify(self, merchant: str, amount_cents: int, key: str) -> None:
        time.sleep(0.03)


def main(workers: int) -> None:
    for name in ("try-queue.db", "try-ledger.db"):
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
    queue = Queue("try-queue.db")
    rng = random.Random(3)
    events = [
        {"event_id": f"evt_{n:04d}", "type": "order.paid", "merchant": f"m-{rng.randrange(12):04d}",
         "amount_cents": rng.randrange(100, 20_000)}
        for n in range(200)
    ]
    for event in events + rng.sample(events, 20):
        queue.send(event)
    queue.send("{oops")
    expected = sum(e["amount_cents"] for e in events)

    start = time.perf_counter()
    run_workers(queue, "try-ledger.db", SlowNotifier(), workers=workers)
    took = time.perf_counter() - start

    with closing(sqlite3.connect("try-ledger.db")) as db:
        credited = db.execute("SELECT coalesce(sum(cents), 0) FROM balances").fetchone()[0]
    print(f"{workers} worker(s): {took:.2f} s for {len(events) + 21} messages")
    print(f"credited {credited} cents; the 200 events are worth {expected} "
          f"({'right' if credited == expected else 'WRONG'})")
    print(f"queue: {json.dumps(queue.counts())}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
