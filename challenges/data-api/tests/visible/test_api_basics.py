from _http import fetch_all


def test_create_and_fetch_a_product(server):
    r = server.post("/products", {"sku": "KT-1", "name": "Pan", "category": "kitchen", "price": 3499})
    assert r.status in (200, 201), r
    pid = r.json["id"]
    got = server.get(f"/products/{pid}")
    assert got.status == 200
    assert got.json == {"id": pid, "sku": "KT-1", "name": "Pan", "category": "kitchen", "price": 3499}


def test_first_page_of_listing(catalog):
    client, rows = catalog
    r = client.get("/products", limit=5)
    assert r.status == 200
    body = r.json
    assert [p["id"] for p in body["items"]] == [p["id"] for p in rows[:5]]
    assert body["next_cursor"] is not None


def test_filter_by_category(catalog):
    client, rows = catalog
    r = client.get("/products", category="toys", limit=100)
    assert r.status == 200
    assert [p["id"] for p in r.json["items"]] == [p["id"] for p in rows if p["category"] == "toys"]


def test_walk_pages_with_next_cursor(catalog):
    client, rows = catalog
    seen, cursor = [], None
    for _ in range(100):
        params = {"limit": 25} if cursor is None else {"limit": 25, "cursor": cursor}
        body = client.get("/products", **params).json
        seen += [p["id"] for p in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [p["id"] for p in rows]


def test_scrolling_by_price_while_a_merchant_adds_a_product(seeded):
    """The mobile team's ticket: infinite scroll sorted by price shows a product twice when a
    product is added while someone is scrolling."""
    client, rows = seeded
    added = []

    def merchant_adds_a_product(page):
        if page == 1:
            r = client.post(
                "/products", {"sku": "NEW-1", "name": "new pan", "category": "kitchen", "price": 0}
            )
            assert r.status in (200, 201), r
            added.append(r.json["id"])

    items, _pages = fetch_all(client, page_hook=merchant_adds_a_product, limit=10, sort="price")
    seen = [p["id"] for p in items]
    twice = sorted({i for i in seen if seen.count(i) > 1})
    assert not twice, f"products {twice} appeared on two pages while one product was added"
    missing = sorted({p["id"] for p in rows} - set(seen))
    assert not missing, f"products {missing} never appeared while one product was added"
