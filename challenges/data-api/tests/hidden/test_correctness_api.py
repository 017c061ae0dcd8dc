import itertools

import pytest

_n = itertools.count(1)


def pan(**overrides):
    """A valid product body with a sku and category no other test uses (the server is shared
    by this module's tests)."""
    n = next(_n)
    return {"sku": f"KT-{n:04d}", "name": "Cast iron pan", "category": f"kitchen-{n}",
            "price": 3499, **overrides}


def is_json(r):
    return r.headers.get("content-type", "").split(";")[0].strip() == "application/json"


def assert_error(r, status, field=None):
    assert r.status == status, r
    assert is_json(r), r
    body = r.json
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], r
    if field is not None:
        assert body.get("field") == field, r


def in_category(client, category):
    r = client.get("/products", category=category, limit=100)
    assert r.status == 200, r
    return r.json["items"]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from _http import serve, stop

    srv, thread, client = serve(tmp_path_factory.mktemp("crud") / "catalog.db")
    try:
        yield client
    finally:
        stop(srv, thread)


# ------------------------------------------------------------------ create / read


def test_post_returns_201_with_location_and_product(api):
    body = pan()
    r = api.post("/products", body)
    assert r.status == 201, r
    assert is_json(r)
    got = r.json
    assert isinstance(got.get("id"), int)
    assert got == {"id": got["id"], **body}
    assert r.headers.get("location", "").endswith(f"/products/{got['id']}")


def test_location_header_resolves_to_the_product(api):
    r = api.post("/products", pan())
    location = r.headers.get("location", "")
    assert "/products/" in location, f"POST /products answered without a Location header: {r}"
    path = location[location.index("/products/"):]
    got = api.get(path)
    assert got.status == 200 and got.json == r.json, (
        f"GET {path} (the Location of the new product) did not return it: {got}"
    )


def test_id_in_post_body_is_ignored(api):
    first = api.post("/products", pan(id=999_999)).json
    second = api.post("/products", pan(id=first["id"])).json
    assert first["id"] != 999_999, "POST used the id from the request body; ids are the server's"
    assert second["id"] != first["id"], "POST used the id from the request body; ids are the server's"
    assert api.get("/products/999999").status == 404, "POST created a product at an id it was sent"


def test_price_zero_is_valid(api):
    r = api.post("/products", pan(price=0))
    assert r.status == 201, r
    assert r.json["price"] == 0


def test_get_unknown_id_is_json_404(api):
    assert_error(api.get("/products/424242"), 404)


@pytest.mark.parametrize("path", ["/products/abc", "/products/1/extra", "/nothing-here", "/"])
def test_unknown_paths_are_json_404(api, path):
    assert_error(api.get(path), 404)


def test_unsupported_method_is_json_405(api):
    pid = api.post("/products", pan()).json["id"]
    assert_error(api.request("DELETE", f"/products/{pid}"), 405)
    assert_error(api.request("PATCH", "/products"), 405)
    assert api.get(f"/products/{pid}").status == 200


def test_listing_is_json(api):
    body = pan()
    api.post("/products", body)
    r = api.get("/products", category=body["category"])
    assert r.status == 200 and is_json(r), f"GET /products is not a 200 application/json: {r}"
    assert set(r.json) >= {"items", "next_cursor"}, f"a listing needs items and next_cursor: {r}"
    assert [p["sku"] for p in r.json["items"]] == [body["sku"]], (
        f"filtering by a category with one product did not list exactly that product: {r}"
    )


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("field", ["sku", "name", "category", "price"])
def test_post_missing_field_names_it(api, field):
    body = {k: v for k, v in pan().items() if k != field}
    assert_error(api.post("/products", body), 400, field)


