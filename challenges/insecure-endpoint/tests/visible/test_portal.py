"""Happy paths of the customer portal, and the pen test's example for finding 1 (the other findings
are yours to test)."""

from urllib.parse import quote


def test_product_search_finds_kettles(shop):
    status, data, _ = shop.get_json("/products?q=kettle")
    assert status == 200
    names = [p["name"] for p in data["products"]]
    assert names == sorted(names)
    assert "Electric Kettle" in names
    assert "Whistling Kettle" not in names  # discontinued (active = 0)
    assert set(data["products"][0]) == {"id", "name", "category", "price_cents"}


def test_product_search_by_category_and_price(shop):
    status, data, _ = shop.get_json("/products?category=tools&sort=price")
    assert status == 200
    prices = [p["price_cents"] for p in data["products"]]
    assert prices and prices == sorted(prices)
    assert {p["category"] for p in data["products"]} == {"tools"}


def test_my_orders_list_and_detail(shop):
    status, data, _ = shop.get_json("/orders", token=shop.tokens["alice"])
    assert status == 200
    assert data["orders"]
    first = data["orders"][0]
    status, detail, _ = shop.get_json(f"/orders/{first['id']}", token=shop.tokens["alice"])
    assert status == 200
    assert detail == first
    assert set(detail) == {"id", "product", "quantity", "note", "created_at"}


def test_orders_without_token_are_401(shop):
    status, data, _ = shop.get_json("/orders")
    assert status == 401
    assert "error" in data


def test_download_documents(shop):
    for name in ["price-list.txt", "manuals/kettle-manual.txt"]:
        status, _h, body = shop.request("/files?name=" + quote(name), token=shop.tokens["bob"])
        assert status == 200
        assert body == (shop.files_dir / name).read_bytes()


def test_admin_dashboard_lists_users(shop):
    status, data, _ = shop.get_json("/admin/users", token=shop.tokens["dana"])
    assert status == 200
    assert len(data["users"]) == 4
    assert set(data["users"][0]) == {"id", "name", "email", "is_admin"}


def test_pen_test_finding_1_search_text_is_not_sql(shop):
    """The pen test's own example for finding 1, replayed. No product name contains this text,
    so a search that treats it as text finds nothing."""
    status, data, _ = shop.get_json("/products?q=" + quote("' OR '1'='1"))
    found = len(data.get("products", [])) if isinstance(data, dict) else 0
    assert status in (200, 400), f"the search answered {status}"
    assert found == 0, (
        f"searching for the pen test's text returned {found} products: the search text "
        "changed the SQL query"
    )
