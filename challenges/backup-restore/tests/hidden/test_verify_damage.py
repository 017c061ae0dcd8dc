"""verify_backup notices damage, and says which file."""

import re
import shutil
import sqlite3
from contextlib import closing

import backup
import pytest
from _bk import T0, backup_dir_of, flip_byte, make_app, rehash


@pytest.fixture(scope="module")
def _built(tmp_path_factory):
    base = tmp_path_factory.mktemp("verify")
    db_path, uploads = make_app(base / "app", notes=20, uploads=12)
    return backup_dir_of(backup.create_backup(db_path, uploads, base / "backups", now=T0))


@pytest.fixture
def folder(_built, tmp_path):
    """A private copy of one fresh backup."""
    shutil.copytree(_built, tmp_path / _built.name)
    return tmp_path / _built.name


def _fails_naming(folder, rel):
    with pytest.raises(backup.BackupError, match=re.escape(rel)):
        backup.verify_backup(folder)


def test_fresh_backup_verifies(folder):
    assert backup.verify_backup(folder) is True, "verify_backup() of a fresh backup is not True"


def test_flipped_byte_in_db_is_detected(folder):
    size = (folder / "db.sqlite3").stat().st_size
    flip_byte(folder / "db.sqlite3", offset=size - 100)  # same size, different bytes
    _fails_naming(folder, "db.sqlite3")


def test_flipped_byte_in_upload_is_detected(folder):
    victim = folder / "uploads" / "invoices" / "2026" / "file-005.bin"
    flip_byte(victim)
    _fails_naming(folder, "uploads/invoices/2026/file-005.bin")


def test_missing_upload_is_detected(folder):
    (folder / "uploads" / "avatars" / "file-003.bin").unlink()
    _fails_naming(folder, "uploads/avatars/file-003.bin")


def test_missing_db_is_detected(folder):
    (folder / "db.sqlite3").unlink()
    _fails_naming(folder, "db.sqlite3")


def test_extra_file_is_detected(folder):
    (folder / "uploads" / "avatars" / "planted.php").write_bytes(b"<?php system($_GET['c']);")
    _fails_naming(folder, "uploads/avatars/planted.php")


def test_missing_manifest_is_detected(folder):
    (folder / "manifest.json").unlink()
    _fails_naming(folder, "manifest.json")


def test_db_failing_integrity_check_is_detected_even_if_hashes_match(folder):
    db_file = folder / "db.sqlite3"
    with closing(sqlite3.connect(db_file)) as db:
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'notes_key'").fetchone()[0]
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(db_file.read_bytes())
    start = (root - 1) * page_size
    at = data.find(b"key-0007", start, start + page_size)
    assert at >= 0
    data[at : at + 8] = b"kez-0007"  # index entry no longer matches its row
    db_file.write_bytes(bytes(data))
    rehash(folder)  # e.g. the live database was already damaged when the backup ran
    _fails_naming(folder, "db.sqlite3")
