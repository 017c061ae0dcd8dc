"""Fixtures for the hidden suite: generated databases and small hand-built ones."""

from __future__ import annotations

import shutil
import sqlite3

import _seed
import pytest


@pytest.fixture(scope="session")
def medium_db_file(tmp_path_factory):
    """~3,000 orders over 250 customers: big enough to be realistic, small enough for N+1."""
    return _seed.build_database(str(tmp_path_factory.mktemp("medium") / "medium.db"), n_orders=3000)


@pytest.fixture(scope="session")
def full_db_file(tmp_path_factory):
    """The production-sized database: 60,000 orders, ~220,000 rows in all."""
    return _seed.build_database(str(tmp_path_factory.mktemp("full") / "full.db"), n_orders=60_000)


@pytest.fixture
def copy_db(tmp_path):
    """copy_db(src, name) -> an open connection on a private copy of the database at src."""
    conns = []

    def _copy(src: str, name: str = "copy.db") -> sqlite3.Connection:
        dst = tmp_path / name
        shutil.copyfile(src, dst)
        conn = sqlite3.connect(dst)
        conns.append(conn)
        return conn

    yield _copy
    for conn in conns:
        conn.close()


@pytest.fixture
def shop(tmp_path):
    """shop(customers, orders, items) -> connection on a hand-built database.

    customers: [(id, name)]; orders: [(id, customer_id, status, created_at)];
    items: [(order_id, quantity, unit_price_cents)].
    """
    conns = []

    def _build(customers, orders, items) -> sqlite3.Connection:
        conn = sqlite3.connect(tmp_path / f"shop{len(conns)}.db")
        conns.append(conn)
        _seed.create_schema(conn)
        with conn:
            conn.executemany(
                "INSERT INTO customers VALUES (?, ?, ?, '2022-06-01 12:00:00')",
                [(cid, name, f"c{cid}@example.com") for cid, name in customers],
            )
            conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", orders)
            conn.executemany(
                "INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) "
                "VALUES (?, 'SKU-1', ?, ?)",
                items,
            )
        return conn

    yield _build
    for conn in conns:
        conn.close()
