"""Session format 2 (packs of events, delta blobs) next to format 1: same events, same chain,
same readers; version-1 files (a fixture written by the format-1 recorder) still open,
verify, replay, export, resume; damage inside packs and deltas is named like any other."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from test_session_kill import child as typing_child
from test_session_support import (
    FIXTURES,
    START_FILES,
    connect,
    session_fixture,
    timed_recorder,
)

from tui_assess.errors import UserError
from tui_assess.exam.receipt import check_receipt
from tui_assess.session import SessionRecorder, Timeline, store, verify
from tui_assess.session.export import export_jsonl

V1_EXPECTED = json.loads((FIXTURES / "v1-exam.expected.json").read_text(encoding="utf-8"))


def copy_v1(tmp_path: Path) -> Path:
    return session_fixture("v1-exam", tmp_path)


def jsonl(path: Path) -> str:
    out = io.StringIO()
    with Timeline.open(path) as tl:
        export_jsonl(tl, out)
    return out.getvalue()


def meta_version(path: Path) -> str:
    c = connect(path)
    try:
        return str(c.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()[0])
    finally:
        c.close()


# ---------------------------------------------------------------------- version 1 still reads

def test_v1_fixture_verifies_replays_exports_and_its_receipt_holds(tmp_path: Path) -> None:
    path = copy_v1(tmp_path)
    assert meta_version(path) == "1"
    report = verify(path)
    assert report.ok and report.sidecar == "match", report.reason
    assert report.final_link == V1_EXPECTED["final_link"]
    assert (report.event_count, report.blob_count) == (V1_EXPECTED["events"], V1_EXPECTED["blobs"])
    with Timeline.open(path) as tl:
        assert tl.state_at() == V1_EXPECTED["files"]
        assert tl.kind_counts() == V1_EXPECTED["kinds"]
        assert tl.summary()["final_link"] == V1_EXPECTED["final_link"]
    assert hashlib.sha256(jsonl(path).encode()).hexdigest() == V1_EXPECTED["jsonl_sha256"]
    assert check_receipt(path, V1_EXPECTED["receipt"]).ok
    cli = subprocess.run(
        [sys.executable, "-m", "tui_assess", "session", "verify", str(path), "--receipt",
         V1_EXPECTED["receipt"]], capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr


def test_v1_fixture_resumes_as_version_1(tmp_path: Path) -> None:
    path = copy_v1(tmp_path)
    files = V1_EXPECTED["files"]
    rec = SessionRecorder.open_or_resume(
        path, challenge_id="slow-query", challenge_hash="ab" * 32, mode="exam", files=files)
    assert rec.resumed and rec.format_version == 1
    rec.edit("report.py", 0, 0, "# after the resume\n")
    rec.keyframe({**files, "report.py": "# after the resume\n" + files["report.py"]})
    rec.close()
    assert meta_version(path) == "1"
    c = connect(path)
    tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    blob_columns = {r[1] for r in c.execute("PRAGMA table_info(blobs)")}
    c.close()
    assert "packs" not in tables and "base" not in blob_columns  # still the version-1 layout
    report = verify(path)
    assert report.ok and report.sidecar == "match", report.reason
    assert report.event_count > V1_EXPECTED["events"]
    with Timeline.open(path) as tl:
        assert tl.state_at()["report.py"] == "# after the resume\n" + files["report.py"]


# ---------------------------------------------------------------------- the same session twice

def scripted(path: Path, version: int, edits: int = 1400) -> str:
    """The same events, at the same moments, recorded in ``version``; returns the final link."""
    clock = [0.0, 1.8e9]

    class Clocked(SessionRecorder):
        def _now(self) -> tuple[float, float]:
            return clock[0], clock[1]

    rec = Clocked.create(path, challenge_id="slow-query", challenge_hash="c" * 64,
                         mode="practice", candidate="ada", files=dict(START_FILES),
                         terminal_size=(120, 40), format_version=version,
                         keyframe_every_events=100)
    rnd = random.Random(5)
    wall0 = clock[1]
    text = ""
    for i in range(edits):
        clock[0] = 1 + i * 0.3
        clock[1] = wall0 + clock[0]
        at = rnd.randint(0, len(text))
        ch = rnd.choice(["a", "b", "\n", "    ", "é", "\u2713"])
        rec.edit("notes.md", at, 0, ch)
        text = text[:at] + ch + text[at:]
        if i % 97 == 0:
            rec.resource_sample(app_cpu=1.0, app_rss_mb=80.0, sys_cpu=5.0, sys_mem=40.0)
        if i % 400 == 399:
            rec.run_start(i, "visible", files={"notes.md": text})
            rec.run_end(i, "visible", status="pass", tests=[{"name": "t", "status": "pass"}])
        if i == 700:
            rec.external_change("report.py", "def report():\n    return 2\n")
    return rec.close()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("pair")
    v1, v2 = folder / "one.tasession", folder / "two.tasession"
    assert scripted(v1, 1) == scripted(v2, 2)  # the chain is the format's, not the layout's
    return v1, v2


def test_version_2_holds_the_same_session_in_less_space(pair: tuple[Path, Path]) -> None:
    v1, v2 = pair
    assert (meta_version(v1), meta_version(v2)) == ("1", "2")
    c = connect(v2)
    packs = c.execute("SELECT count(*), min(first_seq) FROM packs").fetchone()
    tail = c.execute("SELECT count(*) FROM events").fetchone()[0]
    deltas = c.execute("SELECT count(*) FROM blobs WHERE base IS NOT NULL").fetchone()[0]
    c.close()
    assert packs[0] >= 2 and packs[1] == 1 and 0 < tail < store.PACK_EVENTS
    assert deltas > 0
    assert v2.stat().st_size < 0.7 * v1.stat().st_size  # most of it still in the tail
    r1, r2 = verify(v1), verify(v2)
    assert r1.ok and r2.ok, (r1.reason, r2.reason)
    assert (r1.event_count, r1.blob_count, r1.final_link) == \
        (r2.event_count, r2.blob_count, r2.final_link)
    assert jsonl(v1) == jsonl(v2)
    with Timeline.open(v1) as t1, Timeline.open(v2) as t2:
        assert t1.events() == t2.events()
        for seq in random.Random(3).sample(t1.seqs, 25):
            assert t1.state_at(seq=seq) == t2.state_at(seq=seq)
        assert t1.summary() == {**t2.summary(), "file": str(v1)}


def test_version_2_resumes_and_keeps_packing(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    path = tmp_path / "two.tasession"
    shutil.copyfile(pair[1], path)
    shutil.copyfile(store.sidecar_path(pair[1]), store.sidecar_path(path))
    with Timeline.open(path) as tl:
        before = tl.state_at()
        edits = tl.kind_counts()["edit"]
    rec = SessionRecorder.open_or_resume(path, challenge_id="slow-query",
                                         challenge_hash="c" * 64, mode="practice")
    assert rec.resumed and rec.format_version == 2
    for i in range(store.PACK_EVENTS):
        rec.edit("notes.md", 0, 0, "z")
        if i % 50 == 0:
            assert rec.flush()  # several batches, as a candidate types
    rec.close()
    report = verify(path)
    assert report.ok and report.sidecar == "match", report.reason
    with Timeline.open(path) as tl:
        assert tl.kind_counts()["edit"] == edits + store.PACK_EVENTS
        assert tl.state_at()["notes.md"] == "z" * store.PACK_EVENTS + before["notes.md"]


def test_a_reader_sees_a_live_version_2_file(tmp_path: Path) -> None:
    path = tmp_path / "live.tasession"
    rec, _ = timed_recorder(path)
    for i in range(store.PACK_EVENTS + 40):
        rec.edit("notes.md", i, 0, "q")
    assert rec.flush()
    with Timeline.open(path) as tl:  # WAL mode, the writer still open
        assert tl.state_at()["notes.md"] == "q" * (store.PACK_EVENTS + 40) + "# notes\n"
    assert verify(path).ok
    rec.close()


# ---------------------------------------------------------------------- damage inside packs

@pytest.fixture
def packed(tmp_path: Path, pair: tuple[Path, Path]) -> Path:
    path = tmp_path / "two.tasession"
    shutil.copyfile(pair[1], path)
    shutil.copyfile(store.sidecar_path(pair[1]), store.sidecar_path(path))
    return path


def pack(path: Path, index: int) -> tuple[int, int, list[str], bytes]:
    c = connect(path)
    first, size, data, links = c.execute(
        "SELECT first_seq, size, data, links FROM packs ORDER BY first_seq LIMIT 1 OFFSET ?",
        (index,)).fetchone()
    c.close()
    return first, size, zlib.decompress(data).decode().split("\n"), links


def write_pack(path: Path, first: int, lines: list[str] | None = None,
               links: bytes | None = None, **columns: Any) -> None:
    c = connect(path)
    if lines is not None:
        text = "\n".join(lines).encode()
        columns.update(data=zlib.compress(text), size=len(text))
    if links is not None:
        columns["links"] = links
    for name, value in columns.items():
        c.execute(f"UPDATE packs SET {name} = ? WHERE first_seq = ?", (value, first))
    c.close()


def edit_line(lines: list[str]) -> tuple[int, int]:
    """Index and seq of the first edit in a pack's lines."""
    i = next(i for i, line in enumerate(lines) if ',"edit",' in line)
    return i, int(lines[i][1:].split(",", 1)[0])


