"""Happy path: jobs become invoices; a bad job is recorded, not raised by run()."""

import json
import sqlite3
from contextlib import closing

import worker
from _probe import open_paths


def write_job(folder, n, lines):
    name = f"order-{n:05d}.json"
    order = {"order_id": f"A-{n:05d}", "customer": "acme", "lines": lines}
    (folder / name).write_text(json.dumps(order), encoding="utf-8")
    return name


def stored(db_path):
    with closing(sqlite3.connect(db_path)) as conn:
        return conn.execute(
            "SELECT order_id, total_cents, line_count FROM invoices ORDER BY order_id"
        ).fetchall()


def test_visible_single_job_becomes_an_invoice(db_path, jobs_dir):
    name = write_job(jobs_dir, 1, [{"sku": "PEN", "qty": 3, "unit_cents": 150}, {"sku": "INK", "qty": 1, "unit_cents": 999}])
    w = worker.Worker(db_path, jobs_dir)
    assert w.process(name) == 3 * 150 + 999
    assert stored(db_path) == [("A-00001", 1449, 2)]
    assert w.processed == 1


def test_visible_batch_on_one_thread(db_path, jobs_dir):
    names = [write_job(jobs_dir, n, [{"sku": "PEN", "qty": n, "unit_cents": 100}]) for n in range(1, 21)]
    w = worker.Worker(db_path, jobs_dir)
    w.run(names, threads=1)
    assert len(stored(db_path)) == 20
    assert (w.processed, w.failed) == (20, 0)


def test_visible_bad_job_is_recorded(db_path, jobs_dir):
    good = write_job(jobs_dir, 1, [{"sku": "PEN", "qty": 1, "unit_cents": 100}])
    (jobs_dir / "broken.json").write_text('{"order_id": "A-2", "lines": [', encoding="utf-8")
    w = worker.Worker(db_path, jobs_dir)
    w.run([good, "broken.json"], threads=2)
    assert (w.processed, w.failed) == (1, 1)
    assert [job for job, _error in w.errors] == ["broken.json"]
    assert isinstance(w.errors[0][1], worker.JobError)


def test_visible_a_failed_job_leaves_nothing_open(db_path, jobs_dir):
    """Production's "Too many open files", scaled down to one bad job."""
    good = write_job(jobs_dir, 1, [{"sku": "PEN", "qty": 1, "unit_cents": 100}])
    (jobs_dir / "broken.json").write_text('{"order_id": "A-2", "lines": [', encoding="utf-8")
    w = worker.Worker(db_path, jobs_dir)
    w.run([good, "broken.json"], threads=2)
    still_open = open_paths(jobs_dir.parent)
    assert still_open == [], f"after run() returned, the worker still holds open: {still_open}"
