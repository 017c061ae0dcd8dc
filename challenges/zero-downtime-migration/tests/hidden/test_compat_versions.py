"""While the migration runs, v1 and v2 read each other's writes: the columns stay in step."""

import pytest
from _apps import V1, V2
from _zdm import columns, rows, split

import migration


def v1_sees(db, uid, want, after):
    got = app(V1.get_user, db, uid, what=f"after {after}, v1 reading the user")
    assert got == want, f"after {after}, v1 reads user {uid} as {got}; expected {want}"


def v2_sees(db, uid, want, after):
    got = app(V2.get_user, db, uid, what=f"after {after}, v2 reading the user")
    assert got == want, f"after {after}, v2 reads user {uid} as {got}; expected {want}"


def app(call, *args, what):
    """One request of a service version; a failure says which version could not do what."""
    try:
        return call(*args)
    except Exception as exc:  # noqa: BLE001 - the outage we are testing for
        raise AssertionError(f"{what} failed: {type(exc).__name__}: {exc}") from None


def run(step, db, what):
    try:
        step(db)
    except Exception as exc:  # noqa: BLE001 - a step must not fail on a healthy database
        raise AssertionError(f"{what} failed: {type(exc).__name__}: {exc}") from None


@pytest.mark.parametrize(
    ("name", "given", "family"),
    [
        ("Ada Lovelace", "Ada", "Lovelace"),
        ("Guido van Rossum", "Guido", "van Rossum"),
        ("Cher", "Cher", ""),
    ],
)
def test_v1_writes_are_readable_by_v2(db, name, given, family):
    run(migration.expand, db, "expand()")
    uid = app(V1.create_user, db, name, "a@example.com", what="after expand, v1 creating a user")
    v2_sees(db, uid, (given, family, "a@example.com"), f"v1 created {name!r}")
    app(V1.rename_user, db, uid, "Grace Brewster Hopper", what="after expand, v1 renaming a user")
    v2_sees(db, uid, ("Grace", "Brewster Hopper", "a@example.com"), "v1 renamed the user")
    app(V1.change_mail, db, uid, "g@example.com", what="after expand, v1 changing a mail")
    v2_sees(db, uid, ("Grace", "Brewster Hopper", "g@example.com"), "v1 changed the mail")


@pytest.mark.parametrize(
    ("given", "family", "name"),
    [("Linus", "Torvalds", "Linus Torvalds"), ("Mary Ann", "Evans", "Mary Ann Evans"),
     ("Prince", "", "Prince")],
)
def test_v2_writes_are_readable_by_v1_and_stay_as_written(db, given, family, name):
    run(migration.expand, db, "expand()")
    uid = app(
        V2.create_user, db, given, family, "b@example.com", what="after expand, v2 creating a user"
    )
    v1_sees(db, uid, (name, "b@example.com"), f"v2 created {given!r} {family!r}")
    v2_sees(db, uid, (given, family, "b@example.com"), f"v2 created {given!r} {family!r}")
    V2.rename_user(db, uid, "Jean Luc", "Picard")
    v1_sees(db, uid, ("Jean Luc Picard", "b@example.com"), "v2 renamed the user")
    v2_sees(db, uid, ("Jean Luc", "Picard", "b@example.com"), "v2 renamed the user")
    V2.change_email(db, uid, "p@example.com")
    v1_sees(db, uid, ("Jean Luc Picard", "p@example.com"), "v2 changed the email")


def test_backfill_fills_every_older_row_and_keeps_what_v2_wrote(db):
    before = rows(db)
    run(migration.expand, db, "expand()")
    uid = V2.create_user(db, "Mary Ann", "Evans", "m@example.com")
    run(migration.backfill, db, "backfill()")
    for old in (1, 500, 2000):
        given, family = split(before[old]["fullname"])
        v2_sees(db, old, (given, family, before[old]["mail"]), "backfill")
    v2_sees(db, uid, ("Mary Ann", "Evans", "m@example.com"), "backfill")
    empty = [
        u for u, r in rows(db).items() if None in (r["given_name"], r["family_name"], r["email"])
    ]
    assert not empty, f"after backfill, {len(empty)} rows still have empty new columns"


def test_backfill_can_run_twice(db):
    run(migration.expand, db, "expand()")
    run(migration.backfill, db, "backfill()")
    once = rows(db)
    run(migration.backfill, db, "a second backfill()")
    assert rows(db) == once, "a second backfill() changed rows"


def test_contract_leaves_v2_working_and_the_old_columns_gone(db):
    before = rows(db)
    for step, what in ((migration.expand, "expand()"), (migration.backfill, "backfill()"),
                       (migration.contract, "contract()")):
        run(step, db, what)
    have = set(columns(db))
    assert {"fullname", "mail"}.isdisjoint(have), f"after contract the columns are {sorted(have)}"
    assert {"given_name", "family_name", "email"} <= have, (
        f"after contract the columns are {sorted(have)}"
    )
    uid = V2.create_user(db, "Ken", "Thompson", "k@example.com")
    v2_sees(db, uid, ("Ken", "Thompson", "k@example.com"), "contract")
    given, family = split(before[7]["fullname"])
    v2_sees(db, 7, (given, family, before[7]["mail"]), "contract")
    assert len(rows(db)) == len(before) + 1, "contract lost or added rows"


def test_contract_refuses_to_run_before_backfill(db):
    run(migration.expand, db, "expand()")
    before = rows(db)
    cols = columns(db)
    try:
        migration.contract(db)
    except Exception:  # noqa: BLE001 - refusing is right
        pass
    assert columns(db) == cols, (
        "contract() before backfill dropped the old columns of rows whose new columns are "
        "still empty: their names and mails are gone"
    )
    assert rows(db) == before, "contract() before backfill changed rows"


def test_expand_can_run_twice(db):
    run(migration.expand, db, "expand()")
    run(migration.expand, db, "a second expand() (a deploy retried)")
    uid = V1.create_user(db, "Ada Lovelace", "a@example.com")
    v2_sees(db, uid, ("Ada", "Lovelace", "a@example.com"), "expand() ran twice")