def test_a_changed_packed_event_is_named(packed: Path) -> None:
    first, _, lines, _ = pack(packed, 1)
    i, seq = edit_line(lines)
    lines[i] = lines[i].replace('"offset":', '"offset":1', 1)
    write_pack(packed, first, lines)
    report = verify(packed)
    assert not report.ok and report.first_bad_seq == seq and report.first_bad_kind == "edit"
    assert "does not match the chain" in report.reason


def test_a_changed_packed_link_is_named(packed: Path) -> None:
    first, _, lines, links = pack(packed, 0)
    i, seq = edit_line(lines[10:])
    i += 10
    links = links[:32 * i] + bytes(32) + links[32 * (i + 1):]
    write_pack(packed, first, links=links)
    report = verify(packed)
    assert not report.ok and report.first_bad_seq == seq


def test_a_deleted_pack_is_missing_events(packed: Path) -> None:
    first, _, lines, _ = pack(packed, 1)
    c = connect(packed)
    c.execute("DELETE FROM packs WHERE first_seq = ?", (first,))
    c.close()
    report = verify(packed)
    assert not report.ok and report.first_bad_seq == first
    assert f"events {first} to {first + len(lines) - 1} are missing" in report.reason


@pytest.mark.parametrize("damage", ["garbage", "bomb", "cut", "bad_line", "size"])
def test_an_unreadable_pack_is_damage_at_its_first_event(packed: Path, damage: str) -> None:
    first, size, lines, _ = pack(packed, 1)
    bomb = zlib.compress(b"[" * (200 * 2**20), 9)  # 200 MiB of brackets in ~200 KB
    columns: dict[str, Any] = {
        "garbage": {"data": b"not zlib at all"},
        "bomb": {"data": bomb, "size": size},
        "cut": {"data": zlib.compress("\n".join(lines).encode())[:-40]},
        "bad_line": {},
        "size": {"size": "unknown"},
    }[damage]
    bad_at = first
    if damage == "bad_line":
        lines[3] = "[not an event]"
        bad_at = first + 3
        write_pack(packed, first, lines)
    write_pack(packed, first, **columns)
    if damage == "size":  # no usable size: bounded by the cap, and still read
        assert verify(packed).ok
        return
    report = verify(packed)
    assert not report.ok and report.first_bad_seq == bad_at, report.reason
    assert "malformed" in report.reason
    with pytest.raises(UserError, match="damaged"):
        Timeline.open(packed)


