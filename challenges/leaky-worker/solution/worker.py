"""Invoice worker: turns order job files into invoice rows.

Each job is a JSON file in `jobs_dir`, for example `order-00042.json`:

    {"order_id": "A-00042", "customer": "acme",
     "lines": [{"sku": "PEN-01", "qty": 3, "unit_cents": 150}, ...]}

`process(job)` turns one job into a row of the `invoices` table; `run(jobs, threads)` works
through a batch with a thread pool and records the jobs that failed.
"""

import json
import logging
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

log = logging.getLogger("worker")

SCHEMA = """
CREATE TABLE IF NOT EXISTS invoices (
    order_id    TEXT PRIMARY KEY,
    customer    TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    line_count  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS worker_status (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    processed INTEGER NOT NULL,
    last_job  TEXT
);
INSERT OR IGNORE INTO worker_status (id, processed) VALUES (1, 0);
PRAGMA journal_mode = WAL;
"""


class JobError(ValueError):
    """A job file whose content cannot be turned into an invoice."""


def invoice_total(job, order):
    """(total_cents, line_count) of an order; JobError if the order is malformed."""
    if not isinstance(order, dict):
        raise JobError(f"{job}: expected a JSON object")
    for key in ("order_id", "customer", "lines"):
        if key not in order:
            raise JobError(f"{job}: missing field {key!r}")
    lines = order["lines"]
    if not isinstance(lines, list) or not lines:
        raise JobError(f"{job}: 'lines' must be a non-empty list")
    total = 0
    for i, line in enumerate(lines):
        qty, unit = line.get("qty"), line.get("unit_cents")
        if type(qty) is not int or qty <= 0:
            raise JobError(f"{job}: line {i}: qty must be a positive integer")
        if type(unit) is not int or unit < 0:
            raise JobError(f"{job}: line {i}: unit_cents must be a non-negative integer")
        total += qty * unit
    return total, len(lines)


class Worker:
    def __init__(self, db_path, jobs_dir):
        self.db_path = str(db_path)
        self.jobs_dir = Path(jobs_dir)
        self.processed = 0  # jobs that produced an invoice
        self.failed = 0  # jobs that failed inside run()
        self.errors = []  # (job, exception) for each failed job
        self._lock = threading.Lock()  # guards processed, failed and the status row
        with closing(self._connect()) as conn:
            conn.executescript(SCHEMA)
            conn.commit()

    def _connect(self):
        conn = sqlite3.connect(self.db_path, timeout=30)
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL mode: fsync at checkpoints only
        return conn

    def process(self, job):
        """Turn the job file `job` (a name inside jobs_dir) into an invoice; return its total."""
        # Read and validate first: nothing is held open while the job can still fail.
        with open(self.jobs_dir / job, encoding="utf-8") as f:
            try:
                order = json.load(f)
            except json.JSONDecodeError as exc:
                raise JobError(f"{job}: not valid JSON ({exc})") from None
        total, line_count = invoice_total(job, order)

        # closing() closes the connection on every path; `with conn` alone only commits.
        with closing(self._connect()) as conn:
            with conn:  # one transaction: committed on success, rolled back on error
                conn.execute(
                    "INSERT INTO invoices (order_id, customer, total_cents, line_count) "
                    "VALUES (?, ?, ?, ?)",
                    (order["order_id"], order["customer"], total, line_count),
                )
            # The read-modify-write of the counter and the status row happen under one lock,
            # so no other thread can read the same value in between.
            with self._lock:
                done = self.processed + 1
                with conn:
                    conn.execute(
                        "UPDATE worker_status SET processed = ?, last_job = ? WHERE id = 1",
                        (done, job),
                    )
                self.processed = done
        return total

    def run(self, jobs, threads=4):
        """Process every job with `threads` threads. Failures are logged and recorded, never raised."""

        def one(job):
            try:
                self.process(job)
            except Exception as exc:
                log.warning("job %s failed: %s", job, exc)
                with self._lock:
                    self.failed += 1
                    self.errors.append((job, exc))

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(one, jobs))
