import pytest
from _zdm import make_db


@pytest.fixture
def db(tmp_path):
    """A production database: v1's schema, 2,000 users."""
    return make_db(tmp_path / "users.db", users=2000)
