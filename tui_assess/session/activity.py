"""What happened when: each event's activity category, the timeline bar's buckets, moments.

Headless (no Textual). ``Timeline.activity(bucket_s)`` feeds the replay screen's timeline bar;
a report can draw the same bar from it.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Activity categories, most notable first: a bucket shows the most notable category in it.
CATEGORIES = (
    "resume",    # the session was resumed (after a crash or a restart)
    "run_fail",  # a test run ended failing (or in error, timeout, limit)
    "run_pass",  # a test run ended passing
    "paste",     # text pasted into the editor
    "external",  # a file changed outside the app
    "submit",    # the candidate submitted
    "away",      # the app did not have focus (a stretch, from focus_lost to focus_gained)
    "terminal",  # the terminal pane: commands and their output
    "typing",    # edits, saves, files opened
    "help",      # a hint or the reference solution shown
    "other",     # start, end, notes, time up, a run starting
    "idle",      # nothing the candidate did
)
PRIORITY = {c: i for i, c in enumerate(CATEGORIES)}

_KIND_CATEGORY = {
    "edit": "typing", "save": "typing", "file_open": "typing",
    "paste": "paste",
    "external_change": "external",
    "focus_lost": "away", "focus_gained": "away",
    "resumed": "resume",
    "submit": "submit",
    "hint_shown": "help", "solution_shown": "help",
    "session_start": "other", "session_end": "other", "note": "other", "time_up": "other",
    "run_start": "other",
}
#: Kinds that are bookkeeping, not something the candidate did (``←``/``→`` skip them). The
#: terminal pane's keystrokes and output are: its commands are what a reviewer steps through.
QUIET_KINDS = frozenset({"resource_sample", "resize", "keyframe", "terminal_input",
                         "terminal_output", "terminal_resize", "terminal_command_done"})


def category(kind: str, hint: str | None = None) -> str | None:
    """The activity category of one event (None for bookkeeping: samples, resizes, most
    keyframes, terminal keystrokes and output). ``hint`` is what the payload adds: a
    ``run_end``'s status, a keyframe's reason (a reset is typing-like: the files were replaced
    by the starter), ``"pasted"`` for terminal input that was a paste."""
    if kind == "run_end":
        return "run_pass" if hint == "pass" else "run_fail"
    if kind == "keyframe":
        return "typing" if hint == "reset" else None
    if kind == "terminal_input" and hint == "pasted":
        return "paste"
    if kind in QUIET_KINDS:
        return None
    if kind.startswith("terminal"):
        return "terminal"  # terminal_start, terminal_command, terminal_end, ... (the pane)
    return _KIND_CATEGORY.get(kind, "other")


@dataclass(frozen=True)
class Bucket:
    """One slice of the session for the timeline bar."""

    t0: float
    t1: float
    kind: str
    """The most notable category in the slice (``idle`` when nothing happened)."""
    counts: Mapping[str, int]
    """Events per category in the slice (``away`` counts the focus events only)."""


def away_spans(times: Sequence[float], kinds: Sequence[str]) -> list[tuple[float, float]]:
    """(start, end) of every stretch without focus: focus_lost until focus_gained or the end."""
    spans: list[tuple[float, float]] = []
    lost: float | None = None
    for t, kind in zip(times, kinds, strict=True):
        if kind == "focus_lost" and lost is None:
            lost = t
        elif kind == "focus_gained" and lost is not None:
            spans.append((lost, t))
            lost = None
    if lost is not None and times:
        spans.append((lost, times[-1]))
    return spans


def buckets(times: Sequence[float], categories: Sequence[str | None], bucket_s: float,
            spans: Sequence[tuple[float, float]] = ()) -> list[Bucket]:
    """Slice ``[times[0], times[-1]]`` into buckets of ``bucket_s`` seconds (the last one
    shorter); each gets the counts of its events' categories and its most notable one."""
    if bucket_s <= 0 or not math.isfinite(bucket_s):
        raise ValueError("bucket_s must be a positive number of seconds")
    if not times:
        return []
    t0 = times[0]
    duration = times[-1] - t0
    # Rounded first: duration / (duration / 120) can be 120.00000000000001, not 121 slices.
    n = max(1, math.ceil(round(duration / bucket_s, 9)))
    counts: list[Counter[str]] = [Counter() for _ in range(n)]
    for t, cat in zip(times, categories, strict=True):
        if cat is not None:
            counts[min(int((t - t0) / bucket_s), n - 1)][cat] += 1
    away = [False] * n
    for a, b in spans:
        first = min(int((a - t0) / bucket_s), n - 1)
        last = min(int((b - t0) / bucket_s), n - 1)
        for i in range(first, last + 1):
            away[i] = True
    out = []
    for i, c in enumerate(counts):
        present = [k for k in c if k != "away"] + (["away"] if away[i] or c["away"] else [])
        kind = min(present, key=PRIORITY.__getitem__) if present else "idle"
        out.append(Bucket(t0 + i * bucket_s, min(t0 + (i + 1) * bucket_s, times[-1]), kind,
                          dict(c)))
    return out


_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")
_SECONDS = re.compile(r"^(\d+(?:\.\d+)?)\s*s$")
_EVENT = re.compile(r"^(?:#|event\s*)?(\d+)$")


def parse_moment(text: str) -> tuple[str, float]:
    """What a reviewer types to go somewhere: ``12:30`` or ``1:02:03`` (session time), ``90s``
    (seconds), ``1234`` or ``#1234`` (an event number). Returns ("seconds", s) or ("seq", n);
    ValueError with a plain sentence otherwise."""
    text = text.strip().lower()
    m = _CLOCK.match(text)
    if m:
        hours, minutes, seconds = m.groups()
        if int(minutes) > 59 and hours is not None or float(seconds) >= 60:
            raise ValueError(f"{text!r} is not a time: minutes and seconds go up to 59.")
        return "seconds", int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    m = _SECONDS.match(text)
    if m:
        return "seconds", float(m.group(1))
    m = _EVENT.match(text)
    if m:
        return "seq", float(int(m.group(1)))
    raise ValueError(f"{text!r} is neither a time (12:30, 1:02:03, 90s) nor an event number "
                     "(1234).")


