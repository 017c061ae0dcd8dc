"""Deterministic job files (random.Random(42)) and resource probes for the worker tests."""

import json
import random
import sqlite3
from contextlib import closing, contextmanager

from tui_assess.judge import candidate

CUSTOMERS = ["acme", "globex", "initech", "umbrella", "hooli", "stark"]

# Malformed job contents; each must make process() raise JobError.
BAD_CONTENTS = {
    "truncated-json": '{"order_id": "X-1", "customer": "acme", "lines": [',
    "not-an-object": "[1, 2, 3]",
    "missing-lines": json.dumps({"order_id": "X-2", "customer": "acme"}),
    "empty-lines": json.dumps({"order_id": "X-3", "customer": "acme", "lines": []}),
    "zero-qty": json.dumps(
        {"order_id": "X-4", "customer": "acme", "lines": [{"sku": "A", "qty": 0, "unit_cents": 5}]}
    ),
    "text-qty": json.dumps(
        {"order_id": "X-5", "customer": "acme", "lines": [{"sku": "A", "qty": "2", "unit_cents": 5}]}
    ),
    "negative-price": json.dumps(
        {"order_id": "X-6", "customer": "acme", "lines": [{"sku": "A", "qty": 1, "unit_cents": -5}]}
    ),
}


class Jobs:
    """Writes job files into a folder and remembers what the invoices should be."""

    def __init__(self, folder, seed=42):
        self.folder = folder
        self.rng = random.Random(seed)
        self.expected = {}  # order_id -> (customer, total_cents, line_count)
        self.n = 0

    def good(self, count):
        names = []
        for _ in range(count):
            self.n += 1
            order_id = f"A-{self.n:05d}"
            lines = [
                {
                    "sku": f"SKU-{self.rng.randrange(1000):03d}",
                    "qty": self.rng.randint(1, 9),
                    "unit_cents": self.rng.randrange(50, 20000),
                }
                for _ in range(self.rng.randint(1, 6))
            ]
            customer = self.rng.choice(CUSTOMERS)
            name = f"order-{self.n:05d}.json"
            (self.folder / name).write_text(
                json.dumps({"order_id": order_id, "customer": customer, "lines": lines}),
                encoding="utf-8",
            )
            total = sum(line["qty"] * line["unit_cents"] for line in lines)
            self.expected[order_id] = (customer, total, len(lines))
            names.append(name)
        return names

    def bad(self, count, kinds=None):
        """`count` malformed jobs, cycling through the kinds of BAD_CONTENTS."""
        kinds = kinds or sorted(BAD_CONTENTS)
        names = []
        for i in range(count):
            self.n += 1
            kind = kinds[i % len(kinds)]
            name = f"bad-{self.n:05d}-{kind}.json"
            (self.folder / name).write_text(BAD_CONTENTS[kind], encoding="utf-8")
            names.append(name)
        return names

    def mixed(self, good, bad):
        names = self.good(good) + self.bad(bad)
        self.rng.shuffle(names)
        return names


def open_paths(under):
    """Paths under the folder `under` that the worker's process holds open (seen from outside)."""
    prefix = str(under)
    return sorted(f.path for f in candidate.process().open_files() if f.path.startswith(prefix))


def fd_count():
    return candidate.process().num_fds()


@contextmanager
def gc_paused():
    """Resources must be released when a job ends, not when the garbage collector runs."""
    gc = candidate.module("gc")  # the collector of the worker's process
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


def invoices(db_path):
    """order_id -> (customer, total_cents, line_count) as stored by the worker."""
    with closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute("SELECT order_id, customer, total_cents, line_count FROM invoices")
        return {r[0]: tuple(r[1:]) for r in rows}
