"""The admin route checks the caller's role from the database, nothing the client says."""

import pytest


def test_admin_route_needs_a_token(shop):
    status, _data, body = shop.get_json("/admin/users")
    assert status == 401, f"/admin/users without a token answered {status}, not 401"
    assert b"@example.com" not in body, "/admin/users without a token showed user emails"


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_admin_route_refuses_customers(shop, who):
    status, _data, body = shop.get_json("/admin/users", token=shop.tokens[who])
    assert status == 403, f"/admin/users with a customer's token answered {status}, not 403"
    assert b"@example.com" not in body, "/admin/users showed user emails to a customer"


@pytest.mark.parametrize("headers", [
    {"X-Role": "admin"},
    {"X-Admin": "true"},
    {"X-Is-Admin": "1"},
    {"X-User-Role": "admin"},
    {"Cookie": "role=admin; is_admin=1"},
], ids=lambda h: next(iter(h)))
def test_client_controlled_headers_do_not_grant_admin(shop, headers):
    status, _data, body = shop.get_json("/admin/users", token=shop.tokens["bob"], headers=headers)
    assert status == 403, (
        f"a customer's request with a header the client chose answered {status}, not 403: "
        "admin rights must come from the database only"
    )
    assert b"@example.com" not in body, "a client-chosen header showed user emails to a customer"
