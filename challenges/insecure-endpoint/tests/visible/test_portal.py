"""Happy paths of the customer portal (the security review's findings are yours to test)."""

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
