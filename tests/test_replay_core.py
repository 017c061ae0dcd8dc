"""The replay's headless core: line origins (against a plain reference implementation),
activity buckets, search, diff, go-to parsing. Sessions are recorded by the real recorder."""

from __future__ import annotations

import difflib
import random
import tempfile
import threading
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_session_support import START_FILES, new_recorder, timed_recorder

from tui_assess.session import SessionRecorder, Timeline, origins, verify
from tui_assess.session.activity import parse_moment
from tui_assess.session.store import Event

# ----------------------------------------------------------------- the reference implementation
# The documented rules (tui_assess/session/origins.py), the slow and obvious way: a file is a
# list of (character, event) pairs, and every line is found again from the whole text.

RANK = ["paste", "external", "outside", "resume", "reset", "typed", "start"]


def _ends(a: list[str], b: list[str]) -> tuple[int, int]:
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    return p, s


class RefFile:
    def __init__(self, text: str, seq: int) -> None:
        self.chars = [(c, seq) for c in text]
        self.last = seq

    @property
    def text(self) -> str:
        return "".join(c for c, _ in self.chars)

    def lines(self) -> list[list[tuple[str, int]]]:
        """Each line's characters followed by its newline (if it has one)."""
        out: list[list[tuple[str, int]]] = [[]]
        for c, s in self.chars:
            out[-1].append((c, s))
            if c == "\n":
                out.append([])
        return out

    def edit(self, offset: int, deleted: int, inserted: str, seq: int) -> None:
        text = self.text
        end = min(offset + deleted, len(text))
        removed = text[offset:end]
        if removed == inserted:
            return
        self.chars = self.chars[:offset] + [(c, seq) for c in inserted] + self.chars[end:]
        self.last = seq
        whole = (offset == 0 or text[offset - 1] == "\n") and removed.endswith("\n") or \
            removed.startswith("\n") and (end == len(text) or text[end] == "\n")
        if removed and not whole:
            beside = [i for i in (offset - 1, offset + len(inserted))
                      if 0 <= i < len(self.chars) and self.chars[i][0] != "\n"]
            if not beside:  # the line is empty now: mark the newline that ends it
                right = offset + len(inserted)
                beside = [right if right < len(self.chars) else offset - 1]
                beside = [i for i in beside if 0 <= i < len(self.chars)]
            for i in beside:
                self.chars[i] = (self.chars[i][0], seq)

    def replace(self, new_text: str, seq: int) -> None:
        if new_text == self.text:
            return
        old = self.lines()
        old_text = [("".join(c for c, _ in line)).rstrip("\n") for line in old]
        new_text_lines = new_text.split("\n")
        p, s = _ends(old_text, new_text_lines)
        kept = {j: j for j in range(p)}
        kept |= {j: j + len(old) - len(new_text_lines)
                 for j in range(len(new_text_lines) - s, len(new_text_lines))}
        a, b = old_text[p:len(old) - s], new_text_lines[p:len(new_text_lines) - s]
        if a and b:
            sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
            for tag, i1, i2, j1, _j2 in sm.get_opcodes():
                if tag == "equal":
                    kept |= {p + j1 + k: p + i1 + k for k in range(i2 - i1)}
        chars: list[tuple[str, int]] = []
        for j, line in enumerate(new_text_lines):
            i = kept.get(j)
            body = [cs for cs in old[i] if cs[0] != "\n"] if i is not None else \
                [(c, seq) for c in line]
            chars += body
            if j < len(new_text_lines) - 1:
                had = i is not None and old[i] and old[i][-1][0] == "\n"
                chars.append(old[i][-1] if had and i is not None else ("\n", seq))
        self.chars, self.last = chars, seq

    def origins(self, labels: dict[int, tuple[Any, ...]]) -> list[Any]:
        lines = self.lines()
        out = []
        for n, line in enumerate(lines):
            seqs = {s for c, s in line if c != "\n"}
            if not seqs:  # an empty line: the newlines around it
                seqs = {s for c, s in line} | ({lines[n - 1][-1][1]} if n else set())
            seqs = seqs or {self.last}
            shown = min(seqs, key=lambda q: (RANK.index(labels[q][0]), -q))
            kinds = sorted({labels[q][0] for q in seqs}, key=RANK.index)
            out.append((labels[shown], max(seqs), tuple(kinds)))
        return out


