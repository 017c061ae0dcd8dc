import sqlite3
from pathlib import Path

import pytest

from _data import generate, load


def open_db(path):
    """A connection in autocommit mode with foreign keys on and the candidate's schema loaded."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = OFF")  # test data only: skip fsync, keep the suite fast
    conn.executescript(Path("schema.sql").read_text(encoding="utf-8"))
    return conn


@pytest.fixture
def db(tmp_path):
    conn = open_db(tmp_path / "booking.db")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def dataset():
    return generate(seed=42)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, dataset):
    """A module-wide database holding the generated data set (read-only for tests)."""
    conn = open_db(tmp_path_factory.mktemp("loaded") / "booking.db")
    load(conn, dataset)
    yield conn
    conn.close()
