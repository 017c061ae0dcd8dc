"""What happened when: each event's activity category, the timeline bar's buckets, moments.

Headless (no Textual). ``Timeline.activity(bucket_s)`` feeds the replay screen's timeline bar;
a report can draw the same bar from it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
#: Kinds that are bookkeeping, not something the candidate did (``←``/``→`` skip them).
QUIET_KINDS = frozenset({"resource_sample", "resize", "keyframe"})


def category(kind: str, run_status: str | None = None, keyframe_reason: str | None = None
             ) -> str | None:
    """The activity category of one event (None for bookkeeping: samples, resizes, most
    keyframes). ``run_end`` needs its status; a keyframe its reason (a reset is typing-like:
    the files were replaced by the starter)."""
    if kind == "run_end":
        return "run_pass" if run_status == "pass" else "run_fail"
    if kind == "keyframe":
        return "typing" if keyframe_reason == "reset" else None
    if kind.startswith("terminal"):
        return "terminal"  # terminal_command, terminal_output, ... (the terminal pane)
    return _KIND_CATEGORY.get(kind, None if kind in QUIET_KINDS else "other")


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
    n = max(1, math.ceil(duration / bucket_s))
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
