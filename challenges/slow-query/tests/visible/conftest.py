"""Fixtures for the visible tests: a generated shop database (see seed.py)."""

from __future__ import annotations

import shutil
import sqlite3

import _seed
import pytest


@pytest.fixture(scope="session")
def shop_db_file(tmp_path_factory):
    """A small generated shop: 1,500 orders over 125 customers."""
    return _seed.build_database(str(tmp_path_factory.mktemp("shop") / "shop.db"), n_orders=1500)


@pytest.fixture
def shop_db(shop_db_file, tmp_path):
    """An open connection on a private copy of the generated shop."""
    shutil.copyfile(shop_db_file, tmp_path / "shop.db")
    conn = sqlite3.connect(tmp_path / "shop.db")
    yield conn
    conn.close()
