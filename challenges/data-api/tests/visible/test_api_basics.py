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
