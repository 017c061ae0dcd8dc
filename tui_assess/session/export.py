"""Export a session: JSON Lines (one event per line) or an asciicast v2 recording.

The asciicast shows the file being edited as a plain text view (header, numbered lines around
the cursor, a status line), redrawn at most ten times a second of session time; its markers
(``"m"`` events) are the test runs, pastes and focus losses, so stock players can jump to them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from tui_assess.errors import UserError
from tui_assess.session import store
from tui_assess.session.store import Event
from tui_assess.session.timeline import Timeline

FORMATS = ("jsonl", "asciicast")
FRAME_INTERVAL_S = 0.1


def export(timeline: Timeline, fmt: str, out: TextIO) -> int:
    """Write ``timeline`` to ``out`` in ``fmt``; returns the number of lines written.

    A damaged file raises UserError (one sentence), never a traceback.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    try:
        if fmt == "jsonl":
            return export_jsonl(timeline, out)
        return export_asciicast(timeline, out)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise UserError(
            f"{timeline.path} is damaged and cannot be exported ({type(exc).__name__}: {exc})."
        ) from None


def export_jsonl(timeline: Timeline, out: TextIO) -> int:
    """One event per line: ``{"seq", "t" (seconds since start), "kind", "payload"}``."""
    n = 0
    for ev in timeline.events():
        out.write(json.dumps(ev.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n")
        n += 1
    return n


def _clock(t: float) -> str:
    m, s = divmod(int(t), 60)
    h, m = divmod(m, 60)
    return f"{h:d}:{m:02d}:{s:02d}"


def _marker(ev: Event, runs_seen: int) -> str | None:
    p = ev.payload
    if ev.kind == "run_end":
        tests = p.get("tests") or []
        passed = sum(1 for t in tests if isinstance(t, dict) and t.get("status") == "pass")
        outcome = f"{p.get('status')}, {passed}/{len(tests)} passed"
        return f"run {runs_seen} ({p.get('suite')}): {outcome}"
    if ev.kind == "paste":
        return f"paste: {p.get('length')} characters into {p.get('path')}"
    if ev.kind == "focus_lost":
        return "focus lost"
    return None


def _status(ev: Event) -> str | None:
    p = ev.payload
    words = {
        "run_start": lambda: f"running {p.get('suite')} tests...",
        "run_end": lambda: f"tests ({p.get('suite')}): {p.get('status')}",
        "save": lambda: f"saved {p.get('path')}",
        "paste": lambda: f"pasted {p.get('length')} characters",
        "focus_lost": lambda: "focus lost",
        "focus_gained": lambda: "focus back",
        "external_change": lambda: f"{p.get('path')} changed outside the app",
        "hint_shown": lambda: f"hint {p.get('index')} shown",
        "solution_shown": lambda: "solution shown",
        "submit": lambda: "submitted",
        "time_up": lambda: "time is up",
        "resumed": lambda: f"resumed after {float(p.get('gap', 0)):.0f} s",
        "session_end": lambda: f"session ended ({p.get('reason')})",
    }
    fn = words.get(ev.kind)
    return fn() if fn else None


class _Screen:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.state: dict[str, str] = {}
        self.path: str | None = None
        self.cursor = 0
        self.status = "session started"
        self.top = 0
        self.shown: list[str] | None = None
        self.shown_path: str | None = None
        self.prev_top = -1

    def render(self, t: float) -> str:
        """The terminal output that brings the screen up to date.

        A full redraw when the file or the scroll position changes; otherwise only the lines
        that differ (cursor-addressed), so typing costs a line, not a screen, per frame.
        """
        w = self.width
        text = self.state.get(self.path or "", "")
        lines = text.split("\n")
        row = text.count("\n", 0, min(self.cursor, len(text)))
        body = self.height - 3
        if self.shown_path != self.path or not self.top <= row < self.top + body:
            self.top = max(0, min(row - body // 2, len(lines) - body))
        head = f" {_clock(t)}  {self.path or '(no file)'}  line {row + 1}"
        screen = ["\x1b[7m" + head[:w].ljust(w) + "\x1b[0m"]
        for i in range(self.top, self.top + body):
            if i < len(lines):
                mark = ">" if i == row else " "
                screen.append(f"{mark}{i + 1:4d} {lines[i].expandtabs(4)}"[:w])
            else:
                screen.append("~")
        screen.append("-" * w)
        screen.append((" " + self.status)[:w])
        prev = self.shown
        self.shown, self.shown_path = screen, self.path
        scrolled, self.prev_top = self.top != self.prev_top, self.top
        if prev is None or scrolled:
            return "\x1b[2J\x1b[H" + "\r\n".join(screen)
        return "".join(f"\x1b[{i + 1};1H\x1b[2K{line}"
                       for i, (line, old) in enumerate(zip(screen, prev, strict=True))
                       if line != old)

    def apply(self, ev: Event, blob_text: Any) -> bool:
        """Update from one event; True when the text view changed. ``blob_text(digest, seq)``
        reads a blob (bounded; damage names the event)."""
        p = ev.payload
        if ev.kind == "keyframe":
            self.state = {f: blob_text(h, ev.seq) for f, h in p.get("files", {}).items()}
            if self.path is None and self.state:
                self.path = sorted(self.state)[0]
            return True
        if ev.kind == "file_open":
            self.path, self.cursor = p.get("path"), 0
            return True
        if ev.kind == "edit":
            path = p["path"]
            self.state[path] = store.apply_edit(self.state.get(path, ""), int(p["offset"]),
                                                int(p["deleted"]), str(p["text"]))
            self.path = path
            self.cursor = int(p["offset"]) + len(str(p["text"]))
            return True
        if ev.kind == "external_change":
            if p.get("deleted"):
                self.state.pop(p["path"], None)
            else:
                self.state[p["path"]] = blob_text(p["blob"], ev.seq)
            return p.get("path") == self.path
        return False


def export_asciicast(timeline: Timeline, out: TextIO, width: int = 100, height: int = 30) -> int:
    """An asciicast v2 file: a header line, then ``[t, "o", text]`` and ``[t, "m", label]``."""
    start = timeline.session_start or {}
    first = timeline.first_event
    header = {
        "version": 2, "width": width, "height": height,
        "timestamp": int(first.wall) if first else 0,
        "idle_time_limit": 2.0,
        "title": f"tui-assess session: {start.get('challenge_id')} ({start.get('mode')})",
        "env": {"TERM": "xterm-256color", "SHELL": "/bin/sh"},
    }
    lines = [json.dumps(header)]
    screen = _Screen(width, height)
    t0 = first.t if first else 0.0
    last_frame = -1.0
    pending: float | None = None
    clock = 0.0
    runs_seen = 0

    def emit(t: float, kind: str, data: str) -> None:
        nonlocal clock
        if not data:
            return
        clock = max(clock, round(t, 6))
        lines.append(json.dumps([clock, kind, data], ensure_ascii=False))

    events: Iterable[Event] = timeline.events()
    for ev in events:
        t = max(0.0, ev.t - t0)
        if pending is not None and t - last_frame >= FRAME_INTERVAL_S:
            emit(pending, "o", screen.render(pending))
            last_frame, pending = pending, None
        changed = screen.apply(ev, timeline.blob_text)
        status = _status(ev)
        if status:
            screen.status = status
        if ev.kind == "run_end":
            runs_seen += 1
        label = _marker(ev, runs_seen)
        if label:
            emit(t, "m", label)
        if changed or status:
            pending = t
    if pending is not None:
        emit(pending, "o", screen.render(pending))
    for line in lines:
        out.write(line + "\n")
    return len(lines)
