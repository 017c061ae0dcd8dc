"""Test helpers: serve the candidate's WSGI app on 127.0.0.1, talk to it, seed data
(straight into the products table the brief says to keep)."""

import contextlib
import http.client
import io
import json
import random
import socketserver
import sqlite3
import threading
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass

    def get_stderr(self):
        return io.StringIO()  # wsgiref prints app tracebacks here; keep test output small


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw

    @property
    def json(self):
        return json.loads(self.raw)

    def __repr__(self):
        return f"<{self.status} {self.headers.get('content-type')} {self.raw[:300]!r}>"


class Client:
    def __init__(self, port, app, db_path):
        self.port = port
        self.app = app
        self.db_path = db_path

    def request(self, method, path, body=None, raw=None, params=None):
        if params:
            path = path + "?" + urlencode(params)
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif raw is not None:
            data = raw if isinstance(raw, bytes) else raw.encode()
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            return Response(
                resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
            )
        finally:
            conn.close()

    def get(self, path, **params):
        return self.request("GET", path, params=params or None)

    def post(self, path, body=None, raw=None):
        return self.request("POST", path, body=body, raw=raw)

    def put(self, path, body=None, raw=None):
        return self.request("PUT", path, body=body, raw=raw)


def serve(db_path):
    import api

    app = api.make_app(str(db_path))
    server = make_server(
        "127.0.0.1", 0, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.daemon = True
    thread.start()
    return server, thread, Client(server.server_address[1], app, str(db_path))


def stop(server, thread):
    server.shutdown()
    server.server_close()
    thread.join(10)


CATEGORIES = ["books", "garden", "kitchen", "toys", "tools"]
PRICES = [0, 499, 999, 1500, 2500, 4999, 12000]
WORDS = ["oak", "steel", "blue", "mini", "pro", "classic", "smart", "eco", "max", "soft"]


def product_data(n=137, seed=42):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        out.append(
            {
                "sku": f"SKU-{i:05d}",
                "name": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {i}",
                "category": rng.choice(CATEGORIES),
                "price": rng.choice(PRICES),
            }
        )
    return out


def seed(client, n=137):
    """Insert n products straight into the products table (one transaction, ids 1..n);
    return them."""
    rows = [{**p, "id": i} for i, p in enumerate(product_data(n), start=1)]
    with contextlib.closing(sqlite3.connect(client.db_path, timeout=30)) as db, db:
        db.executemany(
            "INSERT INTO products (id, sku, name, category, price)"
            " VALUES (:id, :sku, :name, :category, :price)",
            rows,
        )
    return rows


def fetch_all(client, page_hook=None, max_pages=500, **params):
    """Follow next_cursor to the end; return (items, pages)."""
    items, pages, cursor = [], 0, None
    while True:
        q = dict(params)
        if cursor is not None:
            q["cursor"] = cursor
        r = client.get("/products", **q)
        assert r.status == 200, r
        body = r.json
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < max_pages, "pagination does not terminate"
        if page_hook:
            page_hook(pages)
