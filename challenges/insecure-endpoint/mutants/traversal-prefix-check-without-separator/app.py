"""Customer portal API for the shop (WSGI, standard library only).

Routes (JSON unless noted):
    GET /products?q=&category=&sort=   public product search
    GET /orders                        the caller's orders
    GET /orders/<id>                   one order
    GET /files?name=<path>             download a document from the files folder (raw bytes)
    GET /admin/users                   user list for the admin dashboard

Callers authenticate with `Authorization: Bearer <token>`; tokens live in the users table.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from urllib.parse import parse_qs

STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
}

# The only accepted sort values. ORDER BY cannot take a bound parameter, so the clause comes
# from this table and never from the request.
SORTS = {"name": "name", "price": "price_cents, name", "newest": "id DESC"}

ORDER_ID_RE = re.compile(r"/orders/(\d+)")


def _json(start_response, code, payload):
    body = json.dumps(payload).encode()
    start_response(
        STATUS[code],
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _error(start_response, code, message):
    return _json(start_response, code, {"error": message})


def make_app(db_path, files_dir):
    """Return the WSGI application serving `db_path` (SQLite) and the documents in `files_dir`."""

    def connect():
        conn = sqlite3.connect(db_path)
        conn.row_factory = sqlite3.Row
        return conn

    def current_user(conn, environ):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if not auth.startswith("Bearer "):
            return None
        token = auth[len("Bearer "):].strip()
        if not token:
            return None
        return conn.execute(
            "SELECT id, name, is_admin FROM users WHERE token = ?", (token,)
        ).fetchone()

    def order_json(row):
        return {
            "id": row["id"],
            "product": row["product"],
            "quantity": row["quantity"],
            "note": row["note"],
            "created_at": row["created_at"],
        }

    def search_products(conn, query, start_response):
        q = query.get("q", [""])[0]
        category = query.get("category", [""])[0]
        sort = query.get("sort", ["name"])[0]
        if sort not in SORTS:
            return _error(start_response, 400, f"sort must be one of {', '.join(SORTS)}")
        sql = (
            "SELECT id, name, category, price_cents FROM products "
            "WHERE active = 1 AND instr(lower(name), lower(?)) > 0"
        )
        params = [q]
        if category:
            sql += " AND category = ?"
            params.append(category)
        sql += f" ORDER BY {SORTS[sort]}"
        rows = conn.execute(sql, params).fetchall()
        return _json(start_response, 200, {"products": [dict(r) for r in rows]})

    def list_orders(conn, user, start_response):
        rows = conn.execute(
            "SELECT o.id, p.name AS product, o.quantity, o.note, o.created_at "
            "FROM orders o JOIN products p ON p.id = o.product_id "
            "WHERE o.user_id = ? ORDER BY o.id",
            (user["id"],),
        ).fetchall()
        return _json(start_response, 200, {"orders": [order_json(r) for r in rows]})

    def get_order(conn, user, order_id, start_response):
        row = conn.execute(
            "SELECT o.id, p.name AS product, o.quantity, o.note, o.created_at "
            "FROM orders o JOIN products p ON p.id = o.product_id "
            "WHERE o.id = ? AND o.user_id = ?",
            (order_id, user["id"]),
        ).fetchone()
        if row is None:
            # Same answer for "does not exist" and "not yours": ids are not enumerable.
            return _error(start_response, 404, "no such order")
        return _json(start_response, 200, order_json(row))

    def download(query, start_response):
        name = query.get("name", [""])[0]
        if not name or "\0" in name:
            return _error(start_response, 400, "bad file name")
        base = os.path.realpath(files_dir)
        # realpath resolves "..", symlinks and absolute names; the result must stay under base.
        path = os.path.realpath(os.path.join(base, name))
        if not path.startswith(base) or not os.path.isfile(path):
            return _error(start_response, 404, "no such file")
        with open(path, "rb") as f:
            data = f.read()
        start_response(
            STATUS[200],
            [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(data)))],
        )
        return [data]

    def admin_users(conn, start_response):
        rows = conn.execute("SELECT id, name, email, is_admin FROM users ORDER BY id").fetchall()
        return _json(start_response, 200, {"users": [dict(r) for r in rows]})

    def app(environ, start_response):
        if environ["REQUEST_METHOD"] != "GET":
            return _error(start_response, 405, "method not allowed")
        path = environ.get("PATH_INFO", "/")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        conn = connect()
        try:
            if path == "/products":
                return search_products(conn, query, start_response)

            # Every other route needs a valid token.
            user = current_user(conn, environ)
            if user is None:
                return _error(start_response, 401, "missing or invalid token")
            if path == "/admin/users":
                if not user["is_admin"]:
                    return _error(start_response, 403, "admins only")
                return admin_users(conn, start_response)
            m = ORDER_ID_RE.fullmatch(path)
            if m:
                return get_order(conn, user, int(m.group(1)), start_response)
            if path == "/orders":
                return list_orders(conn, user, start_response)
            if path == "/files":
                return download(query, start_response)
            return _error(start_response, 404, "no such route")
        finally:
            conn.close()

    return app
