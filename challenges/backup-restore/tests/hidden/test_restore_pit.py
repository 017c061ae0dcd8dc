"""Restore is all-or-nothing; point-in-time restore picks the right backup."""

import shutil
from contextlib import closing
from pathlib import Path

import backup
import pytest
from _bk import (
    T0,
    add_notes,
    backup_dir_of,
    connect,
    differences,
    flip_byte,
    live_note_keys,
    make_app,
    tree,
    write_upload,
)

from tui_assess.judge import candidate

HOUR = 3600


@pytest.fixture(scope="module")
def _built_history(tmp_path_factory):
    """Backups at T0, T0+1h, T0+2h with 20, 25, 30 notes and 12, 13, 14 uploads (built once)."""
    base = tmp_path_factory.mktemp("history")
    db_path, uploads = make_app(base / "app", notes=20, uploads=12)
    root = base / "backups"
    states = []
    for i in range(3):
        if i:
            add_notes(db_path, 5, start=20 + 5 * (i - 1))
            write_upload(uploads, f"avatars/new-{i}.bin", bytes([i]) * 300)
        folder = backup_dir_of(backup.create_backup(db_path, uploads, root, now=T0 + i * HOUR))
        states.append((folder.name, live_note_keys(db_path), tree(uploads)))
    add_notes(db_path, 7, start=900)  # the live state moved on after the last backup
    write_upload(uploads, "avatars/live-only.bin", b"live")
    return base, states


@pytest.fixture
def history(_built_history, tmp_path):
    """A private copy of the app and its backups: (db_path, uploads, backups_root, states)."""
    base, built = _built_history
    shutil.copytree(base, tmp_path / "h")
    root = tmp_path / "h" / "backups"
    states = [(root / name, keys, files) for name, keys, files in built]
    return tmp_path / "h" / "app" / "app.db", tmp_path / "h" / "app" / "uploads", root, states


def unchanged(db_path, uploads, keys, files):
    """Fail, in words, unless the live app still holds what it held before a refused restore."""
    got = live_note_keys(db_path)
    assert got == keys, f"the live database changed: {len(got)} rows instead of {len(keys)}"
    assert tree(uploads) == files, f"the live uploads changed: {differences(tree(uploads), files)}"


def restored(db_path, uploads, state, when):
    """Fail, in words, unless the live app now holds `state` (restored as of `when`)."""
    folder, keys, files = state
    got = live_note_keys(db_path)
    assert got == keys, (
        f"{when}: the database holds {len(got)} rows, the backup from {folder.name} has "
        f"{len(keys)}"
    )
    assert tree(uploads) == files, (
        f"{when}: the uploads differ from the backup's: {differences(tree(uploads), files)}"
    )


def chose(used, state, when):
    assert Path(used) == state[0], (
        f"{when}: restore_as_of() used the backup {Path(used).name}, not the latest one at or "
        f"before that time ({state[0].name})"
    )


def test_restore_as_of_picks_latest_backup_at_or_before(history):
    db_path, uploads, root, states = history
    used = backup.restore_as_of(root, T0 + HOUR + 1800, db_path, uploads)
    chose(used, states[1], "between the 2nd and 3rd backups")
    restored(db_path, uploads, states[1], "between the 2nd and 3rd backups")


def test_restore_as_of_exact_timestamp_and_far_future(history):
    db_path, uploads, root, states = history
    used = backup.restore_as_of(root, T0 + 2 * HOUR, db_path, uploads)
    chose(used, states[2], "at the exact time of the last backup")
    restored(db_path, uploads, states[2], "at the exact time of the last backup")
    used = backup.restore_as_of(root, T0 + 365 * 86400, db_path, uploads)
    chose(used, states[2], "a year after the last backup")


def test_restore_as_of_before_first_backup_fails_and_changes_nothing(history):
    db_path, uploads, root, _ = history
    keys, files = live_note_keys(db_path), tree(uploads)
    with pytest.raises(backup.BackupError):
        backup.restore_as_of(root, T0 - 1, db_path, uploads)
    unchanged(db_path, uploads, keys, files)


