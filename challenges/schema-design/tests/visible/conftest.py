import sqlite3
from pathlib import Path

import pytest


@pytest.fixture
def db(tmp_path):
    """schema.sql loaded into a fresh database, foreign keys on, autocommit."""
    conn = sqlite3.connect(tmp_path / "booking.db", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = OFF")  # test data only: skip fsync
    conn.executescript(Path("schema.sql").read_text(encoding="utf-8"))
    yield conn
    conn.close()
