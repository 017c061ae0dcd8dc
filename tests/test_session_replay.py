"""Timeline: replaying edits reproduces the files exactly; seeking; runs; signals; export."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_session_support import START_FILES, new_recorder, sample_session, timed_recorder

from tui_assess.session import Timeline, verify
from tui_assess.session.export import export_asciicast, export_jsonl

# Text with newlines of every kind, tabs, non-ASCII and astral characters.
texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]) | st.sampled_from(
    ["\n", "\r", "\t", "é", "😀", " "]), max_size=30)
edits = st.tuples(st.sampled_from(["report.py", "notes.md", "new.py"]), st.floats(0, 1),
                  st.integers(0, 12), texts, st.booleans())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(edits, max_size=60), every=st.integers(3, 40))
def test_replaying_all_edits_reproduces_the_saved_files(
    ops: list[tuple[str, float, int, str, bool]], every: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.tasession"
        rec = new_recorder(path, keyframe_every_events=every)
        model = dict(START_FILES)
        history: list[dict[str, str]] = []  # model after each edit
        for name, where, deleted, text, save in ops:
            old = model.get(name, "")
            offset = int(where * len(old))
            deleted = min(deleted, len(old) - offset)
            model[name] = old[:offset] + text + old[offset + deleted:]
            rec.edit(name, offset, deleted, text)
            history.append(dict(model))
            if save:
                rec.save(name, model[name])
        rec.close()
        assert verify(path).ok
        with Timeline.open(path) as tl:
            assert tl.state_at() == model
            assert not [s for s in tl.integrity_signals() if s.kind == "save_mismatch"]
            edit_seqs = [e.seq for e in tl.events() if e.kind == "edit"]
            for seq, expected in list(zip(edit_seqs, history, strict=True))[::7]:
                assert tl.state_at(seq=seq) == expected
            if edit_seqs:
                last = tl.event(edit_seqs[-1])
                assert tl.state_at(seconds=last.t) == model


def test_seek_starts_from_the_nearest_keyframe(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path, keyframe_every_events=50)
    for _ in range(400):
        rec.edit("report.py", 0, 0, "a")
    rec.close()
    with Timeline.open(path) as tl:
        replayed: list[int] = []
        original = tl._apply

        def counting(state: dict[str, str], kind: str, p: dict[str, Any], *seq: int) -> None:
            replayed.append(1)
            original(state, kind, p, *seq)

        monkeypatch.setattr(tl, "_apply", counting)
        state = tl.state_at(seq=tl.last_event.seq - 1)  # type: ignore[union-attr]
        assert state["report.py"].startswith("a" * 399)
        assert len(replayed) <= 50


def test_events_between_by_seq_and_seconds(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    sample_session(path)
    with Timeline.open(path) as tl:
        assert [e.seq for e in tl.events_between(3, 5)] == [3, 4, 5]
        everything = tl.events_between(0, 10**6, unit="seconds")
        assert len(everything) == tl.event_count


def test_integrity_signals(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec, clock = timed_recorder(path)
    wall0 = clock[1]
    clock[:] = [10.0, wall0 + 10.0]
    rec.paste("report.py", "p" * 500)
    rec.paste("report.py", "small")
    rec.focus_lost()
    clock[:] = [70.0, wall0 + 70.0]
    rec.focus_gained()
    clock[:] = [71.0, wall0 + 300.0]  # wall jumps 229 s ahead of the monotonic clock
    rec.external_change("report.py", "replaced\n")
    rec.save("report.py", "not what the edits say\n")
    rec.resource_sample(app_cpu=2.0, app_rss_mb=70.0, sys_cpu=9.0, sys_mem=50.0)
    rec.close()
    with Timeline.open(path) as tl:
        kinds = [s.kind for s in tl.integrity_signals()]
        series = tl.resource_series()
    assert kinds == ["large_paste", "long_focus_loss", "external_change", "clock_jump",
                     "save_mismatch"]
    assert series == [{"t": 71.0, "app_cpu": 2.0, "app_rss_mb": 70.0, "sys_cpu": 9.0,
                       "sys_mem": 50.0}]


def test_export_jsonl_one_event_per_line(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    sample_session(path)
    out = io.StringIO()
    with Timeline.open(path) as tl:
        n = export_jsonl(tl, out)
        count = tl.event_count
    lines = out.getvalue().splitlines()
    assert n == count == len(lines)
    first = json.loads(lines[0])
    assert set(first) == {"seq", "t", "kind", "payload"} and first["kind"] == "session_start"


def test_export_asciicast_v2_with_markers(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    sample_session(path)
    out = io.StringIO()
    with Timeline.open(path) as tl:
        export_asciicast(tl, out, width=80, height=24)
    header, *events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert header["version"] == 2 and header["width"] == 80 and header["height"] == 24
    times = [e[0] for e in events]
    assert times == sorted(times)
    markers = [e[2] for e in events if e[1] == "m"]
    assert any(m.startswith("run 1 (visible): fail, 1/2 passed") for m in markers)
    assert any(m.startswith("paste: 250") for m in markers) and "focus lost" in markers
    frames = [e[2] for e in events if e[1] == "o"]
    assert frames and "return 42" in frames[-1]


def test_blob_hashes_are_sha256_of_content(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    sample_session(path)
    with Timeline.open(path) as tl:
        kf = next(e for e in tl.events() if e.kind == "keyframe")
        for name, digest in kf.payload["files"].items():
            text = START_FILES[name].encode()
            assert digest == hashlib.sha256(text).hexdigest()
            assert tl.blob_text(digest) == START_FILES[name]


def _play(outputs: list[str], height: int) -> list[str]:
    """A tiny terminal for the escape codes the exporter uses."""
    screen = [""] * height
    row = 0
    pos = re.compile(r"\x1b\[(\d+);1H")
    for data in outputs:
        data = data.replace("\x1b[7m", "").replace("\x1b[0m", "")
        i = 0
        while i < len(data):
            m = pos.match(data, i)
            if data.startswith("\x1b[2J", i):
                screen, i = [""] * height, i + 4
            elif data.startswith("\x1b[H", i):
                row, i = 0, i + 3
            elif data.startswith("\x1b[2K", i):
                screen[row], i = "", i + 4
            elif m:
                row, i = int(m.group(1)) - 1, m.end()
            elif data.startswith("\r\n", i):
                row, i = row + 1, i + 2
            else:
                screen[row] += data[i]
                i += 1
    return screen


def test_asciicast_partial_redraws_add_up_to_the_full_screen(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec, clock = timed_recorder(path)
    source = "".join(f"line {i}: {'x' * (i % 7)}\n" for i in range(60))
    text = START_FILES["report.py"]
    for n, ch in enumerate(source):
        clock[:] = [1 + n * 0.15, clock[1] + 0.15]
        rec.edit("report.py", len(text), 0, ch)
        text += ch
    clock[:] = [clock[0] + 1, clock[1] + 1]
    rec.edit("report.py", 3, 0, "TOP")  # jump back up: the view scrolls
    text = text[:3] + "TOP" + text[3:]
    rec.close()
    out = io.StringIO()
    with Timeline.open(path) as tl:
        assert tl.state_at()["report.py"] == text
        export_asciicast(tl, out, width=60, height=20)
    events = [json.loads(line) for line in out.getvalue().splitlines()[1:]]
    frames = [e[2] for e in events if e[1] == "o"]
    assert sum(1 for f in frames if f.startswith("\x1b[2J")) < len(frames) / 4  # mostly partial
    screen = _play(frames, 20)
    expected_lines = text.split("\n")
    assert screen[1] == ">   1 defTOP report():"
    for i in range(1, 17):
        assert screen[1 + i] == f"{i + 1:5d} {expected_lines[i]}"[:60]
    assert screen[-1].startswith(" session ended")