def test_restore_as_of_ignores_a_backup_without_manifest(history):
    db_path, uploads, root, states = history
    unfinished = root / "29991231T235959000000Z"  # crashed mid-backup: newest, but incomplete
    (unfinished / "uploads").mkdir(parents=True)
    (unfinished / "db.sqlite3").write_bytes((states[0][0] / "db.sqlite3").read_bytes())
    used = backup.restore_as_of(root, T0 + 10 * HOUR, db_path, uploads)
    chose(used, states[2], "with a newer backup that has no manifest")
    restored(db_path, uploads, states[2], "with a newer backup that has no manifest")


def test_damaged_backup_is_refused_and_nothing_changes(history):
    db_path, uploads, root, states = history
    keys, files = live_note_keys(db_path), tree(uploads)
    flip_byte(states[1][0] / "uploads" / "avatars" / "new-1.bin")
    with pytest.raises(backup.BackupError):
        backup.restore(states[1][0], db_path, uploads)
    unchanged(db_path, uploads, keys, files)


def test_failed_swap_leaves_the_original_intact(history, monkeypatch):
    db_path, uploads, _, states = history
    keys, files = live_note_keys(db_path), tree(uploads)
    db_bytes = db_path.read_bytes()
    calls = []
    host_os = candidate.module("os")  # the fault goes into restore()'s process
    real_rename, real_replace = host_os.rename, host_os.replace

    def failing(real):
        def wrapper(*args, **kwargs):
            calls.append(args)
            if len(calls) == 1:
                raise OSError(28, "No space left on device (simulated)")
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(host_os, "rename", failing(real_rename))
    monkeypatch.setattr(host_os, "replace", failing(real_replace))
    with pytest.raises(OSError):
        backup.restore(states[0][0], db_path, uploads)
    monkeypatch.undo()
    assert calls, "restore must stage the new files and rename them into place"
    assert db_path.read_bytes() == db_bytes, "the live database file changed"
    unchanged(db_path, uploads, keys, files)


def test_restore_removes_uploads_not_in_the_backup(history):
    db_path, uploads, _, states = history
    backup.restore(states[0][0], db_path, uploads)
    assert not (uploads / "avatars" / "live-only.bin").exists(), (
        "an upload made after the backup is still there after restoring it"
    )
    restored(db_path, uploads, states[0], "restore of the first backup")


def test_restore_discards_the_old_databases_wal(history):
    db_path, uploads, _, states = history
    with closing(connect(db_path)) as app:
        app.execute("PRAGMA journal_mode=WAL")
        app.execute("PRAGMA wal_autocheckpoint=0")
        app.execute("BEGIN")
        add_notes(db_path, 40, start=2000, conn=app)
        app.execute("COMMIT")
        crashed_db = db_path.read_bytes()
        crashed_wal = Path(f"{db_path}-wal").read_bytes()
    # the app died: its -wal is still there next to the database
    db_path.write_bytes(crashed_db)
    Path(f"{db_path}-wal").write_bytes(crashed_wal)

    backup.restore(states[0][0], db_path, uploads)
    got = live_note_keys(db_path)
    assert got == states[0][1], (
        f"after the restore the database holds {len(got)} rows instead of the backup's "
        f"{len(states[0][1])}: the old database's -wal file was replayed over it"
    )
    with closing(connect(db_path)) as db:
        check = [r[0] for r in db.execute("PRAGMA integrity_check")]
    assert check == ["ok"], f"the restored database fails PRAGMA integrity_check: {check[:2]}"


def test_restore_onto_a_fresh_machine(history, tmp_path):
    _, _, root, states = history
    db_path, uploads = tmp_path / "new" / "data" / "app.db", tmp_path / "new" / "uploads"
    backup.restore(states[2][0], db_path, uploads)
    restored(db_path, uploads, states[2], "restore into folders that do not exist yet")
