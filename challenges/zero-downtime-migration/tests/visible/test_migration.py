"""Visible tests: the migration on a quiet database, and what the ticket is about."""

from _apps import V1, V2
from _zdm import columns, make_db, rows, split

import migration


def test_the_running_service_keeps_working_after_expand(tmp_path):
    """ACC-219's first attempt took the accounts service down: right after expand, v1 (still
    serving every request) could no longer save a user."""
    db = make_db(tmp_path / "users.db", users=200)
    migration.expand(db)
    try:
        uid = V1.create_user(db, "Grace Hopper", "grace@example.com")
    except Exception as exc:  # noqa: BLE001 - the outage we are testing for
        raise AssertionError(f"after expand, v1 cannot create a user: {exc}") from None
    assert V1.get_user(db, uid) == ("Grace Hopper", "grace@example.com")
    assert V2.get_user(db, uid) == ("Grace", "Hopper", "grace@example.com")


def test_expand_backfill_contract_on_a_quiet_database(tmp_path):
    db = make_db(tmp_path / "users.db", users=300)
    before = rows(db)
    migration.expand(db)
    migration.backfill(db)
    migration.contract(db)
    assert set(columns(db)) == {"id", "given_name", "family_name", "email", "created_at"}
    after = rows(db)
    for uid in (1, 2, 150, 300):
        given, family = split(before[uid]["fullname"])
        assert V2.get_user(db, uid) == (given, family, before[uid]["mail"])
    assert len(after) == len(before)