def reference(events: list[Event], blob: Any) -> dict[int, dict[str, list[Any]]]:
    """Every file's line origins after every event, replayed from the first event."""
    files: dict[str, RefFile] = {}
    labels: dict[int, tuple[Any, ...]] = {}
    pasted: dict[str, Event] = {}
    started = False
    out: dict[int, dict[str, list[Any]]] = {}
    for ev in events:
        p = ev.payload
        if ev.kind == "paste":
            pasted[p["path"]] = ev
        elif ev.kind == "edit":
            started = True
            path = p["path"]
            labels[ev.seq] = ("typed", ev.seq)
            if p["text"] and path in pasted:
                labels[ev.seq] = ("paste", ev.seq, pasted.pop(path).payload["length"])
            files.setdefault(path, RefFile("", ev.seq)).edit(p["offset"], p["deleted"],
                                                              p["text"], ev.seq)
        elif ev.kind == "external_change":
            started = True
            labels[ev.seq] = ("external", ev.seq)
            if p.get("deleted"):
                files.pop(p["path"], None)
            elif p["path"] in files:
                files[p["path"]].replace(blob(p["blob"]), ev.seq)
            else:
                files[p["path"]] = RefFile(blob(p["blob"]), ev.seq)
        elif ev.kind == "keyframe":
            kind = {"resume": "resume", "reset": "reset"}.get(p["reason"], "outside")
            labels[ev.seq] = ("start" if not started else kind, ev.seq)
            for path in [f for f in files if f not in p["files"]]:
                del files[path]
            for path, digest in p["files"].items():
                if not started or path not in files:
                    files[path] = RefFile(blob(digest), ev.seq)
                else:
                    files[path].replace(blob(digest), ev.seq)
            started = True
        out[ev.seq] = {path: f.origins(labels) for path, f in files.items()}
    return out


def as_labels(found: list[origins.LineOrigin]) -> list[Any]:
    def label(o: origins.Origin) -> tuple[Any, ...]:
        return (o.kind, o.seq, o.paste_length) if o.kind == "paste" else (o.kind, o.seq)

    return [(label(lo.shown), lo.latest.seq, lo.kinds) for lo in found]


# ----------------------------------------------------------------- the property test

lines_text = st.text(alphabet=st.sampled_from(["a", "b", "\n", "\n", " ", "é"]), max_size=12)
places = st.tuples(st.floats(0, 1), st.floats(0, 1))
ops = st.one_of(
    st.tuples(st.just("edit"), st.sampled_from(["report.py", "notes.md", "new.py"]),
              places, st.integers(0, 8), lines_text),
    st.tuples(st.just("paste"), st.sampled_from(["report.py", "notes.md"]),
              places, st.integers(0, 8), lines_text.filter(bool)),
    st.tuples(st.just("external"), st.sampled_from(["report.py", "notes.md", "new.py"]),
              places, st.integers(0, 3), lines_text),
    st.tuples(st.just("keyframe"), st.sampled_from(["run", "reset", "periodic"]),
              places, st.integers(0, 3), lines_text),
)


def _two_changes(text: str, where: tuple[float, float], insert: str, n: int) -> str:
    """Insert a line at one place and change (n odd) or drop (n even) a line at another: two
    separate changes, so the unchanged lines between them must keep their origins."""
    lines = text.split("\n")
    lines.insert(int(where[0] * len(lines)), insert)
    i = int(where[1] * (len(lines) - 1))
    if n % 2:
        lines[i] = lines[i] + "~"
    elif len(lines) > 1:
        del lines[i]
    return "\n".join(lines)


