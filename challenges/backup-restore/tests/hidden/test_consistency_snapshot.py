"""The backup is one consistent snapshot of a live database, taken while writes continue."""

import json
import random
import threading
from contextlib import closing
from pathlib import Path

import backup
from _bk import (
    ACCOUNTS,
    START_BALANCE,
    T0,
    add_notes,
    backup_dir_of,
    connect,
    differences,
    listed_files,
    make_app,
    note_keys,
    read_only,
    tree,
    write_upload,
)


def test_committed_rows_still_in_the_wal_are_backed_up(tmp_path):
    db_path, uploads = make_app(tmp_path / "app", wal=True, notes=20)
    with closing(connect(db_path)) as app:  # the app stays up during the backup
        app.execute("PRAGMA wal_autocheckpoint=0")
        app.execute("BEGIN")
        add_notes(db_path, 30, start=20, conn=app)
        app.execute("COMMIT")
        assert Path(f"{db_path}-wal").stat().st_size > 0  # committed, not yet checkpointed
        folder = backup_dir_of(backup.create_backup(db_path, uploads, tmp_path / "backups", now=T0))
        expected = [r[0] for r in app.execute("SELECT key FROM notes ORDER BY id")]
    assert len(expected) == 50, "test setup: the notes were not written"
    got = note_keys(folder / "db.sqlite3")
    assert got == expected, (
        f"the backup holds {len(got)} of the {len(expected)} committed rows: rows committed "
        "but still in the -wal file (not yet checkpointed) are missing"
    )
    assert backup.verify_backup(folder) is True, "verify_backup() of a fresh backup is not True"


def test_uncommitted_transaction_is_not_in_the_backup(tmp_path):
    db_path, uploads = make_app(tmp_path / "app", wal=True, notes=20)
    before = note_keys(db_path)
    with closing(connect(db_path)) as app:
        app.execute("BEGIN IMMEDIATE")
        add_notes(db_path, 10, start=500, conn=app)
        folder = backup_dir_of(backup.create_backup(db_path, uploads, tmp_path / "backups", now=T0))
        app.execute("ROLLBACK")
    assert note_keys(folder / "db.sqlite3") == before, (
        "rows of a transaction that was never committed are in the backup"
    )


def test_backup_during_concurrent_transfers_is_a_consistent_snapshot(tmp_path):
    db_path, uploads = make_app(tmp_path / "app", wal=True)
    staging = tmp_path / "staging"
    staging.mkdir()
    warmed_up, stop = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer():
        rng = random.Random(42)
        try:
            with closing(connect(db_path)) as db:
                db.execute("PRAGMA synchronous=NORMAL")
                for n in range(100_000):
                    if stop.is_set():
                        break
                    src, dst = rng.sample(range(1, ACCOUNTS + 1), 2)
                    amount = rng.randint(1, 50)
                    receipt = f"receipts/r-{n:06d}.txt"
                    # the app stores the file first, then commits the row that points to it
                    write_upload(uploads, receipt, f"{src}->{dst}:{amount}\n".encode(), staging)
                    db.execute("BEGIN IMMEDIATE")
                    db.execute("UPDATE accounts SET balance = balance - ? WHERE id = ?", (amount, src))
                    db.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", (amount, dst))
                    db.execute(
                        "INSERT INTO ledger (src, dst, amount, receipt) VALUES (?, ?, ?, ?)",
                        (src, dst, amount, receipt),
                    )
                    db.execute("COMMIT")
                    if n == 40:
                        warmed_up.set()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            warmed_up.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert warmed_up.wait(30), "test setup: the writer did not start"
        manifest = backup.create_backup(db_path, uploads, tmp_path / "backups", now=T0)
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive(), "create_backup() left the writers blocked for over 30 s"
    assert not errors, errors

    folder = backup_dir_of(manifest)
    with closing(read_only(folder / "db.sqlite3")) as db:
        check = [r[0] for r in db.execute("PRAGMA integrity_check")]
        assert check == ["ok"], f"the backed-up database fails integrity_check: {check[:2]}"
        balances = dict(db.execute("SELECT id, balance FROM accounts"))
        ledger = db.execute("SELECT src, dst, amount, receipt FROM ledger").fetchall()
    assert len(ledger) > 40, (
        f"the backup holds {len(ledger)} ledger rows, but more than 40 transfers were committed "
        "before it started"
    )
    assert sum(balances.values()) == ACCOUNTS * START_BALANCE, "money appeared or vanished"
    expected = {i: START_BALANCE for i in range(1, ACCOUNTS + 1)}
    for src, dst, amount, _ in ledger:
        expected[src] -= amount
        expected[dst] += amount
    assert balances == expected, "balances and ledger come from different moments"
    missing = [r for *_, r in ledger if not (folder / "uploads" / r).is_file()]
    assert not missing, f"rows in the backup point to uploads missing from it: {missing[:3]}"
    assert backup.verify_backup(folder) is True, "verify_backup() of a fresh backup is not True"


def test_manifest_hashes_match_the_backed_up_files(tmp_path):
    db_path, uploads = make_app(tmp_path / "app", uploads=9)
    manifest_path = backup.create_backup(db_path, uploads, tmp_path / "backups", now=T0 + 1)
    folder = backup_dir_of(manifest_path)
    manifest = json.loads(manifest_path.read_text())
    assert manifest.get("created_at") == T0 + 1, "created_at is not the `now` the backup was given"
    files = listed_files(manifest)
    on_disk = {rel: data for rel, data in tree(folder).items() if rel != "manifest.json"}
    assert set(files) == set(on_disk), (
        f"the manifest's file list and the backup folder differ: "
        f"{differences(dict.fromkeys(files, b''), dict.fromkeys(on_disk, b''))}"
    )
    uploaded = {rel for rel in on_disk if rel.startswith("uploads/")}
    assert uploaded == {f"uploads/{r}" for r in tree(uploads)}, "the backup's uploads are not the app's"
    import hashlib

    for rel, data in on_disk.items():
        meta = files[rel] if isinstance(files[rel], dict) else {}
        assert meta.get("sha256") == hashlib.sha256(data).hexdigest(), (
            f"{rel}: the manifest has no sha256 of the file, or the wrong one"
        )
        assert meta.get("size") == len(data), f"{rel}: the manifest's size is not the file's"


def test_two_backups_do_not_collide(tmp_path):
    db_path, uploads = make_app(tmp_path / "app")
    first = backup.create_backup(db_path, uploads, tmp_path / "backups", now=T0)
    add_notes(db_path, 3, start=300)
    second = backup.create_backup(db_path, uploads, tmp_path / "backups", now=T0 + 1)
    assert first.parent != second.parent, "two backups a second apart share one folder"
    counts = len(note_keys(first.parent / "db.sqlite3")), len(note_keys(second.parent / "db.sqlite3"))
    assert counts == (20, 23), f"the two backups hold {counts} rows instead of (20, 23)"