def test_a_changed_or_orphaned_delta_blob_is_named(packed: Path) -> None:
    c = connect(packed)
    digest, base, size = c.execute(
        "SELECT sha256, base, size FROM blobs WHERE base IS NOT NULL LIMIT 1").fetchone()
    base_row = c.execute("SELECT data FROM blobs WHERE sha256 = ?", (base,)).fetchone()
    other = store.compress_delta(b"x" * size, zlib.decompress(base_row[0]))
    c.execute("UPDATE blobs SET data = ? WHERE sha256 = ?", (other, digest))
    c.close()
    with Timeline.open(packed) as tl:
        users = [e.seq for e in tl.events() if digest in json.dumps(e.payload)]
    report = verify(packed)
    assert not report.ok and report.first_bad_seq == users[0]
    assert f"blob {digest[:12]} does not match its hash" in report.reason

    c = connect(packed)
    c.execute("DELETE FROM blobs WHERE sha256 = ?", (base,))  # the dictionary is gone
    c.close()
    report = verify(packed)  # the base is missing (a keyframe names it), the delta unreadable
    assert not report.ok and f"blob {base[:12]} is missing" in report.reason
    assert "(1 more blob problems)" in report.reason


# ---------------------------------------------------------------------- crashes while packing

def small_pack_child(path: Path, ready: Any) -> None:
    store.PACK_EVENTS = 7  # pack at nearly every commit: kills land mid-pack
    typing_child(path, ready)