def _apply_op(rec: SessionRecorder, model: dict[str, str], op: tuple[Any, ...]) -> None:
    what, name, where, n, text = op
    if what in ("edit", "paste"):
        old = model.get(name, "")
        offset = int(where[0] * len(old))
        deleted = min(n, len(old) - offset)
        if what == "paste":
            rec.paste(name, text)
        rec.edit(name, offset, deleted, text)
        model[name] = old[:offset] + text + old[offset + deleted:]
    elif what == "external":
        if n == 0 and name in model:
            rec.external_change(name, None)
            del model[name]
            return
        model[name] = _two_changes(model.get(name, ""), where, text, n)
        rec.external_change(name, model[name])
    else:  # a keyframe whose files differ from the replayed ones (or not, n == 0)
        files = dict(model)
        if files and n:
            victim = sorted(files)[int(where[0] * len(files)) % len(files)]
            files[victim] = _two_changes(files[victim], where, text, n)
        model.clear()
        model.update(files)
        rec.keyframe(files, reason=name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=st.lists(ops, max_size=50), every=st.integers(2, 30), seed=st.integers(0, 99))
def test_origins_agree_with_the_reference_at_every_event(
    stream: list[tuple[Any, ...]], every: int, seed: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(origins, "CHECKPOINT_EVERY",
                                                                  every):
        path = Path(tmp) / "p.tasession"
        rec = new_recorder(path, keyframe_every_events=every + 3)
        model = dict(START_FILES)
        for op in stream:
            _apply_op(rec, model, op)
        rec.close()
        assert verify(path).ok
        with Timeline.open(path) as tl:
            events = tl.events()
            expected = reference(events, tl.blob_text)
            moments = [(ev.seq, f) for ev in events for f in ("report.py", "notes.md", "new.py")]
            random.Random(seed).shuffle(moments)  # any order: checkpoints and the cache
            for seq, name in moments:
                got = tl.lines_at(name, seq)
                want = expected[seq].get(name)
                if want is None:
                    assert got is None, (seq, name)
                    continue
                assert got is not None, (seq, name)
                assert got.text == tl.state_at(seq=seq)[name]
                assert len(got.seqs) == len(got.text)
                assert as_labels(tl.origins(name, seq)) == want, (seq, name)
            assert {n: fl.text for n in model if (fl := tl.lines_at(n)) is not None} == model


# ----------------------------------------------------------------- origins in words


def test_origins_say_how_each_line_got_its_text(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec, clock = timed_recorder(path)
    text = START_FILES["report.py"]

    def edit(t: float, offset: int, deleted: int, inserted: str) -> None:
        nonlocal text
        clock[:] = [t, clock[1] + 1]
        rec.edit("report.py", offset, deleted, inserted)
        text = text[:offset] + inserted + text[offset + deleted:]

    edit(5, text.index("1"), 1, "42")            # "    return 42": a starter line changed
    edit(6, text.index("\n"), 0, "\n")           # Enter at the end of "def report():"
    edit(7, 0, 0, "# fast")                      # a comment typed above it,
    edit(7.5, 6, 0, "\n")                        # then Enter: "def report():" is not claimed
    clock[0] = 8
    rec.paste("report.py", "import os\n")
    edit(8, 0, 0, "import os\n")                 # pasted,
    edit(9, 6, 0, "!")                           # then one character typed into it
    edit(10, text.index("return "), 7, "")       # a word deleted from a line
    clock[:] = [11, clock[1] + 1]
    rec.external_change("notes.md", "# notes\nwritten elsewhere\n")
    rec.close()
    assert text == "import! os\n# fast\ndef report():\n\n    42\n"
    with Timeline.open(path) as tl:
        found = tl.origins("report.py")
        notes = tl.origins("notes.md")
        seqs = {e.kind: e.seq for e in tl.events()}
        assert tl.lines_at("report.py") is not None
    assert [o.kind for o in found] == ["paste", "typed", "start", "typed", "typed", "start"]
    pasted = found[0]
    assert pasted.kinds == ("paste", "typed") and pasted.latest.t == 9.0
    assert pasted.shown.paste_length == len("import os\n")
    assert pasted.shown.paste_seq == seqs["paste"]
    assert pasted.describe().startswith("pasted (10 characters) at 0:08")
    assert "last changed: typed here at 0:09" in pasted.describe()
    assert found[3].latest.t == 6.0                # the empty line Enter made
    assert found[4].latest.t == 10.0 and found[4].kinds == ("typed", "start")
    assert [o.kind for o in notes] == ["start", "external", "external"]
    assert notes[1].describe() == \
        f"changed outside the app at 0:11 (event {seqs['external_change']})"


def test_deleting_whole_lines_changes_no_other_line(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    rec.edit("notes.md", 0, 0, "a\nb\nc\n")      # "a\nb\nc\n# notes\n"
    rec.edit("notes.md", 2, 2, "")                # "b\n" removed from its line start
    rec.edit("notes.md", 1, 2, "")                # "\nc" removed from the end of "a"
    rec.close()
    with Timeline.open(path) as tl:
        found = tl.origins("notes.md")
        first_edit = next(e.seq for e in tl.events() if e.kind == "edit")
        assert tl.lines_at("notes.md").text == "a\n# notes\n"  # type: ignore[union-attr]
    assert [(o.kind, o.latest.seq) for o in found[:2]] == [("typed", first_edit),
                                                           ("start", found[1].latest.seq)]
    assert found[1].latest.seq < first_edit


def test_resume_and_reset_are_origins(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    rec.edit("report.py", 0, 0, "# lost in a crash\n")   # never saved: gone at the resume
    rec.close(end=False)
    on_disk = {"report.py": "def report():\n    return 7\n", "notes.md": "# notes\n"}
    rec = SessionRecorder.open_or_resume(path, challenge_id="slow-query",
                                         challenge_hash="c" * 64, mode="practice",
                                         files=on_disk)
    rec.keyframe(START_FILES, reason="reset")
    rec.close()
    with Timeline.open(path) as tl:
        resumed = next(e.seq for e in tl.events() if e.kind == "resumed")
        after_resume = tl.origins("report.py", resumed + 1)
        final = tl.origins("report.py")
    # The last, empty line takes the newline before it: it ends a line the change made.
    assert [o.kind for o in after_resume] == ["start", "resume", "resume"]
    assert [o.kind for o in final] == ["start", "reset", "reset"]
    assert "restored by a reset" in final[1].describe()


def test_origin_index_built_in_a_worker_thread_serves_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    rec.edit("report.py", 0, 0, "x = 1\n")
    rec.close()
    with Timeline.open(path) as tl:
        built: list[Any] = []

        def work() -> None:
            other = tl.clone()  # SQLite connections stay in their thread
            built.append(other.origin_index())
            other.close()

        worker = threading.Thread(target=work)
        worker.start()
        worker.join(30)
        assert not tl.origins_ready and built
        tl.use_origin_index(built[0])
        assert tl.origins_ready
        assert [o.kind for o in tl.origins("report.py")] == ["typed", "start", "start", "start"]


# ----------------------------------------------------------------- activity, steps, search, diff


def test_activity_buckets_show_the_most_notable_thing(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec, clock = timed_recorder(path)
    clock[0] = 5.0
    rec.edit("report.py", 0, 0, "x")
    clock[0] = 15.0
    rec.paste("report.py", "pasted")
    rec.edit("report.py", 0, 0, "pasted")
    clock[0] = 25.0
    rec.run_start(1, "visible")
    rec.run_end(1, "visible", status="fail", tests=[])
    clock[0] = 35.0
    rec.focus_lost()
    clock[0] = 55.0
    rec.focus_gained()
    clock[0] = 65.0
    rec.record("terminal_input", text="ls -la\r")  # the terminal pane's kinds: keys,
    rec.record("terminal_command", text="ls -la")   # the command line the shell took,
    rec.record("terminal_output", text="total 8\r\n")  # and what it printed
    clock[0] = 68.0
    rec.record("terminal_input", text="x" * 300, pasted=True)  # a large paste into the shell
    clock[0] = 75.0
    rec.resource_sample(app_cpu=1.0, app_rss_mb=1.0, sys_cpu=1.0, sys_mem=1.0)
    clock[0] = 85.0
    rec.run_start(2, "visible")
    rec.run_end(2, "visible", status="pass", tests=[])
    clock[0] = 99.0
    rec.close()
    with Timeline.open(path) as tl:
        bar = tl.activity(10.0)
        steps = tl.steps()
        kinds = tl.kinds
        signals = tl.integrity_signals()
        for width in range(40, 200):  # the bar asks for duration / width: never a cell more
            assert len(tl.activity(tl.duration / width)) == width
    assert [b.kind for b in bar] == ["typing", "paste", "run_fail", "away", "away", "away",
                                     "paste", "idle", "run_pass", "other"]
    assert bar[6].counts == {"terminal": 1, "paste": 1}
    assert bar[2].counts == {"other": 1, "run_fail": 1}
    assert all(b.t1 - b.t0 == pytest.approx(10.0) for b in bar[:-1])
    stepped = {kinds[tl.index_of(s)] for s in steps}
    assert "resource_sample" not in stepped and "keyframe" not in stepped
    assert {"edit", "paste", "run_end", "terminal_command", "focus_lost"} <= stepped
    assert not {"terminal_output"} & stepped
    assert [s.detail for s in signals if s.kind == "large_paste"] == [
        "300 characters pasted into the terminal."]
    with pytest.raises(ValueError):
        tl.activity(0)


def test_search_finds_code_over_time_and_events(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    text = START_FILES["report.py"]
    for ch in "# Cache it":  # typed one key at a time: one hit, when the word completes
        rec.edit("report.py", len(text), 0, ch)
        text += ch
    rec.paste("report.py", "cache = {}\n")
    rec.edit("report.py", 0, 0, "cache = {}\n")
    rec.edit("report.py", 0, len("cache = {}\n"), "")
    rec.run_end(1, "visible", status="fail",
                tests=[{"name": "test_cache_hit", "status": "fail", "message": "assert miss"}])
    rec.note("I added a cache.")
    rec.close()
    with Timeline.open(path) as tl:
        hits = tl.search("cache")
        cased = tl.search("Cache")
    assert [h.detail for h in hits] == [
        "report.py line 3: added (typed)",
        "report.py line 1: added (pasted)",
        "report.py: removed (typed)",
        "run_end name: test_cache_hit",
        "note text: I added a cache.",
    ]
    assert [h.seq for h in hits] == sorted(h.seq for h in hits)
    assert [h.detail for h in cased] == ["report.py line 3: added (typed)"]


def test_diff_between_two_moments(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    rec = new_recorder(path)
    rec.edit("report.py", 25, 1, "2")
    rec.external_change("notes.md", None)
    rec.close()
    with Timeline.open(path) as tl:
        start = next(e.seq for e in tl.events() if e.kind == "keyframe")
        text = tl.diff(start, tl.seqs[-1])
        assert tl.diff(start, start) == ""
    assert "-    return 1" in text and "+    return 2" in text
    assert f"report.py @ event {start}" in text and "+++ /dev/null" in text


@pytest.mark.parametrize(("typed", "expected"), [
    ("12:30", ("seconds", 750.0)), ("1:02:03", ("seconds", 3723.0)), ("90s", ("seconds", 90.0)),
    ("0:05.5", ("seconds", 5.5)), ("1234", ("seq", 1234.0)), ("#17", ("seq", 17.0)),
])
def test_parse_moment(typed: str, expected: tuple[str, float]) -> None:
    assert parse_moment(typed) == expected


@pytest.mark.parametrize("typed", ["", "soon", "12:75", "-3", "1:2:3:4"])
def test_parse_moment_refuses_in_words(typed: str) -> None:
    with pytest.raises(ValueError, match="not a time|neither a time"):
        parse_moment(typed)
