"""Helpers for the backup tests: a small app (SQLite + uploads) generated deterministically."""

import hashlib
import json
import os
import random
import sqlite3
from contextlib import closing
from pathlib import Path

ACCOUNTS = 40
START_BALANCE = 1000
T0 = 1_767_225_600.0  # backup timestamps in the tests: T0, T0 + 3600, ...


def connect(db_path) -> sqlite3.Connection:
    return sqlite3.connect(db_path, timeout=30, isolation_level=None)


def read_only(db_path) -> sqlite3.Connection:
    """Open a file without touching it (no -wal/-shm created)."""
    uri = Path(db_path).resolve().as_uri() + "?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True)


def init_db(db_path, *, wal: bool = False) -> None:
    with closing(connect(db_path)) as db:
        if wal:
            db.execute("PRAGMA journal_mode=WAL")
        db.executescript(
            """
            BEGIN;
            CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
            CREATE TABLE ledger (id INTEGER PRIMARY KEY, src INTEGER, dst INTEGER,
                                 amount INTEGER NOT NULL, receipt TEXT NOT NULL);
            CREATE TABLE notes (id INTEGER PRIMARY KEY, key TEXT NOT NULL, body TEXT NOT NULL);
            CREATE INDEX notes_key ON notes(key);
            """
        )
        db.executemany(
            "INSERT INTO accounts (id, balance) VALUES (?, ?)",
            [(i, START_BALANCE) for i in range(1, ACCOUNTS + 1)],
        )
        db.execute("COMMIT")


def add_notes(db_path, count: int, *, start: int = 0, conn=None) -> None:
    rng = random.Random(42 + start)
    rows = [(f"key-{i:04d}", "".join(rng.choices("abcdefgh ", k=60))) for i in range(start, start + count)]
    if conn is not None:
        conn.executemany("INSERT INTO notes (key, body) VALUES (?, ?)", rows)
        return
    with closing(connect(db_path)) as db:
        db.execute("BEGIN")
        db.executemany("INSERT INTO notes (key, body) VALUES (?, ?)", rows)
        db.execute("COMMIT")


def write_upload(uploads_dir, rel: str, data: bytes, staging_dir=None) -> None:
    """Write like the app does: complete file first, then an atomic rename into place."""
    target = Path(uploads_dir) / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(staging_dir) if staging_dir else target.parent
    tmp = staging / (".tmp-" + target.name)
    tmp.write_bytes(data)
    os.replace(tmp, target)


def make_uploads(uploads_dir, count: int = 12, seed: int = 42) -> None:
    rng = random.Random(seed)
    for i in range(count):
        folder = ("avatars", "invoices", "invoices/2026")[i % 3]
        write_upload(uploads_dir, f"{folder}/file-{i:03d}.bin", rng.randbytes(rng.randint(200, 5000)))


def make_app(root, *, wal: bool = False, notes: int = 20, uploads: int = 12):
    """root/app.db + root/uploads; returns (db_path, uploads_dir)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    db_path, uploads_dir = root / "app.db", root / "uploads"
    init_db(db_path, wal=wal)
    add_notes(db_path, notes)
    make_uploads(uploads_dir, uploads)
    return db_path, uploads_dir


def tree(folder) -> dict[str, bytes]:
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def note_keys(db_path) -> list[str]:
    with closing(read_only(db_path)) as db:
        return [r[0] for r in db.execute("SELECT key FROM notes ORDER BY id")]


def live_note_keys(db_path) -> list[str]:
    with closing(connect(db_path)) as db:
        return [r[0] for r in db.execute("SELECT key FROM notes ORDER BY id")]


def backup_dir_of(manifest_path) -> Path:
    return Path(manifest_path).parent


def flip_byte(path, offset: int | None = None) -> None:
    data = bytearray(Path(path).read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] ^= 0x5A
    Path(path).write_bytes(bytes(data))


def listed_files(manifest) -> dict:
    """The manifest's "files" object, or a failure that says it is missing."""
    files = manifest.get("files") if isinstance(manifest, dict) else None
    assert isinstance(files, dict), (
        'manifest.json has no "files" object mapping each backed-up file to its size and sha256'
    )
    return files


def differences(got: dict, want: dict) -> str:
    """How two {relative path: bytes} trees differ, in words, for failure messages."""
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    changed = sorted(rel for rel in set(got) & set(want) if got[rel] != want[rel])
    parts = [
        f"{len(names)} {what} (e.g. {names[0]})"
        for names, what in ((missing, "missing"), (extra, "extra"), (changed, "changed"))
        if names
    ]
    return ", ".join(parts) or "no difference"


def rehash(backup_dir) -> None:
    """Rewrite the manifest's size and sha256 of every listed file to match what is on disk."""
    manifest_path = Path(backup_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for rel, meta in listed_files(manifest).items():
        data = (Path(backup_dir) / rel).read_bytes()
        meta["size"] = len(data)
        meta["sha256"] = hashlib.sha256(data).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
