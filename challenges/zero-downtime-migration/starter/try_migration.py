"""Rehearse the deploy on a copy of users.db while both service versions write, and report.

    python try_migration.py            # expand, backfill, contract, then undo them all
    python try_migration.py up         # only expand, backfill, contract

Works on rehearsal.db, a fresh copy of users.db (make that with `python seed_users.py
users.db`); prints, step by step, how many writes each version made and which failed.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import threading
import time
from contextlib import closing

import migration
from apps import V1, V2


def writer(version: str, stop: threading.Event, counts: dict, errors: list) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        try:
            if version == "v1":
                V1.create_user("rehearsal.db", f"Test User{n}", f"v1-{n}@example.com")
            else:
                V2.create_user("rehearsal.db", "Test", f"User {n}", f"v2-{n}@example.com")
            counts[version] += 1
        except Exception as exc:  # noqa: BLE001 - shown below
            errors.append(f"{version}: {type(exc).__name__}: {exc}")
        time.sleep(0.002)


def main(only_up: bool) -> None:
    try:
        shutil.copyfile("users.db", "rehearsal.db")
    except FileNotFoundError:
        sys.exit("users.db is missing: make it with `python seed_users.py users.db`")
    plan = [("expand", ["v1"]), ("backfill", ["v1", "v2"]), ("contract", ["v2"])]
    if not only_up:
        plan += [
            ("undo_contract", ["v2"]),
            ("undo_backfill", ["v1", "v2"]),
            ("undo_expand", ["v1"]),
        ]
    for step, running in plan:
        stop, counts, errors = threading.Event(), {"v1": 0, "v2": 0}, []
        threads = [threading.Thread(target=writer, args=(v, stop, counts, errors)) for v in running]
        for t in threads:
            t.start()
        start = time.perf_counter()
        try:
            getattr(migration, step)("rehearsal.db")
            outcome = f"done in {time.perf_counter() - start:.2f} s"
        except Exception as exc:  # noqa: BLE001 - shown below
            outcome = f"FAILED: {type(exc).__name__}: {exc}"
        time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        writes = ", ".join(f"{v} {counts[v]} writes" for v in running)
        print(f"{step:<14} {outcome}; meanwhile {writes}, {len(errors)} failed")
        for line in errors[:2]:
            print("    ", line)
        if outcome.startswith("FAILED"):
            break
    with closing(sqlite3.connect("rehearsal.db")) as db:
        cols = [r[1] for r in db.execute("PRAGMA table_info(users)")]
        count = db.execute("SELECT count(*) FROM users").fetchone()[0]
    print(f"rehearsal.db: {count} users, columns {cols}")


if __name__ == "__main__":
    main(only_up=sys.argv[1:] == ["up"])
