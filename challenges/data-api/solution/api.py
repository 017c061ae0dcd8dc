"""Product catalog JSON API (WSGI, stdlib only). Serve with make_app(db_path)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import sqlite3
from contextlib import closing
from urllib.parse import parse_qs

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_PRICE = 100_000_000  # cents
COLUMNS = ("id", "sku", "name", "category", "price")
# sort parameter -> (column, direction). Ties are always broken by id ascending.
SORTS = {
    "id": ("id", "ASC"),
    "-id": ("id", "DESC"),
    "price": ("price", "ASC"),
    "-price": ("price", "DESC"),
    "name": ("name", "ASC"),
    "-name": ("name", "DESC"),
}
PRODUCT_PATH = re.compile(r"^/products/([0-9]{1,18})$")

REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    500: "Internal Server Error",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None, headers=()):
        super().__init__(message)
        self.status, self.message, self.field, self.headers = status, message, field, list(headers)

    def body(self) -> dict:
        body = {"error": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


def bad(field: str, message: str) -> ApiError:
    return ApiError(400, f"{field}: {message}", field)


# ------------------------------------------------------------------ validation


def parse_body(environ) -> dict:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise bad("body", "invalid Content-Length") from None
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise bad("body", "must be a JSON object") from None
    if not isinstance(data, dict):
        raise bad("body", "must be a JSON object")
    return data


def validate_product(data: dict) -> dict:
    clean = {}
    for field in ("sku", "name", "category"):
        if field not in data:
            raise bad(field, "is required")
        value = data[field]
        if not isinstance(value, str):
            raise bad(field, "must be a string")
        if not value.strip():
            raise bad(field, "must not be empty")
        if len(value) > 200:
            raise bad(field, "must be at most 200 characters")
        clean[field] = value
    if "price" not in data:
        raise bad("price", "is required")
    price = data["price"]
    if isinstance(price, bool) or not isinstance(price, int):
        raise bad("price", "must be an integer number of cents")
    if price < 0:
        raise bad("price", "must not be negative")
    if price > MAX_PRICE:
        raise bad("price", f"must be at most {MAX_PRICE} cents")
    clean["price"] = price
    return clean


def int_param(qs: dict, name: str, minimum: int) -> int | None:
    if name not in qs:
        return None
    raw = qs[name][-1]
    if not re.fullmatch(r"-?[0-9]{1,100}", raw):
        raise bad(name, "must be an integer")
    value = int(raw)
    if value < minimum:
        raise bad(name, f"must be at least {minimum}")
    return min(value, 2**62)  # beyond any real value; keeps SQLite's 64-bit integers happy


# ------------------------------------------------------------------ cursors


def encode_cursor(sort: str, row: dict) -> str:
    column = SORTS[sort][0]
    payload = json.dumps({"s": sort, "v": row[column], "id": row["id"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(raw: str, sort: str) -> tuple:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        value, last_id = data["v"], data["id"]
        ok = data["s"] == sort and isinstance(last_id, int) and not isinstance(last_id, bool)
        column = SORTS[sort][0]
        if column == "name":
            ok = ok and isinstance(value, str)
        else:
            ok = ok and isinstance(value, int) and not isinstance(value, bool)
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        ok = False
    if not ok:
        raise bad("cursor", "invalid cursor (pass next_cursor back unchanged, with the same sort)")
    return value, last_id


# ------------------------------------------------------------------ the app


def row_to_product(row) -> dict:
    return dict(zip(COLUMNS, row))


def make_app(db_path):
    db_path = str(db_path)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")  # readers never wait for writers
        conn.executescript(
            """
            BEGIN;
            CREATE TABLE IF NOT EXISTS products (
                id INTEGER PRIMARY KEY,
                sku TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                category TEXT NOT NULL,
                price INTEGER NOT NULL CHECK (price >= 0));
            CREATE INDEX IF NOT EXISTS products_category ON products (category);
            CREATE INDEX IF NOT EXISTS products_price ON products (price, id);
            COMMIT;
            """
        )

    def connect():
        conn = sqlite3.connect(db_path, timeout=10)
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; no fsync per commit
        return conn

    def list_products(environ):
        qs = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        limit = int_param(qs, "limit", 1)
        limit = DEFAULT_LIMIT if limit is None else min(limit, MAX_LIMIT)
        sort = qs.get("sort", ["id"])[-1]
        if sort not in SORTS:
            raise bad("sort", "must be one of " + ", ".join(SORTS))
        column, direction = SORTS[sort]
        where, params = [], []
        if "category" in qs:
            where.append("category = ?")
            params.append(qs["category"][-1])
        min_price = int_param(qs, "min_price", 0)
        if min_price is not None:
            where.append("price >= ?")
            params.append(min_price)
        max_price = int_param(qs, "max_price", 0)
        if max_price is not None:
            where.append("price <= ?")
            params.append(max_price)
        if "cursor" in qs:
            value, last_id = decode_cursor(qs["cursor"][-1], sort)
            op = ">" if direction == "ASC" else "<"
            if column == "id":
                where.append(f"id {op} ?")
                params.append(last_id)
            else:
                where.append(f"({column} {op} ? OR ({column} = ? AND id > ?))")
                params += [value, value, last_id]
        order = f"{column} {direction}" + (", id ASC" if column != "id" else "")
        sql = "SELECT id, sku, name, category, price FROM products"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {order} LIMIT ?"  # column/direction come from SORTS only
        with closing(connect()) as conn:
            rows = conn.execute(sql, params + [limit + 1]).fetchall()
        items = [row_to_product(r) for r in rows[:limit]]
        next_cursor = encode_cursor(sort, items[-1]) if len(rows) > limit else None
        return 200, {"items": items, "next_cursor": next_cursor}, []

    def get_product(pid):
        with closing(connect()) as conn:
            row = conn.execute(
                "SELECT id, sku, name, category, price FROM products WHERE id = ?", (pid,)
            ).fetchone()
        if row is None:
            raise ApiError(404, f"product {pid} not found")
        return 200, row_to_product(row), []

    def sku_conflict(sku):
        return ApiError(409, f"sku: a product with sku {sku!r} already exists", "sku")

    def create_product(environ):
        product = validate_product(parse_body(environ))
        with closing(connect()) as conn:
            try:
                with conn:
                    cur = conn.execute(
                        "INSERT INTO products (sku, name, category, price) VALUES (?, ?, ?, ?)",
                        (product["sku"], product["name"], product["category"], product["price"]),
                    )
            except sqlite3.IntegrityError:
                raise sku_conflict(product["sku"]) from None
        pid = cur.lastrowid
        return 201, {"id": pid, **product}, [("Location", f"/products/{pid}")]

    def replace_product(environ, pid):
        product = validate_product(parse_body(environ))
        with closing(connect()) as conn:
            try:
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    exists = conn.execute("SELECT 1 FROM products WHERE id = ?", (pid,)).fetchone()
                    values = (product["sku"], product["name"], product["category"], product["price"])
                    if exists:
                        conn.execute(
                            "UPDATE products SET sku = ?, name = ?, category = ?, price = ?"
                            " WHERE id = ?",
                            values + (pid,),
                        )
                    else:
                        conn.execute(
                            "INSERT INTO products (id, sku, name, category, price)"
                            " VALUES (?, ?, ?, ?, ?)",
                            (pid,) + values,
                        )
            except sqlite3.IntegrityError:
                raise sku_conflict(product["sku"]) from None
        body = {"id": pid, **product}
        if exists:
            return 200, body, []
        return 201, body, [("Location", f"/products/{pid}")]

    def route(environ):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        if path == "/products":
            if method == "GET":
                return list_products(environ)
            if method == "POST":
                return create_product(environ)
            raise ApiError(405, f"method {method} not allowed", headers=[("Allow", "GET, POST")])
        m = PRODUCT_PATH.match(path)
        if m:
            pid = int(m.group(1))
            if method == "GET":
                return get_product(pid)
            if method == "PUT":
                if pid < 1:
                    raise ApiError(404, f"product {pid} not found")
                return replace_product(environ, pid)
            raise ApiError(405, f"method {method} not allowed", headers=[("Allow", "GET, PUT")])
        raise ApiError(404, f"no route for {path}")

    def app(environ, start_response):
        try:
            status, body, headers = route(environ)
        except ApiError as exc:
            status, body, headers = exc.status, exc.body(), exc.headers
        except Exception:  # noqa: BLE001 - never leak a traceback to clients
            status, body, headers = 500, {"error": "internal error"}, []
        payload = json.dumps(body).encode()
        start_response(
            f"{status} {REASONS[status]}",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(payload))),
                *headers,
            ],
        )
        return [payload]

    return app
