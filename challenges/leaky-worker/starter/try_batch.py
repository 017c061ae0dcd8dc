"""Run a batch the way production does, and watch the process.

    python try_batch.py            # 500 jobs, one in ten malformed, on 8 threads
    python try_batch.py 2000 16    # 2,000 jobs on 16 threads

Writes the jobs and invoices.db into a new folder under /tmp, then prints the counters and
what the process still holds open once run() has returned.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import tempfile
from pathlib import Path

import psutil

import worker

logging.getLogger("worker").setLevel(logging.ERROR)  # one warning per failed job is noise here


def main(count: int, threads: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="invoices-"))
    jobs_dir = folder / "jobs"
    jobs_dir.mkdir()
    rng = random.Random(1)
    names = []
    for n in range(1, count + 1):
        name = f"order-{n:05d}.json"
        lines = [{"sku": "PEN", "qty": rng.randint(1, 5), "unit_cents": 150}]
        if n % 10 == 0:
            lines[0]["qty"] = 0  # malformed: JobError
        order = {"order_id": f"A-{n:05d}", "customer": "acme", "lines": lines}
        (jobs_dir / name).write_text(json.dumps(order), encoding="utf-8")
        names.append(name)

    me = psutil.Process()
    before = me.num_fds()
    w = worker.Worker(folder / "invoices.db", jobs_dir)
    w.run(names, threads=threads)
    held = [f.path for f in me.open_files() if f.path.startswith(str(folder))]
    print(f"{count} jobs on {threads} threads, {count // 10} of them malformed")
    print(f"processed={w.processed} failed={w.failed}  (expected {count - count // 10} and {count // 10})")
    print(f"open file descriptors: {before} before run(), {me.num_fds()} after")
    print(f"files under {folder} still open: {len(held)}")
    for path in sorted(set(held))[:5]:
        print("  ", path)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*(args + [500, 8][len(args):]))
