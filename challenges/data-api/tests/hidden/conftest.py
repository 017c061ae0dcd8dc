import pytest

from _http import seed, serve, stop


@pytest.fixture
def server(tmp_path):
    """A fresh, empty catalog served on 127.0.0.1."""
    srv, thread, client = serve(tmp_path / "catalog.db")
    try:
        yield client
    finally:
        stop(srv, thread)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    """(client, rows): 137 products (seeded random.Random(42)), shared by a module's
    read-only tests."""
    srv, thread, client = serve(tmp_path_factory.mktemp("catalog") / "catalog.db")
    try:
        yield client, seed(client, 137)
    finally:
        stop(srv, thread)


@pytest.fixture
def seeded(server):
    """(client, rows): a fresh catalog of 40 products, for tests that write."""
    return server, seed(server, 40)
