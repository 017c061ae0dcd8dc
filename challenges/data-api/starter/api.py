"""Product catalog JSON API (WSGI, stdlib only). Serve with make_app(db_path)."""

import json
import sqlite3
from urllib.parse import parse_qs

COLUMNS = ("id", "sku", "name", "category", "price")


def make_app(db_path):
    db_path = str(db_path)
    conn = sqlite3.connect(db_path)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS products ("
        " id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
        " category TEXT NOT NULL, price INTEGER NOT NULL)"
    )
    conn.commit()
    conn.close()

    def respond(start_response, status, body, extra_headers=()):
        payload = json.dumps(body).encode()
        start_response(status, [("Content-Type", "text/html"), *extra_headers])
        return [payload]

    def app(environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        db = sqlite3.connect(db_path)
        try:
            if path == "/products" and method == "GET":
                qs = parse_qs(environ.get("QUERY_STRING", ""))
                limit = int(qs.get("limit", ["20"])[0])
                offset = int(qs.get("cursor", ["0"])[0])
                sort = qs.get("sort", ["id"])[0]
                order = sort[1:] + " DESC" if sort.startswith("-") else sort
                where, params = [], []
                if "category" in qs:
                    where.append("category = ?")
                    params.append(qs["category"][0])
                if "min_price" in qs:
                    where.append("price >= ?")
                    params.append(qs["min_price"][0])
                if "max_price" in qs:
                    where.append("price <= ?")
                    params.append(qs["max_price"][0])
                sql = "SELECT id, sku, name, category, price FROM products"
                if where:
                    sql += " WHERE " + " AND ".join(where)
                sql += f" ORDER BY {order} LIMIT {limit} OFFSET {offset}"
                rows = db.execute(sql, params).fetchall()
                items = [dict(zip(COLUMNS, r)) for r in rows]
                next_cursor = str(offset + limit) if len(rows) == limit else None
                return respond(start_response, "200 OK", {"items": items, "next_cursor": next_cursor})

            if path == "/products" and method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                data = json.loads(environ["wsgi.input"].read(length))
                cur = db.execute(
                    "INSERT INTO products (sku, name, category, price) VALUES (?, ?, ?, ?)",
                    (data["sku"], data["name"], data["category"], data["price"]),
                )
                db.commit()
                return respond(start_response, "200 OK", {"id": cur.lastrowid, **data})

            if path.startswith("/products/"):
                pid = int(path.split("/")[2])
                if method == "GET":
                    row = db.execute(
                        "SELECT id, sku, name, category, price FROM products WHERE id = ?", (pid,)
                    ).fetchone()
                    if row is None:
                        return respond(start_response, "404 Not Found", "not found")
                    return respond(start_response, "200 OK", dict(zip(COLUMNS, row)))
                if method == "PUT":
                    length = int(environ.get("CONTENT_LENGTH") or 0)
                    data = json.loads(environ["wsgi.input"].read(length))
                    db.execute(
                        "UPDATE products SET sku = ?, name = ?, category = ?, price = ? WHERE id = ?",
                        (data["sku"], data["name"], data["category"], data["price"], pid),
                    )
                    db.commit()
                    return respond(start_response, "200 OK", {"id": pid, **data})

            return respond(start_response, "404 Not Found", "not found")
        finally:
            db.close()

    return app
