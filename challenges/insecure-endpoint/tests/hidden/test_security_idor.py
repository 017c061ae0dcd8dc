"""Orders are visible to their owner only; ids must not be enumerable."""

import pytest


def _orders_of(shop, first_name):
    with shop.db() as conn:
        return conn.execute(
            "SELECT id, note FROM orders WHERE user_id = ? ORDER BY id",
            (shop.user_ids[first_name],),
        ).fetchall()


@pytest.mark.parametrize("victim", ["bob", "carol", "dana"])
def test_customer_cannot_read_another_customers_order(shop, victim):
    victims = _orders_of(shop, victim)
    assert victims, "test data: the victim has no orders"
    for row in victims:
        status, _data, body = shop.get_json(f"/orders/{row['id']}", token=shop.tokens["alice"])
        assert status in (403, 404), f"alice read order {row['id']} of {victim}"
        assert row["note"].encode() not in body, f"another customer's order {row['id']} leaked"


def test_order_detail_needs_a_token(shop):
    row = _orders_of(shop, "bob")[0]
    for token in (None, "forged-token"):
        status, _data, body = shop.get_json(f"/orders/{row['id']}", token=token)
        what = "no token" if token is None else "an unknown token"
        assert status == 401, f"an order with {what} answered {status}, not 401"
        assert row["note"].encode() not in body, f"an order was shown to a caller with {what}"


def test_enumerating_ids_finds_only_own_orders(shop):
    own = {r["id"] for r in _orders_of(shop, "bob")}
    found = set()
    for oid in range(1, 70):
        status, _data, _body = shop.get_json(f"/orders/{oid}", token=shop.tokens["bob"])
        assert status in (200, 403, 404), f"/orders/{oid} answered {status}"
        if status == 200:
            found.add(oid)
    others = sorted(found - own)
    assert not others, (
        f"trying order ids 1 to 69, bob could read {len(others)} orders of other customers"
    )
    assert found == own, f"bob could not read {len(own - found)} of his own orders"
