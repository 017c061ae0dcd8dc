import pytest

PAN = {"sku": "KT-0042", "name": "Cast iron pan", "category": "kitchen", "price": 3499}


def is_json(r):
    return r.headers.get("content-type", "").split(";")[0].strip() == "application/json"


def assert_error(r, status, field=None):
    assert r.status == status, r
    assert is_json(r), r
    body = r.json
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], r
    if field is not None:
        assert body.get("field") == field, r


# ------------------------------------------------------------------ create / read


def test_post_returns_201_with_location_and_product(server):
    r = server.post("/products", PAN)
    assert r.status == 201, r
    assert is_json(r)
    body = r.json
    assert body == {"id": body["id"], **PAN}
    assert isinstance(body["id"], int)
    assert r.headers.get("location", "").endswith(f"/products/{body['id']}")


def test_location_header_resolves_to_the_product(server):
    r = server.post("/products", PAN)
    location = r.headers["location"]
    path = location[location.index("/products/"):]
    got = server.get(path)
    assert got.status == 200 and got.json == r.json


def test_id_in_post_body_is_ignored(server):
    first = server.post("/products", {**PAN, "id": 999}).json
    second = server.post("/products", {**PAN, "sku": "KT-0043", "id": first["id"]}).json
    assert second["id"] != first["id"]
    assert server.get(f"/products/{first['id']}").json["sku"] == "KT-0042"


def test_price_zero_is_valid(server):
    r = server.post("/products", {**PAN, "price": 0})
    assert r.status == 201, r


def test_get_unknown_id_is_json_404(server):
    assert_error(server.get("/products/424242"), 404)


@pytest.mark.parametrize("path", ["/products/abc", "/products/1/extra", "/nothing-here", "/"])
def test_unknown_paths_are_json_404(server, path):
    assert_error(server.get(path), 404)


def test_unsupported_method_is_json_405(server):
    pid = server.post("/products", PAN).json["id"]
    assert_error(server.request("DELETE", f"/products/{pid}"), 405)
    assert_error(server.request("PATCH", "/products"), 405)
    assert server.get(f"/products/{pid}").status == 200


def test_listing_is_json(server):
    server.post("/products", PAN)
    r = server.get("/products")
    assert r.status == 200 and is_json(r)
    assert set(r.json) >= {"items", "next_cursor"}
    assert r.json["items"][0]["sku"] == PAN["sku"]


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("field", ["sku", "name", "category", "price"])
def test_post_missing_field_names_it(server, field):
    body = {k: v for k, v in PAN.items() if k != field}
    assert_error(server.post("/products", body), 400, field)


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
def test_post_bad_value_names_field(server, field, value):
    assert_error(server.post("/products", {**PAN, field: value}), 400, field)


def test_post_negative_price_is_400(server):
    assert_error(server.post("/products", {**PAN, "price": -1}), 400, "price")
    assert server.get("/products").json["items"] == []


@pytest.mark.parametrize("raw", ["sku=KT-1&price=3", "{\"sku\": ", "", "[1, 2]", "\"text\"", "null"])
def test_post_non_object_body_is_400(server, raw):
    assert_error(server.post("/products", raw=raw), 400, "body")


def test_duplicate_sku_is_409_and_keeps_original(server):
    first = server.post("/products", PAN).json
    r = server.post("/products", {**PAN, "name": "Impostor pan", "price": 1})
    assert_error(r, 409, "sku")
    assert server.get(f"/products/{first['id']}").json == first
    assert len(server.get("/products").json["items"]) == 1


# ------------------------------------------------------------------ PUT


def test_put_creates_with_the_given_id(server):
    r = server.put("/products/5000", PAN)
    assert r.status == 201, r
    assert is_json(r)
    assert r.json == {"id": 5000, **PAN}
    assert r.headers.get("location", "").endswith("/products/5000")
    assert server.get("/products/5000").json == {"id": 5000, **PAN}


def test_put_twice_leaves_the_same_state(server):
    first = server.put("/products/77", PAN)
    second = server.put("/products/77", PAN)
    assert first.status == 201 and second.status == 200, (first, second)
    assert first.json == second.json == {"id": 77, **PAN}
    items = server.get("/products").json["items"]
    assert items == [{"id": 77, **PAN}]


def test_put_replaces_every_field(server):
    pid = server.post("/products", PAN).json["id"]
    new = {"sku": "GD-9", "name": "Rake", "category": "garden", "price": 1999}
    r = server.put(f"/products/{pid}", new)
    assert r.status == 200, r
    assert r.json == {"id": pid, **new}
    assert server.get(f"/products/{pid}").json == {"id": pid, **new}


def test_put_keeping_own_sku_is_not_a_conflict(server):
    pid = server.post("/products", PAN).json["id"]
    r = server.put(f"/products/{pid}", {**PAN, "price": 2999})
    assert r.status == 200, r
    assert server.get(f"/products/{pid}").json["price"] == 2999


def test_put_sku_of_another_product_is_409(server):
    a = server.post("/products", PAN).json
    b = server.post("/products", {**PAN, "sku": "KT-0099"}).json
    assert_error(server.put(f"/products/{b['id']}", {**PAN, "name": "clash"}), 409, "sku")
    assert_error(server.put("/products/9000", PAN), 409, "sku")
    assert server.get(f"/products/{a['id']}").json == a
    assert server.get(f"/products/{b['id']}").json == b
    assert server.get("/products/9000").status == 404


@pytest.mark.parametrize(
    "body, field",
    [
        ({**PAN, "price": -500}, "price"),
        ({**PAN, "price": "free"}, "price"),
        ({k: v for k, v in PAN.items() if k != "name"}, "name"),
        ({**PAN, "category": ""}, "category"),
    ],
)
def test_put_is_validated_like_post(server, body, field):
    pid = server.post("/products", PAN).json["id"]
    assert_error(server.put(f"/products/{pid}", body), 400, field)
    assert server.get(f"/products/{pid}").json == {"id": pid, **PAN}


def test_put_non_json_body_is_400(server):
    pid = server.post("/products", PAN).json["id"]
    assert_error(server.put(f"/products/{pid}", raw="price=1"), 400, "body")
    assert_error(server.put("/products/123", raw="not json"), 400, "body")
    assert server.get("/products/123").status == 404
