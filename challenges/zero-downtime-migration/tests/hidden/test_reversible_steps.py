"""Each step can be undone, while the service writes, without losing a row or a change."""

from _apps import V1, V2
from _zdm import V1_COLUMNS, Writer, columns, inconsistent, lost_writes, rows

import migration


def undo(fn, db, what, writers=()):
    try:
        fn(db)
    except Exception as exc:  # noqa: BLE001
        for w in writers:
            w.finish()
        raise AssertionError(f"{what} failed: {type(exc).__name__}: {exc}") from None


def test_undo_contract_brings_v1_back_with_every_row(db):
    migration.expand(db)
    migration.backfill(db)
    migration.contract(db)
    uid = V2.create_user(db, "Mary Ann", "Evans", "m@example.com")
    v2 = Writer(db, "v2", seed=5)
    v2.start()
    undo(migration.undo_contract, db, "undo_contract()", [v2])
    v2.finish()
    assert {"fullname", "mail"} <= set(columns(db)), (
        f"after undo_contract the columns are {columns(db)}"
    )
    got = V1.get_user(db, uid)
    assert got == ("Mary Ann Evans", "m@example.com"), (
        f"after undo_contract, v1 reads a user v2 created as {got}"
    )
    lost = lost_writes(db, [v2])
    assert not lost, f"writes made during undo_contract: {'; '.join(lost)}"
    bad = inconsistent(db)
    assert not bad, f"old and new columns disagree after undo_contract: {'; '.join(bad)}"
    new = V1.create_user(db, "Barbara Liskov", "b@example.com")
    got = V2.get_user(db, new)
    assert got == ("Barbara", "Liskov", "b@example.com"), (
        f"after undo_contract, v2 reads a user v1 created as {got}: the columns are not kept "
        "in step again"
    )


def test_undo_backfill_keeps_both_versions_working(db):
    migration.expand(db)
    migration.backfill(db)
    undo(migration.undo_backfill, db, "undo_backfill()")
    uid = V1.create_user(db, "Ken Thompson", "k@example.com")
    got = V2.get_user(db, uid)
    assert got == ("Ken", "Thompson", "k@example.com"), (
        f"after undo_backfill, v2 reads a user v1 created as {got}"
    )


def test_undo_expand_restores_the_original_table(db):
    before = rows(db)
    migration.expand(db)
    uid = V2.create_user(db, "Jean Luc", "Picard", "jl@example.com")
    v1 = Writer(db, "v1", seed=6)
    v1.start()
    undo(migration.undo_expand, db, "undo_expand()", [v1])
    v1.stop.wait(0.2)
    v1.finish()
    assert sorted(columns(db)) == sorted(V1_COLUMNS), (
        f"after undo_expand the columns are {columns(db)}"
    )
    got = V1.get_user(db, uid)
    assert got == ("Jean Luc Picard", "jl@example.com"), (
        f"after undo_expand, a user v2 created reads {got}"
    )
    after = rows(db)
    changed = [u for u, r in before.items() if after.get(u) != r]
    assert not changed, (
        f"undo_expand changed {len(changed)} of the original rows (e.g. user {changed[0]})"
    )
    assert not v1.errors, f"v1 failed during undo_expand: {v1.errors[0]}"
    lost = lost_writes(db, [v1])
    assert not lost, f"writes made during undo_expand: {'; '.join(lost)}"


def test_there_and_back_twice_keeps_every_row(db):
    before = rows(db)
    for _ in range(2):
        for fn in (migration.expand, migration.backfill, migration.contract):
            fn(db)
        for fn in (migration.undo_contract, migration.undo_backfill, migration.undo_expand):
            undo(fn, db, f"{fn.__name__}()")
    assert sorted(columns(db)) == sorted(V1_COLUMNS), (
        f"after two round trips the columns are {columns(db)}"
    )
    after = rows(db)
    changed = [u for u in before if after.get(u) != before[u]]
    assert not changed, (
        f"after two round trips, {len(changed)} rows changed (e.g. user {changed[0]}: "
        f"{before[changed[0]]['fullname']!r} became "
        f"{(after.get(changed[0]) or {}).get('fullname')!r})"
    )
