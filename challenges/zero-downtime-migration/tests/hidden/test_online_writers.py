"""Every step runs while the service writes: no write is lost, doubled, or left out of step."""

from _zdm import Writer, columns, inconsistent, lost_writes, rows

import migration


def step(fn, db, what, writers):
    try:
        fn(db)
    except Exception as exc:  # noqa: BLE001
        for w in writers:
            w.finish()
        raise AssertionError(f"{what} failed while the service was writing: {exc}") from None


def no_errors(writers, during):
    for w in writers:
        assert not w.errors, (
            f"{w.version} failed {len(w.errors)} of its writes during {during}: {w.errors[0]}"
        )
        assert w.writes > 0, f"{w.version} could not write at all during {during}"


def test_expand_and_backfill_while_v1_and_v2_write(db):
    v1 = Writer(db, "v1", seed=1)
    v1.start()
    step(migration.expand, db, "expand()", [v1])
    v2 = Writer(db, "v2", seed=2)
    v2.start()
    step(migration.backfill, db, "backfill()", [v1, v2])
    v1.finish()
    v2.finish()
    no_errors([v1, v2], "expand and backfill")
    lost = lost_writes(db, [v1, v2])
    assert not lost, f"writes made during expand and backfill: {'; '.join(lost)}"
    bad = inconsistent(db)
    assert not bad, f"old and new columns disagree after backfill: {'; '.join(bad)}"
    created = len(v1.expected) + len(v2.expected)
    assert len(rows(db)) == 2000 + created, (
        f"{len(rows(db))} rows after {created} users were created: rows were lost or doubled"
    )


def test_contract_while_v2_writes(db):
    migration.expand(db)
    migration.backfill(db)
    v2 = Writer(db, "v2", seed=3)
    v2.start()
    step(migration.contract, db, "contract()", [v2])
    v2.stop.wait(0.2)  # v2 keeps writing on the new schema for a while
    v2.finish()
    no_errors([v2], "contract")
    lost = lost_writes(db, [v2])
    assert not lost, f"writes made during contract: {'; '.join(lost)}"
    assert "fullname" not in columns(db), "contract() left the old columns"


def test_a_backfill_stopped_half_way_is_finished_by_the_next_one(db):
    migration.expand(db)
    v1 = Writer(db, "v1", seed=4)
    v1.start()
    try:
        migration.backfill(db, batch_size=50)
    except TypeError as exc:
        v1.finish()
        raise AssertionError(f"backfill() takes no batch_size: {exc}") from None
    v1.finish()
    migration.backfill(db)
    bad = inconsistent(db)
    assert not bad, f"old and new columns disagree after backfill: {'; '.join(bad)}"
    empty = [u for u, r in rows(db).items() if r["given_name"] is None or r["email"] is None]
    assert not empty, f"{len(empty)} rows were never backfilled"
