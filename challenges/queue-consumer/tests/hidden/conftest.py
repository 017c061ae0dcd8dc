import pytest
from _qc import FakeClock, new_queue


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def queue(tmp_path, clock):
    return new_queue(tmp_path, clock)


@pytest.fixture
def ledger(tmp_path):
    return tmp_path / "ledger.db"
