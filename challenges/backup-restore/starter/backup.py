"""Backups of the app's SQLite database and its uploads folder.

Layout of one backup (a folder under backups_root):
    <backup>/db.sqlite3
    <backup>/uploads/...          same tree as the live uploads folder
    <backup>/manifest.json
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

DB_NAME = "db.sqlite3"
UPLOADS_NAME = "uploads"
MANIFEST_NAME = "manifest.json"


class BackupError(Exception):
    """A backup is missing, incomplete or damaged."""


def create_backup(db_path, uploads_dir, backups_root, *, now: float | None = None) -> Path:
    """Back up the database and uploads; return the path of the new backup's manifest."""
    now = time.time() if now is None else now
    dest = Path(backups_root) / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    dest.mkdir(parents=True)
    shutil.copytree(uploads_dir, dest / UPLOADS_NAME)
    shutil.copy(db_path, dest / DB_NAME)
    manifest = dest / MANIFEST_NAME
    manifest.write_text(json.dumps({"created_at": now}))
    return manifest


def verify_backup(backup_dir) -> bool:
    """Return True if the backup is complete and intact; raise BackupError otherwise."""
    backup_dir = Path(backup_dir)
    if not (backup_dir / DB_NAME).exists():
        raise BackupError(f"{DB_NAME} is missing")
    return True


def restore(backup_dir, db_path, uploads_dir) -> None:
    """Replace the live database and uploads with the backup's."""
    backup_dir = Path(backup_dir)
    verify_backup(backup_dir)
    shutil.copy(backup_dir / DB_NAME, db_path)
    os.makedirs(uploads_dir, exist_ok=True)
    shutil.copytree(backup_dir / UPLOADS_NAME, uploads_dir, dirs_exist_ok=True)


def restore_as_of(backups_root, when: float, db_path, uploads_dir) -> Path:
    """Restore the latest backup taken at or before `when`; return its folder."""
    backups = sorted(p for p in Path(backups_root).iterdir() if p.is_dir())
    for backup in reversed(backups):
        created = json.loads((backup / MANIFEST_NAME).read_text())["created_at"]
        if created <= when:
            restore(backup, db_path, uploads_dir)
            return backup
    raise BackupError(f"no backup at or before {when}")