@pytest.mark.parametrize(
    "field, value",
    [
        ("price", "3499"),
        ("price", 34.99),
        ("price", True),
        ("price", None),
        ("name", 5),
        ("sku", None),
        ("category", ["kitchen"]),
        ("name", ""),
        ("sku", "   "),
    ],
)
def test_post_bad_value_names_field(api, field, value):
    assert_error(api.post("/products", pan(**{field: value})), 400, field)


def test_post_negative_price_is_400(api):
    body = pan(price=-1)
    assert_error(api.post("/products", body), 400, "price")
    assert in_category(api, body["category"]) == []


@pytest.mark.parametrize("raw", ["sku=KT-1&price=3", "{\"sku\": ", "", "[1, 2]", "\"text\"", "null"])
def test_post_non_object_body_is_400(api, raw):
    assert_error(api.post("/products", raw=raw), 400, "body")


def test_duplicate_sku_is_409_and_keeps_original(api):
    body = pan()
    first = api.post("/products", body).json
    r = api.post("/products", {**body, "name": "Impostor pan", "price": 1})
    assert_error(r, 409, "sku")
    assert api.get(f"/products/{first['id']}").json == first
    assert in_category(api, body["category"]) == [first]


# ------------------------------------------------------------------ PUT


def test_put_creates_with_the_given_id(api):
    body = pan()
    r = api.put("/products/5000", body)
    assert r.status == 201, r
    assert is_json(r)
    assert r.json == {"id": 5000, **body}
    assert r.headers.get("location", "").endswith("/products/5000")
    assert api.get("/products/5000").json == {"id": 5000, **body}


def test_put_twice_leaves_the_same_state(api):
    body = pan()
    first = api.put("/products/6077", body)
    second = api.put("/products/6077", body)
    assert first.status == 201 and second.status == 200, (first, second)
    assert first.json == second.json == {"id": 6077, **body}
    assert in_category(api, body["category"]) == [{"id": 6077, **body}]


def test_put_replaces_every_field(api):
    pid = api.post("/products", pan()).json["id"]
    new = {"sku": "GD-9", "name": "Rake", "category": "garden-rakes", "price": 1999}
    r = api.put(f"/products/{pid}", new)
    assert r.status == 200, r
    assert r.json == {"id": pid, **new}
    assert api.get(f"/products/{pid}").json == {"id": pid, **new}


def test_put_keeping_own_sku_is_not_a_conflict(api):
    body = pan()
    pid = api.post("/products", body).json["id"]
    r = api.put(f"/products/{pid}", {**body, "price": 2999})
    assert r.status == 200, r
    assert api.get(f"/products/{pid}").json["price"] == 2999


def test_put_sku_of_another_product_is_409(api):
    a = api.post("/products", pan()).json
    b = api.post("/products", pan()).json
    a_body = {k: v for k, v in a.items() if k != "id"}
    assert_error(api.put(f"/products/{b['id']}", {**a_body, "name": "clash"}), 409, "sku")
    assert_error(api.put("/products/9000", a_body), 409, "sku")
    assert api.get(f"/products/{a['id']}").json == a
    assert api.get(f"/products/{b['id']}").json == b
    assert api.get("/products/9000").status == 404


@pytest.mark.parametrize(
    "overrides, drop, field",
    [
        ({"price": -500}, None, "price"),
        ({"price": "free"}, None, "price"),
        ({}, "name", "name"),
        ({"category": ""}, None, "category"),
    ],
)
def test_put_is_validated_like_post(api, overrides, drop, field):
    original = api.post("/products", pan()).json
    body = {k: v for k, v in original.items() if k not in ("id", drop)}
    body.update(overrides)
    assert_error(api.put(f"/products/{original['id']}", body), 400, field)
    assert api.get(f"/products/{original['id']}").json == original


def test_put_non_json_body_is_400(api):
    pid = api.post("/products", pan()).json["id"]
    assert_error(api.put(f"/products/{pid}", raw="price=1"), 400, "body")
    assert_error(api.put("/products/8123", raw="not json"), 400, "body")
    assert api.get("/products/8123").status == 404
