"""verify: every kind of after-the-fact change is found and named; hostile files are refused."""

from __future__ import annotations

import io
import json
import random
import shutil
import zlib
from pathlib import Path

import pytest
from test_session_support import connect, rows, sample_session

from tui_assess.errors import UserError
from tui_assess.session import Timeline, store, verify
from tui_assess.session.export import FORMATS, export


@pytest.fixture
def session(tmp_path: Path) -> Path:
    path = tmp_path / "s.tasession"
    sample_session(path)
    return path


def seq_of(path: Path, kind: str, nth: int = 0) -> int:
    return [r[0] for r in rows(path) if r[3] == kind][nth]


def execute(path: Path, *statements: str | tuple[str, tuple[object, ...]]) -> None:
    c = connect(path)
    c.execute("BEGIN")
    for st in statements:
        if isinstance(st, tuple):
            c.execute(*st)
        else:
            c.execute(st)
    c.execute("COMMIT")
    c.close()


def test_intact_session_verifies_with_sidecar(session: Path) -> None:
    rep = verify(session)
    assert rep.ok and rep.sidecar == "match" and rep.first_bad_seq is None
    assert rep.event_count == len(rows(session)) and rep.blob_count >= 2
    assert rep.final_link == rows(session)[-1][5]


def test_one_character_of_one_edit_changed(session: Path) -> None:
    seq = seq_of(session, "edit", 1)
    execute(session, ("UPDATE events SET payload = replace(payload, '# fast', '# fasT') "
                      "WHERE seq = ?", (seq,)))
    rep = verify(session)
    assert not rep.ok and rep.first_bad_seq == seq and rep.first_bad_kind == "edit"
    assert f"event {seq} (edit)" in rep.reason


def test_time_or_kind_changed(session: Path) -> None:
    execute(session, "UPDATE events SET t_mono = t_mono + 1 WHERE seq = 4")
    assert verify(session).first_bad_seq == 4


def test_event_deleted(session: Path) -> None:
    seq = seq_of(session, "paste")
    execute(session, ("DELETE FROM events WHERE seq = ?", (seq,)))
    rep = verify(session)
    assert not rep.ok and rep.first_bad_seq == seq and "missing" in rep.reason


def test_two_events_reordered(session: Path) -> None:
    a, b = 5, 6
    execute(
        session,
        "UPDATE events SET seq = -seq WHERE seq IN (5, 6)",
        f"UPDATE events SET seq = {b} WHERE seq = -{a}",
        f"UPDATE events SET seq = {a} WHERE seq = -{b}",
    )
    rep = verify(session)
    assert not rep.ok and rep.first_bad_seq == a and "reordered" in rep.reason


def test_event_inserted(session: Path) -> None:
    r = rows(session)
    fake_payload = store.canonical_json({"path": "report.py", "offset": 0, "deleted": 0,
                                         "text": "help"})
    execute(
        session,
        "UPDATE events SET seq = -seq WHERE seq >= 6",
        "UPDATE events SET seq = -seq + 1 WHERE seq < 0",
        ("INSERT INTO events VALUES (6, ?, ?, 'edit', ?, ?)",
         (r[4][1], r[4][2], fake_payload, "0" * 64)),
    )
    rep = verify(session)
    assert not rep.ok and rep.first_bad_seq == 6


def test_inserted_event_with_a_correct_link_breaks_the_next(session: Path) -> None:
    r = rows(session)
    payload = store.canonical_json({"path": "report.py", "offset": 0, "deleted": 0,
                                    "text": "help"})
    link = store.next_link(r[4][5], store.canonical_event_bytes(6, r[4][1], r[4][2], "edit",
                                                                payload))
    execute(
        session,
        "UPDATE events SET seq = -seq WHERE seq >= 6",
        "UPDATE events SET seq = -seq + 1 WHERE seq < 0",
        ("INSERT INTO events VALUES (6, ?, ?, 'edit', ?, ?)", (r[4][1], r[4][2], payload, link)),
    )
    rep = verify(session)
    assert not rep.ok and rep.first_bad_seq == 7


def test_tail_truncated_is_caught_by_the_sidecar(session: Path) -> None:
    n = len(rows(session))
    execute(session, ("DELETE FROM events WHERE seq > ?", (n - 3,)))
    rep = verify(session)
    assert not rep.ok and rep.first_bad_seq == n - 2 and "truncated" in rep.reason


def test_tail_truncated_without_sidecar_is_weaker_evidence(session: Path) -> None:
    n = len(rows(session))
    execute(session, ("DELETE FROM events WHERE seq > ?", (n - 3,)))
    store.sidecar_path(session).unlink()
    rep = verify(session)
    assert rep.ok and rep.sidecar == "missing"
    assert any("weaker evidence" in note for note in rep.notes)


def test_chain_recomputed_after_an_edit_is_caught_by_the_sidecar(session: Path) -> None:
    r = rows(session)
    prev = store.GENESIS_LINK
    c = connect(session)
    c.execute("BEGIN")
    for seq, t, wall, kind, payload, _ in r:
        if kind == "note":
            payload = store.canonical_json({"text": "a better note"})
        prev = store.next_link(prev, store.canonical_event_bytes(seq, t, wall, kind, payload))
        c.execute("UPDATE events SET payload = ?, link = ? WHERE seq = ?", (payload, prev, seq))
    c.execute("COMMIT")
    c.close()
    rep = verify(session)
    assert not rep.ok and rep.sidecar == "mismatch" and "rewritten" in rep.reason


