"""Legitimate flows keep working once the holes are closed."""

from urllib.parse import quote


def _active_matching(shop, needle):
    with shop.db() as conn:
        rows = conn.execute(
            "SELECT id, name, category, price_cents FROM products WHERE active = 1"
        ).fetchall()
    return [dict(r) for r in rows if needle.lower() in r["name"].lower()]


def test_search_returns_active_matches_sorted_by_name(shop):
    status, data, _ = shop.get_json("/products?q=kettle")
    assert status == 200
    expected = sorted(_active_matching(shop, "kettle"), key=lambda p: p["name"])
    assert len(expected) == 3
    assert data["products"] == expected


def test_search_for_a_name_with_an_apostrophe(shop):
    for q in ["O'Brien", "o'brien's cast"]:
        status, data, _ = shop.get_json("/products?q=" + quote(q))
        assert status == 200, f"searching for {q!r} answered {status}"
        names = [p["name"] for p in data["products"]]
        assert names == ["O'Brien's Cast Iron Kettle"], (
            f"searching for {q!r} found {names[:3]}, not the one product whose name holds it"
        )


def test_search_by_category_sorted_by_price(shop):
    status, data, _ = shop.get_json("/products?category=garden&sort=price")
    assert status == 200
    expected = sorted(
        (p for p in _active_matching(shop, "") if p["category"] == "garden"),
        key=lambda p: (p["price_cents"], p["name"]),
    )
    assert len(expected) >= 5
    assert data["products"] == expected


def test_search_sorted_newest_first(shop):
    status, data, _ = shop.get_json("/products?q=e&sort=newest")
    assert status == 200
    ids = [p["id"] for p in data["products"]]
    assert ids == sorted((p["id"] for p in _active_matching(shop, "e")), reverse=True)


def test_customer_lists_exactly_their_orders(shop):
    status, data, _ = shop.get_json("/orders", token=shop.tokens["bob"])
    assert status == 200
    with shop.db() as conn:
        own = [r[0] for r in conn.execute(
            "SELECT id FROM orders WHERE user_id = ? ORDER BY id", (shop.user_ids["bob"],))]
    assert [o["id"] for o in data["orders"]] == own


def test_customer_reads_each_of_their_orders(shop):
    with shop.db() as conn:
        own = conn.execute(
            "SELECT o.id, o.note, o.quantity, p.name FROM orders o "
            "JOIN products p ON p.id = o.product_id WHERE o.user_id = ?",
            (shop.user_ids["carol"],),
        ).fetchall()
    assert len(own) >= 10
    for row in own:
        status, data, _ = shop.get_json(f"/orders/{row['id']}", token=shop.tokens["carol"])
        assert status == 200, row["id"]
        assert data["id"] == row["id"]
        assert data["note"] == row["note"]
        assert data["product"] == row["name"]
        assert data["quantity"] == row["quantity"]


def test_unknown_order_is_404(shop):
    status, _data, _ = shop.get_json("/orders/99999", token=shop.tokens["alice"])
    assert status == 404


def test_orders_need_a_valid_token(shop):
    assert shop.get_json("/orders")[0] == 401
    assert shop.get_json("/orders", token="not-a-real-token")[0] == 401
    assert shop.get_json("/orders", token="")[0] == 401


def test_file_download_top_level_subfolder_and_spaces(shop):
    for name in ["price-list.txt", "manuals/kettle-manual.txt", "Care guide.txt"]:
        status, headers, body = shop.request("/files?name=" + quote(name), token=shop.tokens["alice"])
        assert status == 200, name
        assert body == (shop.files_dir / name).read_bytes()


def test_missing_file_is_404(shop):
    status, _h, _b = shop.request("/files?name=nope.txt", token=shop.tokens["alice"])
    assert status == 404


def test_files_need_a_valid_token(shop):
    assert shop.request("/files?name=price-list.txt")[0] == 401


def test_admin_lists_users(shop):
    status, data, body = shop.get_json("/admin/users", token=shop.tokens["dana"])
    assert status == 200
    assert [u["email"] for u in data["users"]] == [
        "alice@example.com", "bob@example.com", "carol@example.com", "dana@example.com"]
    for token in shop.tokens.values():
        assert token.encode() not in body
