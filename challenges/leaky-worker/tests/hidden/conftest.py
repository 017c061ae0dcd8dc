import logging

import pytest

from _jobs import Jobs

# run() logs each failed job at WARNING; keep the test output short (and out of pytest's
# captured-log report, which would repeat hundreds of lines for every failing test).
_log = logging.getLogger("worker")
_log.addHandler(logging.NullHandler())
_log.propagate = False


@pytest.fixture
def jobs_dir(tmp_path):
    folder = tmp_path / "jobs"
    folder.mkdir()
    return folder


@pytest.fixture
def jobs(jobs_dir):
    return Jobs(jobs_dir, seed=42)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "invoices.db"


@pytest.fixture
def new_worker(db_path, jobs_dir):
    import worker

    return lambda: worker.Worker(db_path, jobs_dir)

