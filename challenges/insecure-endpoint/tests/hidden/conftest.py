"""Fixtures: a seeded shop database, a files folder with a secret next to it, and the
candidate's WSGI app served on 127.0.0.1 (ephemeral port) in a thread."""

from __future__ import annotations

import http.client
import io
import json
import random
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE, is_admin INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL,
    price_cents INTEGER NOT NULL, active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
    product_id INTEGER NOT NULL REFERENCES products(id), quantity INTEGER NOT NULL,
    note TEXT NOT NULL, created_at TEXT NOT NULL
);
"""

USERS = [  # name, email, is_admin
    ("Alice Martin", "alice@example.com", 0),
    ("Bob Okafor", "bob@example.com", 0),
    ("Carol Nguyen", "carol@example.com", 0),
    ("Dana Keller", "dana@example.com", 1),
]
NAMED_PRODUCTS = [  # name, category, active
    ("O'Brien's Cast Iron Kettle", "kitchen", 1),
    ("Electric Kettle", "kitchen", 1),
    ("Whistling Kettle", "kitchen", 0),
    ("Kettle Descaler", "kitchen", 1),
    ("Garden Hose 25m", "garden", 1),
    ("Staff-only Sample Kit", "internal", 0),
]
ADJECTIVES = ["Compact", "Deluxe", "Heavy", "Classic", "Folding", "Cordless", "Steel"]
NOUNS = {"kitchen": ["Skillet", "Toaster", "Whisk"], "garden": ["Shears", "Rake", "Planter"],
         "tools": ["Drill", "Hammer", "Wrench", "Saw"]}


@dataclass
class Shop:
    host: str
    port: int
    db_path: Path
    files_dir: Path
    tokens: dict[str, str] = field(default_factory=dict)       # first name -> token
    user_ids: dict[str, int] = field(default_factory=dict)     # first name -> id
    secrets: dict[str, Path] = field(default_factory=dict)     # label -> file outside files_dir
    secret_marker: str = ""

    def request(self, path, token=None, headers=None, method="GET"):
        """Send one request; return (status, headers dict (lower-case keys), body bytes)."""
        hdrs = dict(headers or {})
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, headers=hdrs)
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        finally:
            conn.close()

    def get_json(self, path, token=None, headers=None):
        status, _h, body = self.request(path, token, headers)
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        return status, data, body

    def db(self):
        conn = sqlite3.connect(self.db_path)
        conn.row_factory = sqlite3.Row
        return conn


def build_db(db_path: Path, rng: random.Random) -> dict[str, str]:
    conn = sqlite3.connect(db_path)
    conn.executescript(SCHEMA)
    tokens = {}
    for i, (name, email, admin) in enumerate(USERS, start=1):
        token = "%032x" % rng.getrandbits(128)
        tokens[name.split()[0].lower()] = token
        conn.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)", (i, name, email, token, admin))
    products = list(NAMED_PRODUCTS)
    for cat, nouns in NOUNS.items():
        for noun in nouns:
            for adj in rng.sample(ADJECTIVES, 3):
                products.append((f"{adj} {noun}", cat, 1 if rng.random() > 0.15 else 0))
    for i, (name, cat, active) in enumerate(products, start=1):
        conn.execute(
            "INSERT INTO products VALUES (?, ?, ?, ?, ?)",
            (i, name, cat, rng.randrange(299, 25000), active),
        )
    active_ids = [i for i, p in enumerate(products, start=1) if p[2]]
    for oid in range(1, 61):
        uid = (oid - 1) % 3 + 1 if oid <= 45 else rng.randint(1, 4)
        note = f"Ship to {rng.randint(1, 999)} Elm Street, ref {rng.getrandbits(40):010x}"
        created = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
            (oid, uid, rng.choice(active_ids), rng.randint(1, 5), note, created),
        )
    conn.commit()
    conn.close()
    return tokens


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No access log, and tracebacks of crashing requests (a 500) are not printed."""

    def log_message(self, *args):
        pass

    def get_stderr(self):
        return io.StringIO()


@pytest.fixture(scope="session")
def shop(tmp_path_factory):
    import app as candidate  # the candidate's module, from the workspace copy

    root = tmp_path_factory.mktemp("shop")
    rng = random.Random(42)
    db_path = root / "shop.db"
    tokens = build_db(db_path, rng)

    files_dir = root / "files"
    (files_dir / "manuals").mkdir(parents=True)
    (files_dir / "price-list.txt").write_text("Price list 2026\nKettle 29.90\n")
    (files_dir / "manuals" / "kettle-manual.txt").write_text("Fill with water. Switch on.\n")
    (files_dir / "Care guide.txt").write_text("Dry cast iron after washing.\n")

    marker = "TOP-SECRET-%016x" % rng.getrandbits(64)
    secret = root / "secret.txt"
    secret.write_text(f"{marker}\nDB_PASSWORD=hunter2\n")
    sibling = root / "files-private"  # shares the "files" prefix: catches naive startswith
    sibling.mkdir()
    (sibling / "secret.txt").write_text(f"{marker}\nsigning key\n")

    wsgi_app = candidate.make_app(str(db_path), str(files_dir))
    server = make_server(
        "127.0.0.1", 0, wsgi_app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        conn = sqlite3.connect(db_path)
        ids = {name.split()[0].lower(): uid for uid, name in conn.execute("SELECT id, name FROM users")}
        conn.close()
        yield Shop(
            host="127.0.0.1",
            port=server.server_address[1],
            db_path=db_path,
            files_dir=files_dir,
            tokens=tokens,
            user_ids=ids,
            secrets={"outside": secret, "sibling": sibling / "secret.txt"},
            secret_marker=marker,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