def _short(text: str, width: int = 40) -> str:
    shown = text.replace("\n", "⏎").replace("\t", "⇥")
    return repr(shown if len(shown) <= width else shown[: width - 1] + "…")


def _number(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return 0.0


def describe(kind: str, p: Mapping[str, Any]) -> str:
    """One event in plain words, for the replay's event list and status line (never raises,
    whatever a damaged payload holds)."""
    g = p.get
    if kind == "edit":
        inserted, deleted = str(g("text") or ""), g("deleted") or 0
        what = (f"replaced {deleted} characters with {_short(inserted)}" if inserted and deleted
                else f"typed {_short(inserted)}" if inserted
                else f"deleted {deleted} characters")
        return f"{g('path')}: {what}"
    if kind == "run_end":
        found = g("tests")
        tests: list[Any] = found if isinstance(found, list) else []
        passed = sum(1 for t in tests if isinstance(t, dict) and t.get("status") == "pass")
        score = f", score {g('score')}/{g('max_score')}" if g("max_score") is not None else ""
        return (f"test run {g('run')} ({g('suite')}): {g('status')}, {passed}/{len(tests)} "
                f"passed{score}")
    if kind == "external_change":
        return (f"{g('path')} deleted outside the app" if g("deleted")
                else f"{g('path')} changed outside the app ({g('size')} bytes)")
    if kind == "resource_sample":
        if g("scope") == "run":
            return f"test run {g('run')}: {g('cpu')}% CPU, {g('rss_mb')} MB, {g('procs')} processes"
        return (f"app {g('app_cpu')}% CPU, {g('app_rss_mb')} MB; system {g('sys_cpu')}% CPU, "
                f"{g('sys_mem')}% memory")
    words = {
        "session_start": lambda: f"session started: {g('challenge_id')} ({g('mode')})"
                                 + (f", candidate {g('candidate')}" if g("candidate") else ""),
        "keyframe": lambda: f"files recorded ({g('reason')}): "
                            f"{len(g('files') or {})} files",
        "file_open": lambda: f"opened {g('path')}",
        "save": lambda: f"saved {g('path')} ({g('size')} bytes)",
        "paste": lambda: f"pasted {g('length')} characters into {g('path')}",
        "focus_lost": lambda: "the app lost focus (another window)",
        "focus_gained": lambda: "the app has focus again",
        "resize": lambda: f"terminal resized to {g('width')}x{g('height')}",
        "run_start": lambda: f"test run {g('run')} ({g('suite')}) started",
        "hint_shown": lambda: f"hint {_number(g('index')) + 1:.0f} shown",
        "solution_shown": lambda: "reference solution shown",
        "note": lambda: f"note: {_short(str(g('text')), 60)}",
        "submit": lambda: "submitted" + (f": {g('status')}, score {g('score')}/{g('max_score')}"
                                         if g("max_score") is not None else ""),
        "time_up": lambda: "time is up",
        "resumed": lambda: f"resumed after a gap of {_number(g('gap')):.0f} s",
        "session_end": lambda: f"session ended ({g('reason')})",
        "terminal_start": lambda: f"terminal pane started ({g('sandbox')} sandbox)",
        "terminal_input": lambda: (f"pasted {len(str(g('text') or ''))} characters into the "
                                   f"terminal" if g("pasted") else
                                   f"keys to the terminal: {_short(str(g('text') or ''))}"),
        "terminal_command": lambda: f"terminal: $ {_short(str(g('text') or ''), 60)}",
        "terminal_command_done": lambda: f"terminal: the command ended (exit code "
                                         f"{g('exit_code')})",
        "terminal_output": lambda: f"terminal output: {_short(str(g('text') or ''), 60)}",
        "terminal_output_capped": lambda: f"terminal output reached its cap ({g('cap')} "
                                          "characters); later output is counted, not kept",
        "terminal_limit": lambda: f"terminal: a limit stopped something ({g('words')})",
        "terminal_end": lambda: f"terminal pane closed ({g('reason')})",
    }
    if kind in words:
        try:
            return words[kind]()
        except (TypeError, ValueError):  # a damaged payload: say what can be said
            return kind.replace("_", " ")
    # Kinds added later (the terminal pane's, say): the kind and its first line of text.
    text = next((v for v in p.values() if isinstance(v, str) and v), "")
    return f"{kind.replace('_', ' ')}: {_short(text, 60)}" if text else kind.replace("_", " ")


#: Playback speeds, slowest first (``[`` and ``]`` step through them).
SPEEDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
#: With idle skipped, no stretch without activity plays longer than this much session time.
IDLE_GAP_S = 2.0


def play_step(t: float, real_dt: float, speed: float, skip_idle: bool,
              activity_times: Sequence[float]) -> float:
    """Where playback is after ``real_dt`` seconds at ``speed``, from session time ``t``.

    Skipping idle, a stretch with no activity longer than IDLE_GAP_S is cut to IDLE_GAP_S
    (asciinema's idle_time_limit, in session time): playback jumps to just before the next
    thing that happens."""
    if skip_idle:
        i = bisect.bisect_right(activity_times, t)
        if i < len(activity_times) and activity_times[i] - t > IDLE_GAP_S:
            t = activity_times[i] - IDLE_GAP_S
    return t + real_dt * speed
