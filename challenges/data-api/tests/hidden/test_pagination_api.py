import pytest

from _http import fetch_all

SORT_KEYS = {
    "id": lambda p: p["id"],
    "-id": lambda p: -p["id"],
    "price": lambda p: (p["price"], p["id"]),
    "-price": lambda p: (-p["price"], p["id"]),
    "name": lambda p: (p["name"], p["id"]),
    "-name": lambda p: (_neg_str(p["name"]), p["id"]),
}


def _neg_str(s):
    return tuple(-ord(c) for c in s) + (1,)  # descending string order


def ids(items):
    return [p["id"] for p in items]


def test_walking_all_pages_returns_every_row_once(catalog):
    client, rows = catalog
    items, pages = fetch_all(client, limit=10)
    assert ids(items) == sorted(p["id"] for p in rows)
    assert pages == 14
    assert items == sorted(rows, key=lambda p: p["id"])


def test_default_page_size_is_20(catalog):
    client, _rows = catalog
    assert len(client.get("/products").json["items"]) == 20


def test_limit_is_capped_at_100(catalog):
    client, rows = catalog
    body = client.get("/products", limit=1000).json
    assert len(body["items"]) == 100
    rest = client.get("/products", limit=1000, cursor=body["next_cursor"]).json
    assert len(rest["items"]) == len(rows) - 100
    assert rest["next_cursor"] is None


def test_last_page_has_null_cursor(catalog):
    client, rows = catalog
    first = client.get("/products", limit=100, sort="price").json
    assert first["next_cursor"] is not None
    last = client.get("/products", limit=100, sort="price", cursor=first["next_cursor"]).json
    assert len(last["items"]) == len(rows) - 100 and last["next_cursor"] is None
    exact = client.get("/products", category="books", limit=100).json
    assert exact["next_cursor"] is None
    empty = client.get("/products", category="no-such-category").json
    assert empty["items"] == [] and empty["next_cursor"] is None


@pytest.mark.parametrize("sort", ["price", "-price", "name", "-name", "-id"])
def test_sorted_pages_with_ties_are_complete_and_ordered(catalog, sort):
    client, rows = catalog
    items, _pages = fetch_all(client, limit=7, sort=sort)
    assert ids(items) == ids(sorted(rows, key=SORT_KEYS[sort]))


@pytest.mark.parametrize(
    "params",
    [
        {"category": "kitchen", "min_price": 1000, "sort": "-price"},
        {"category": "toys", "max_price": 2500, "sort": "price"},
        {"min_price": 499, "max_price": 4999, "sort": "name"},
        {"category": "garden", "min_price": 0, "max_price": 0},
        {"category": "books", "sort": "-id"},
    ],
)
def test_filters_and_sort_combine(catalog, params):
    client, rows = catalog
    expected = [
        p
        for p in rows
        if p["category"] == params.get("category", p["category"])
        and p["price"] >= params.get("min_price", 0)
        and p["price"] <= params.get("max_price", 10**9)
    ]
    expected.sort(key=SORT_KEYS[params.get("sort", "id")])
    items, _pages = fetch_all(client, limit=4, **params)
    assert items == expected


@pytest.mark.parametrize(
    "sort, new_price",
    [("price", 0), ("-price", 999_999), ("id", 0)],
)
def test_inserts_between_pages_never_duplicate_or_skip(seeded, sort, new_price):
    client, rows = seeded
    counter = iter(range(10_000))

    def insert_ahead(_page):
        for _ in range(3):
            n = next(counter)
            r = client.post(
                "/products",
                {"sku": f"NEW-{n}", "name": "aaa new", "category": "toys", "price": new_price},
            )
            assert r.status in (200, 201), r

    items, _pages = fetch_all(client, page_hook=insert_ahead, limit=9, sort=sort)
    seen = ids(items)
    assert len(seen) == len(set(seen)), "a product appeared on two pages"
    original = {p["id"] for p in rows}
    missing = original - set(seen)
    assert not missing, f"{len(missing)} existing products were skipped"


def test_cursor_keeps_filters_with_inserts(seeded):
    client, rows = seeded
    expected = {p["id"] for p in rows if p["category"] == "kitchen"}
    n = iter(range(1000))

    def insert(_page):
        for cat in ("kitchen", "tools"):
            k = next(n)
            client.post("/products", {"sku": f"X-{k}", "name": "x", "category": cat, "price": 1})

    items, _ = fetch_all(client, page_hook=insert, limit=5, category="kitchen", sort="price")
    seen = ids(items)
    assert len(seen) == len(set(seen))
    assert expected <= set(seen)
    assert all(p["category"] == "kitchen" for p in items)


@pytest.mark.parametrize("limit", ["0", "-3", "ten", "2.5"])
def test_bad_limit_is_400(catalog, limit):
    client, _rows = catalog
    r = client.get("/products", limit=limit)
    assert r.status == 400, r
    assert r.json.get("field") == "limit"


@pytest.mark.parametrize("param", ["min_price", "max_price"])
def test_bad_price_filter_is_400(catalog, param):
    client, _rows = catalog
    r = client.get("/products", **{param: "cheap"})
    assert r.status == 400, r
    assert r.json.get("field") == param
