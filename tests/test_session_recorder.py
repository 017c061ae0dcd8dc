"""SessionRecorder: what it stores, batching, keyframes, resume."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from test_session_support import CHALLENGE_HASH, START_FILES, new_recorder, rows, sample_session

from tui_assess.errors import UserError
from tui_assess.judge import types as rt
from tui_assess.session import SessionRecorder, Timeline, store, verify


def test_sample_session_is_stored_with_schema_chain_and_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    link = sample_session(path)
    assert store.sidecar_path(path).read_text().split()[1] == link
    conn = sqlite3.connect(path)
    # WAL while recording (see test_record_returns_at_once...), one plain file once closed.
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not path.with_name(path.name + "-wal").exists()
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    assert meta["format"] == store.FORMAT_NAME and meta["challenge_id"] == "slow-query"
    conn.close()
    events = rows(path)
    assert [r[0] for r in events] == list(range(1, len(events) + 1))
    kinds = [r[3] for r in events]
    assert kinds[0] == "session_start" and kinds[1] == "keyframe" and kinds[-1] == "session_end"
    prev = store.GENESIS_LINK
    for seq, t, wall, kind, payload, lk in events:
        assert payload == store.canonical_json(json.loads(payload))
        prev = store.next_link(prev, store.canonical_event_bytes(seq, t, wall, kind, payload))
        assert lk == prev
    assert prev == link
    start = json.loads(events[0][4])
    assert start["challenge_hash"] == CHALLENGE_HASH and start["candidate"] == "ada"
    assert {"os", "python", "cpu_count", "memory_mb", "terminal"} <= set(start["machine"])
    assert start["machine"]["terminal"] == [120, 40]
    assert verify(path).ok


def test_run_events_carry_snapshot_results_resources_and_sandbox(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    result = rt.RunResult(
        status="fail", tests=[rt.TestOutcome("t::a", "a", "t.py", "pass", 0.1),
                              rt.TestOutcome("t::b", "b", "t.py", "fail", 0.2, "assert 1 == 2")],
        resources=rt.Resources(1.5, 1.2, 60.0, 3, None), sandbox="rlimits",
        guarantees={"network": False}, snapshot="s" * 64,
        samples=[rt.ResourceSample(0.1, 50.0, 30.0, 2)],
    )
    rec.run_start("r1", "visible", files=START_FILES)
    rec.run_end("r1", "visible", result, score=40, max_score=100)
    rec.close()
    with Timeline.open(path) as tl:
        [run] = tl.runs()
        kf = [e for e in tl.events() if e.kind == "keyframe" and e.payload["reason"] == "run"]
        start = [e for e in tl.events() if e.kind == "run_start"][0]
    assert run["status"] == "fail" and run["sandbox"] == "rlimits" and run["score"] == 40
    assert [t["status"] for t in run["tests"]] == ["pass", "fail"]
    assert run["resources"]["peak_rss_mb"] == 60.0
    assert run["samples"] == [[0.1, 50.0, 30.0, 2]]
    assert run["snapshot"] == "s" * 64  # as the runner reported it
    assert start.payload["snapshot"] == kf[0].payload["snapshot"]  # the keyframe of that run


def test_record_returns_at_once_and_commits_within_100ms(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    t0 = time.perf_counter()
    for _i in range(200):
        rec.edit("report.py", 0, 0, "x")
    assert time.perf_counter() - t0 < 0.1
    time.sleep(0.2)  # no flush(): the writer's own batching must have committed by now
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    n = conn.execute("SELECT count(*) FROM events WHERE kind = 'edit'").fetchone()[0]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert n == 200
    rec.close()


def test_periodic_keyframes_bound_the_replay(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path, keyframe_every_events=10)
    for _ in range(95):
        rec.edit("report.py", 0, 0, "z")
    rec.close()
    with Timeline.open(path) as tl:
        periodic = [e for e in tl.events() if e.kind == "keyframe"
                    and e.payload["reason"] == "periodic"]
        assert len(periodic) == 9
        assert tl.state_at()["report.py"] == "z" * 95 + START_FILES["report.py"]


def test_bad_payload_does_not_stop_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    rec.record("note", text=object(), nan=float("nan"), where=Path("a/b"))
    rec.note("still recording")
    rec.close()
    kinds = [r[3] for r in rows(path)]
    assert kinds.count("note") == 2 and verify(path).ok


def test_create_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    sample_session(path)
    with pytest.raises(UserError, match="already exists"):
        new_recorder(path)


def test_resume_keeps_deadline_continues_chain_and_records_gap(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    first = SessionRecorder.open_or_resume(
        path, challenge_id="slow-query", challenge_hash=CHALLENGE_HASH, mode="exam",
        deadline=1_000_000.0, files=START_FILES,
    )
    assert not first.resumed and first.deadline == 1_000_000.0
    first.edit("report.py", 0, 0, "abc")
    assert first.flush()
    # A crash: no close, no session_end, no sidecar.
    first._closed = True
    time.sleep(0.3)
    again = SessionRecorder.open_or_resume(
        path, challenge_id="slow-query", challenge_hash=CHALLENGE_HASH, mode="exam",
        deadline=9_999_999_999.0, files={"report.py": "abc" + START_FILES["report.py"]},
    )
    assert again.resumed and again.deadline == 1_000_000.0
    assert again.resume_gap >= 0.3
    again.edit("report.py", 0, 3, "")
    again.close()
    report = verify(path)
    assert report.ok and report.sidecar == "match", report.reason
    with Timeline.open(path) as tl:
        resumed = [e for e in tl.events() if e.kind == "resumed"]
        assert len(resumed) == 1 and resumed[0].payload["gap"] >= 0.3
        assert tl.state_at()["report.py"] == START_FILES["report.py"]
        ts = [e.t for e in tl.events()]
        assert ts == sorted(ts)  # time since start keeps growing across the resume
        assert [s.kind for s in tl.integrity_signals()] == ["resume_gap"]


def test_resume_refuses_another_challenge_or_mode(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    sample_session(path)
    with pytest.raises(UserError, match="not a exam session"):
        SessionRecorder.open_or_resume(path, challenge_id="slow-query",
                                       challenge_hash=CHALLENGE_HASH, mode="exam")
    with pytest.raises(UserError, match="other"):
        SessionRecorder.open_or_resume(path, challenge_id="other",
                                       challenge_hash=CHALLENGE_HASH, mode="practice")


def test_resume_after_a_clean_close_leaves_sidecar_valid(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    sample_session(path)
    rec = SessionRecorder.open_or_resume(path, challenge_id="slow-query",
                                         challenge_hash="d" * 64, mode="practice")
    assert rec.submitted
    rec.note("after resume")
    link = rec.close()
    report = verify(path)
    assert report.ok and report.final_link == link
    with Timeline.open(path) as tl:
        resumed = [e for e in tl.events() if e.kind == "resumed"][0]
    assert resumed.payload["challenge_hash_changed"] is True


def test_any_python_text_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    odd = "lone \ud800 surrogate, NUL \x00, emoji 😀, CRLF \r\n"
    rec.edit("odd.py", 0, 0, odd)
    rec.external_change("ext.py", odd)
    rec.keyframe({"kf.py": odd, "raw.bin": b"\xff\xfe"})
    rec.edit("kf.py", 0, 0, "é")
    rec.close()
    assert verify(path).ok
    with Timeline.open(path) as tl:
        state = tl.state_at()
        kf = [e.seq for e in tl.events() if e.kind == "keyframe"][-1]
        before = tl.state_at(seq=kf - 1)
    assert state["kf.py"] == "é" + odd and state["raw.bin"] == "\udcff\udcfe"
    assert before["odd.py"] == odd and before["ext.py"] == odd
    assert all(ord(c) < 128 for r in rows(path) for c in r[4])  # payloads are pure ASCII


def test_a_bad_event_is_reported_and_recording_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    errors: list[str] = []
    rec = new_recorder(path, on_error=errors.append)
    rec.record(42, text="kind is not text")  # type: ignore[arg-type]
    rec.note("after")
    rec.close()
    assert errors and "could not be recorded" in errors[0]
    assert [r[3] for r in rows(path)][-2:] == ["note", "session_end"] and verify(path).ok


def test_long_runs_keep_a_bounded_number_of_samples(tmp_path: Path) -> None:
    from tui_assess.session.recorder import MAX_RUN_SAMPLES

    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    result = rt.RunResult(
        status="timeout", tests=[], resources=rt.Resources(), sandbox="rlimits",
        guarantees={}, snapshot="s" * 64,
        samples=[rt.ResourceSample(i / 10, 1.0, 2.0, 1) for i in range(6000)],
    )
    rec.run_end(1, "hidden", result)
    rec.close()
    with Timeline.open(path) as tl:
        [run] = tl.runs()
    assert len(run["samples"]) == MAX_RUN_SAMPLES and run["samples"][0][0] == 0.0


def test_default_session_path_lives_in_the_data_folder(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from tui_assess.session import default_session_path

    monkeypatch.setenv("TUI_ASSESS_HOME", str(tmp_path / "home"))
    path = default_session_path("slow-query", "exam")
    assert path == tmp_path / "home" / "sessions" / "exam-slow-query.tasession"
    assert path.parent.is_dir()


def test_a_file_killed_before_its_first_commit_is_started_afresh(tmp_path: Path) -> None:
    empty = tmp_path / "empty.tasession"
    empty.write_bytes(b"")
    no_tables = tmp_path / "no-tables.tasession"
    c = sqlite3.connect(no_tables)
    c.execute("PRAGMA journal_mode=WAL")
    c.close()
    for path in (empty, no_tables):
        rec = SessionRecorder.open_or_resume(path, challenge_id="slow-query",
                                             challenge_hash=CHALLENGE_HASH, mode="exam",
                                             deadline=123.0)
        assert not rec.resumed and rec.deadline == 123.0
        rec.close()
        assert verify(path).ok


def test_every_kind_in_the_issue_has_a_helper(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    rec.file_open("report.py")
    rec.edit("report.py", 0, 0, "a")
    rec.save("report.py", "a" + START_FILES["report.py"])
    rec.external_change("report.py", "outside\n")
    rec.external_change("notes.md", None)
    rec.paste("report.py", "b")
    rec.focus_lost()
    rec.focus_gained()
    rec.resize(100, 30)
    rec.run_start(1, "visible", snapshot="0" * 64)
    rec.run_end(1, "visible", status="pass", tests=[], resources={}, sandbox="rlimits")
    rec.resource_sample(app_cpu=1.0)
    rec.hint_shown(0)
    rec.solution_shown()
    rec.note("why")
    rec.submit({"report.py": "outside\n"})
    rec.time_up()
    rec.close("submitted")
    kinds = {r[3] for r in rows(path)}
    issue_kinds = {
        "session_start", "file_open", "edit", "save", "external_change", "paste",
        "focus_lost", "focus_gained", "resize", "run_start", "run_end", "resource_sample",
        "hint_shown", "solution_shown", "note", "submit", "time_up", "session_end", "keyframe",
    }
    assert issue_kinds <= kinds  # `resumed` is covered by the resume tests
    with Timeline.open(path) as tl:
        assert "notes.md" not in tl.state_at() and tl.state_at()["report.py"] == "outside\n"
        assert tl.last_event is not None and tl.last_event.payload == {"reason": "submitted"}


def test_start_sampling_records_resource_samples(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    rec.start_sampling(interval=0.05)
    time.sleep(0.3)
    rec.close()
    with Timeline.open(path) as tl:
        series = tl.resource_series()
    assert len(series) >= 2
    assert {"app_cpu", "app_rss_mb", "sys_cpu", "sys_mem", "t"} <= set(series[0])
    assert series[0]["app_rss_mb"] > 0
