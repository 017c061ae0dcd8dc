"""Backups of the app's SQLite database and its uploads folder.

Layout of one backup (a folder under backups_root):
    <backup>/db.sqlite3
    <backup>/uploads/...          same tree as the live uploads folder
    <backup>/manifest.json        written last: a folder without it is not a backup
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import time
from contextlib import closing
from pathlib import Path

DB_NAME = "db.sqlite3"
UPLOADS_NAME = "uploads"
MANIFEST_NAME = "manifest.json"


class BackupError(Exception):
    """A backup is missing, incomplete or damaged."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())


def create_backup(db_path, uploads_dir, backups_root, *, now: float | None = None) -> Path:
    """Back up the database and uploads; return the path of the new backup's manifest."""
    now = time.time() if now is None else now
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1e6) % 1_000_000:06d}Z"
    root = Path(backups_root)
    root.mkdir(parents=True, exist_ok=True)
    dest = root / stamp
    dest.mkdir()

    # 1. The database first, through SQLite's online backup API: one consistent snapshot that
    #    includes whatever sits committed in the -wal file, and nothing uncommitted.
    with closing(sqlite3.connect(db_path, timeout=30)) as src, closing(
        sqlite3.connect(dest / DB_NAME)
    ) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
    # 2. Then the uploads: every file a row of the snapshot refers to was written before that
    #    row was committed, so it is already there. Uploads appear atomically and never change.
    uploads = Path(uploads_dir)
    (dest / UPLOADS_NAME).mkdir()
    if uploads.is_dir():
        shutil.copytree(uploads, dest / UPLOADS_NAME, dirs_exist_ok=True)
    # 3. Hash what was copied (not the live files, which may change meanwhile).
    files = {}
    for path in _files(dest):
        rel = path.relative_to(dest).as_posix()
        files[rel] = {"size": path.stat().st_size, "sha256": _sha256(path)}
        _fsync(path)
    # 4. The manifest last, atomically: a crash before this leaves no half-backup behind.
    manifest = dest / MANIFEST_NAME
    tmp = dest / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps({"created_at": now, "files": files}, indent=1, sort_keys=True))
    _fsync(tmp)
    os.replace(tmp, manifest)
    return manifest


def _load_manifest(backup_dir: Path) -> dict:
    try:
        manifest = json.loads((backup_dir / MANIFEST_NAME).read_text())
        files = manifest["files"]
        float(manifest["created_at"])
        if not isinstance(files, dict):
            raise TypeError("files")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{MANIFEST_NAME}: missing or unreadable ({exc})") from None
    return manifest


def verify_backup(backup_dir) -> bool:
    """Return True if the backup is complete and intact; raise BackupError naming the file."""
    backup_dir = Path(backup_dir)
    files = _load_manifest(backup_dir)["files"]
    if DB_NAME not in files:
        raise BackupError(f"{DB_NAME}: not listed in the manifest")
    for rel, meta in sorted(files.items()):
        path = backup_dir / rel
        if not path.is_file():
            raise BackupError(f"{rel}: missing")
        if path.stat().st_size != meta.get("size") or _sha256(path) != meta.get("sha256"):
            raise BackupError(f"{rel}: contents do not match the manifest")
    for path in _files(backup_dir):
        rel = path.relative_to(backup_dir).as_posix()
        if rel != MANIFEST_NAME and rel not in files:
            raise BackupError(f"{rel}: not listed in the manifest")
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def restore(backup_dir, db_path, uploads_dir) -> None:
    """Replace the live database and uploads with the backup's, all or nothing.

    The app must be stopped. Everything is staged beside the targets (same filesystem), and
    swapped in with renames only once it is complete; any failure leaves the originals as they
    were.
    """
    backup_dir = Path(backup_dir)
    verify_backup(backup_dir)
    db_path, uploads_dir = Path(db_path), Path(uploads_dir)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    uploads_dir.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    staged_db = db_path.with_name(f".{db_path.name}.restore-{token}")
    staged_uploads = uploads_dir.with_name(f".{uploads_dir.name}.restore-{token}")
    old_uploads = uploads_dir.with_name(f".{uploads_dir.name}.old-{token}")
    try:
        # stage
        shutil.copyfile(backup_dir / DB_NAME, staged_db)
        _fsync(staged_db)
        if (backup_dir / UPLOADS_NAME).is_dir():
            shutil.copytree(backup_dir / UPLOADS_NAME, staged_uploads)
        else:
            staged_uploads.mkdir()
        # fold the live db's -wal into it so removing the -wal below loses nothing
        if db_path.exists():
            try:
                with closing(sqlite3.connect(db_path, timeout=30)) as live:
                    live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError:
                pass
        # swap: uploads aside, staged uploads in, then the db
        had_uploads = uploads_dir.exists()
        if had_uploads:
            os.rename(uploads_dir, old_uploads)
        try:
            os.rename(staged_uploads, uploads_dir)
            for suffix in ("-wal", "-shm", "-journal"):  # they belong to the old database
                side = Path(str(db_path) + suffix)
                if side.exists():
                    side.unlink()
            os.replace(staged_db, db_path)
        except BaseException:
            if uploads_dir.exists() and (old_uploads.exists() or not had_uploads):
                os.rename(uploads_dir, staged_uploads)
            if old_uploads.exists():
                os.rename(old_uploads, uploads_dir)
            raise
    finally:
        for leftover in (staged_db, staged_uploads, old_uploads):
            _remove(leftover)


def list_backups(backups_root) -> list[tuple[float, Path]]:
    """Complete backups (those with a manifest) as (created_at, folder), oldest first."""
    found = []
    root = Path(backups_root)
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        if not (folder / MANIFEST_NAME).is_file():
            continue  # interrupted backup: never finished, never used
        try:
            created = float(json.loads((folder / MANIFEST_NAME).read_text())["created_at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        found.append((created, folder))
    return sorted(found)


def restore_as_of(backups_root, when: float, db_path, uploads_dir) -> Path:
    """Restore the latest backup taken at or before `when`; return its folder."""
    candidates = [(created, folder) for created, folder in list_backups(backups_root) if created <= when]
    if not candidates:
        raise BackupError(f"no backup at or before {when}")
    _, chosen = max(candidates)
    restore(chosen, db_path, uploads_dir)
    return chosen
