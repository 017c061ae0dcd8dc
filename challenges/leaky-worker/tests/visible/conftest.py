import logging

import pytest

# run() logs each failed job at WARNING; keep the test output short.
_log = logging.getLogger("worker")
_log.addHandler(logging.NullHandler())
_log.propagate = False


@pytest.fixture
def jobs_dir(tmp_path):
    folder = tmp_path / "jobs"
    folder.mkdir()
    return folder


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "invoices.db"