def test_kill_minus_9_while_packing(tmp_path: Path) -> None:
    rnd = random.Random(14)
    ctx = multiprocessing.get_context("fork")
    procs = []
    for k in range(4):
        ours, theirs = ctx.Pipe()
        path = tmp_path / f"k{k}.tasession"
        p = ctx.Process(target=small_pack_child, args=(path, theirs), daemon=True)
        p.start()
        assert ours.poll(10) and ours.recv() == "ready"
        procs.append((p, path))
    for p, path in procs:
        time.sleep(rnd.uniform(0.05, 0.3))
        assert p.pid is not None
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        report = verify(path)
        assert report.ok, report.reason
        c = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        assert c.execute("SELECT count(*) FROM packs").fetchone()[0] > 0
        c.close()
        with Timeline.open(path) as tl:
            assert tl.state_at()["a.py"] == "x" * tl.kind_counts().get("edit", 0)
    path = procs[0][1]
    rec = SessionRecorder.open_or_resume(path, challenge_id="kill", challenge_hash="0" * 64,
                                         mode="exam")
    rec.edit("a.py", 0, 0, "after")
    rec.close()
    assert verify(path).ok


def test_disk_full_while_packing_loses_nothing(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "PACK_EVENTS", 16)
    path = tmp_path / "full.tasession"
    errors: list[str] = []
    rec, _ = timed_recorder(path, on_error=errors.append, retry_interval=0.05)
    rec.edit("notes.md", 0, 0, "a")
    assert rec.flush()
    rec._max_page_count = 1
    rnd = random.Random(2)
    typed = ""
    for _ in range(40):
        chunk = "".join(rnd.choices("abcdefghijklmnopqrstuvwxyz", k=3000))
        rec.edit("notes.md", 0, 0, chunk)
        typed = chunk + typed
    assert not rec.flush(timeout=1) and errors and "disk is full" in errors[0]
    rec._max_page_count = None
    assert rec.flush()
    rec.close()
    report = verify(path)
    assert report.ok and report.sidecar == "match", report.reason
    with Timeline.open(path) as tl:
        assert tl.state_at()["notes.md"] == typed + "a# notes\n"
