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


def walk_problem(got, want):
    """How a walk over the pages (ids in order) differs from the expected one, in words."""
    missing = [i for i in want if i not in got]
    repeated = sorted({i for i in got if got.count(i) > 1})
    extra = [i for i in got if i not in want]
    parts = []
    if missing:
        parts.append(f"{len(missing)} products never shown (e.g. id {missing[0]})")
    if repeated:
        parts.append(f"{len(repeated)} shown twice (e.g. id {repeated[0]})")
    if extra:
        parts.append(f"{len(extra)} that do not match the filters (e.g. id {extra[0]})")
    if not parts:
        at = next((n for n, (a, b) in enumerate(zip(got, want)) if a != b), None)
        if at is not None:
            parts.append(f"out of order from position {at + 1} (id {got[at]} where {want[at]} belongs)")
    return "; ".join(parts) or "no difference"


def test_walking_all_pages_returns_every_row_once(catalog):
    client, rows = catalog
    items, pages = fetch_all(client, limit=10)
    want = sorted(p["id"] for p in rows)
    assert ids(items) == want, f"walking pages of 10: {walk_problem(ids(items), want)}"
    assert pages == 14, f"137 products in pages of 10 took {pages} pages instead of 14"
    assert items == sorted(rows, key=lambda p: p["id"]), "products came back with changed fields"


def test_default_page_size_is_20(catalog):
    client, _rows = catalog
    got = len(client.get("/products").json["items"])
    assert got == 20, f"a listing without limit returned {got} products, not the default 20"


def test_limit_is_capped_at_100(catalog):
    client, rows = catalog
    body = client.get("/products", limit=1000).json
    got = len(body["items"])
    assert got == 100, f"limit=1000 returned {got} products; limits above 100 mean 100"
    rest = client.get("/products", limit=1000, cursor=body["next_cursor"]).json
    assert len(rest["items"]) == len(rows) - 100, (
        f"the second page of 100 held {len(rest['items'])} products, not the remaining "
        f"{len(rows) - 100}"
    )
    assert rest["next_cursor"] is None, "the last page has a next_cursor"


def test_last_page_has_null_cursor(catalog):
    client, rows = catalog
    first = client.get("/products", limit=100, sort="price").json
    assert first["next_cursor"] is not None, "a first page with more to come has no next_cursor"
    last = client.get("/products", limit=100, sort="price", cursor=first["next_cursor"]).json
    assert len(last["items"]) == len(rows) - 100, (
        f"sorted by price, the second page of 100 held {len(last['items'])} products, not the "
        f"remaining {len(rows) - 100}"
    )
    assert last["next_cursor"] is None, "the last page has a next_cursor"
    exact = client.get("/products", category="books", limit=100).json
    assert exact["next_cursor"] is None, "a listing that fits in one page has a next_cursor"
    empty = client.get("/products", category="no-such-category").json
    assert empty["items"] == [] and empty["next_cursor"] is None, (
        "an empty listing should be no items and a null next_cursor"
    )


@pytest.mark.parametrize("sort", ["price", "-price", "name", "-name", "-id"])
def test_sorted_pages_with_ties_are_complete_and_ordered(catalog, sort):
    client, rows = catalog
    items, _pages = fetch_all(client, limit=7, sort=sort)
    want = ids(sorted(rows, key=SORT_KEYS[sort]))
    assert ids(items) == want, f"sort={sort} in pages of 7: {walk_problem(ids(items), want)}"


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
    assert ids(items) == ids(expected), f"{params}: {walk_problem(ids(items), ids(expected))}"
    assert items == expected, f"{params}: products came back with changed fields"


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
    twice = sorted({i for i in seen if seen.count(i) > 1})
    assert not twice, f"category=kitchen by price with inserts: ids {twice[:3]} shown twice"
    missing = sorted(expected - set(seen))
    assert not missing, f"category=kitchen by price with inserts: ids {missing[:3]} never shown"
    assert all(p["category"] == "kitchen" for p in items), (
        "a page after the first holds products outside category=kitchen: the cursor lost the filter"
    )


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
