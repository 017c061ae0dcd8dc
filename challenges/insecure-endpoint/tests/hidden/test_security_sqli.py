"""SQL injection: every value that reaches a query must be data, never SQL."""

from urllib.parse import quote

import pytest

SEARCH_PAYLOADS = [
    "' OR '1'='1",
    "%' OR '1'='1' --",
    "x' OR active = 0 --",
    "zzz' UNION SELECT id, name, token, is_admin FROM users --",
    "zzz' UNION SELECT 1, email, token, 1 FROM users WHERE is_admin = 1 --",
]


def _assert_nothing_leaked(shop, status, data, body):
    assert status in (200, 400), f"the request answered {status}: bad input must be a 400"
    for token in shop.tokens.values():
        assert token.encode() not in body, "a user token leaked"
    assert b"@example.com" not in body, "an email leaked"
    assert b"Staff-only" not in body and b"Whistling" not in body, "inactive products leaked"
    if status == 200:
        # No product name contains these strings: a safe search finds nothing.
        found = len(data["products"])
        assert found == 0, (
            f"a value no product has matched {found} products: the value changed the SQL query"
        )


@pytest.mark.parametrize("payload", SEARCH_PAYLOADS)
def test_search_text_is_not_sql(shop, payload):
    _assert_nothing_leaked(shop, *shop.get_json("/products?q=" + quote(payload)))


@pytest.mark.parametrize("payload", [
    "' OR '1'='1",
    "kitchen' UNION SELECT id, name, token, is_admin FROM users --",
    "internal' OR category = 'internal",
])
def test_category_filter_is_not_sql(shop, payload):
    _assert_nothing_leaked(shop, *shop.get_json("/products?category=" + quote(payload)))


def test_sort_cannot_carry_a_blind_injection(shop):
    # A boolean oracle: if the sort value is spliced into ORDER BY, the order of the results
    # reveals whether a condition about the users table is true.
    cond = "(SELECT is_admin FROM users WHERE email = 'dana@example.com') = {}"
    sort = "CASE WHEN " + cond + " THEN name ELSE price_cents END"
    results = []
    for bit in (0, 1):
        status, _h, body = shop.request("/products?q=e&sort=" + quote(sort.format(bit)))
        assert status == 400, "an unknown sort value must be rejected"
        results.append(body)
    assert results[0] == results[1], "the answer to a sort value depends on the users table"


@pytest.mark.parametrize("sort", [
    "name; DROP TABLE orders",
    "price_cents DESC",
    "(SELECT token FROM users)",
    "name LIMIT 1 UNION SELECT 1, token, email, 1 FROM users",
])
def test_unknown_sort_values_are_rejected(shop, sort):
    status, _h, body = shop.request("/products?sort=" + quote(sort))
    assert status == 400, f"a sort value that is not name, price or newest answered {status}"
    for token in shop.tokens.values():
        assert token.encode() not in body, "a user token leaked"
    with shop.db() as conn:
        left = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
    assert left == 60, f"the orders table holds {left} rows instead of 60 after the request"


@pytest.mark.parametrize("token", [
    "' OR '1'='1",
    "' OR is_admin = 1 --",
    "nobody' UNION SELECT id, name, is_admin FROM users WHERE is_admin = 1 --",
])
def test_bearer_token_is_not_sql(shop, token):
    status, _data, body = shop.get_json("/admin/users", token=token)
    assert status == 401, "a forged token must not authenticate"
    assert b"@example.com" not in body, "a forged token showed user emails"
    status, _data, body = shop.get_json("/orders", token=token)
    assert status == 401, "a forged token must not authenticate"
    assert b"Elm Street" not in body, "a forged token showed orders"