def test_events_appended_after_close(session: Path) -> None:
    r = rows(session)
    seq, t, wall = r[-1][0] + 1, r[-1][1] + 1, r[-1][2] + 1
    payload = store.canonical_json({"text": "added later"})
    link = store.next_link(r[-1][5], store.canonical_event_bytes(seq, t, wall, "note", payload))
    execute(session, ("INSERT INTO events VALUES (?, ?, ?, 'note', ?, ?)",
                      (seq, t, wall, payload, link)))
    rep = verify(session)
    assert not rep.ok and rep.first_bad_seq == seq and "appended" in rep.reason


def test_corrupt_blob(session: Path) -> None:
    kf = seq_of(session, "keyframe")
    digest = json.loads(rows(session)[kf - 1][4])["files"]["report.py"]
    execute(session, ("UPDATE blobs SET data = ? WHERE sha256 = ?",
                      (zlib.compress(b"def report():\n    return 2\n"), digest)))
    rep = verify(session)
    assert not rep.ok and rep.first_bad_seq == kf and digest[:12] in rep.reason
    with Timeline.open(session) as tl, pytest.raises(UserError, match="does not match"):
        tl.state_at(seq=kf)


def test_missing_blob(session: Path) -> None:
    seq = seq_of(session, "external_change")
    digest = json.loads(rows(session)[seq - 1][4])["blob"]
    execute(session, ("DELETE FROM blobs WHERE sha256 = ?", (digest,)))
    rep = verify(session)
    assert not rep.ok and rep.first_bad_seq == seq and "missing" in rep.reason


def test_not_a_session_file(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    other = tmp_path / "other.db"
    c = connect(other)
    c.execute("CREATE TABLE t (x)")
    c.close()
    for path in (text, other, tmp_path / "missing.tasession", tmp_path):
        with pytest.raises(UserError):
            verify(path)
        with pytest.raises(UserError):
            Timeline.open(path)


def _exercise(path: Path) -> None:
    """Everything a reviewer can do with a file: only a report or a UserError may come out."""
    try:
        verify(path)
    except UserError as exc:
        assert str(exc) and "\n" not in str(exc)
    try:
        with Timeline.open(path) as tl:
            tl.state_at()
            if tl.last_event is not None:
                tl.state_at(seconds=tl.last_event.t / 2)
            tl.runs()
            tl.integrity_signals()
            tl.summary()
            for fmt in FORMATS:
                export(tl, fmt, io.StringIO())
    except UserError as exc:
        assert str(exc) and "\n" not in str(exc)


def test_fuzz_corrupted_and_random_files(tmp_path: Path) -> None:
    good = tmp_path / "good.tasession"
    sample_session(good)
    data = good.read_bytes()
    rnd = random.Random(5)
    target = tmp_path / "fuzz.tasession"
    cases: list[bytes] = [b"", b"SQLite format 3\x00", data[:100], data[: len(data) // 2]]
    cases += [rnd.randbytes(rnd.randint(1, 9000)) for _ in range(10)]
    cases += [b"SQLite format 3\x00" + rnd.randbytes(4096) for _ in range(5)]
    for _ in range(120):
        blob = bytearray(data)
        for _ in range(rnd.choice([1, 1, 3, 20])):
            blob[rnd.randrange(len(blob))] = rnd.randrange(256)
        cases.append(bytes(blob))
    for case in cases:
        target.write_bytes(case)
        for extra in ("-wal", "-shm"):
            Path(str(target) + extra).unlink(missing_ok=True)
        _exercise(target)


def test_fuzz_hostile_rows(session: Path, tmp_path: Path) -> None:
    """Well-formed SQLite, hostile contents: wrong types, bad JSON, huge numbers."""
    edits = [
        "UPDATE events SET payload = 'not json' WHERE seq = 4",
        "UPDATE events SET payload = '[1,2]' WHERE seq = 1",
        "UPDATE events SET t_mono = 'soon' WHERE seq = 3",
        "UPDATE events SET wall = 1e300 WHERE seq = 1",
        "UPDATE events SET kind = 5 WHERE seq = 2",
        "UPDATE events SET link = x'ff' WHERE seq = 2",
        "UPDATE events SET payload = CAST(x'ff7b7d' AS TEXT) WHERE seq = 3",
        "UPDATE events SET payload = '{\"path\": 5, \"offset\": \"x\"}' WHERE kind = 'edit'",
        "UPDATE events SET payload = '{\"files\": 7}' WHERE kind = 'keyframe'",
        "UPDATE blobs SET data = 'text, not zlib'",
        "UPDATE meta SET value = '99' WHERE key = 'format_version'",
        "DELETE FROM events",
        "DROP TABLE blobs",
    ]
    for i, sql in enumerate(edits):
        copy = tmp_path / f"h{i}.tasession"
        shutil.copy(session, copy)
        execute(copy, sql)
        _exercise(copy)


def test_resumed_then_crashed_session_is_intact_with_sidecar_behind(session: Path) -> None:
    from test_session_support import CHALLENGE_HASH

    from tui_assess.session import SessionRecorder

    rec = SessionRecorder.open_or_resume(session, challenge_id="slow-query",
                                         challenge_hash=CHALLENGE_HASH, mode="practice")
    rec.note("typed after the resume, then the laptop died")
    assert rec.flush()
    rec._closed = True  # a crash: no close, the sidecar still pins the earlier close
    rep = verify(session)
    assert rep.ok and rep.sidecar == "behind" and rep.notes
