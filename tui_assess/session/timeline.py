"""Timeline: read a session file back -- any moment's files, runs, resources, signals.

Headless (no Textual): the reviewer's replay screen, ``session info``/``export`` and the
tests all use it. ``state_at`` seeks through the nearest keyframe at or before the moment and
replays only the edits and external changes after it, never the whole session.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import hashlib
import json
import sqlite3
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui_assess.errors import UserError
from tui_assess.session import activity as activity_
from tui_assess.session import store
from tui_assess.session.origins import (
    TEXT_KINDS,
    FileChars,
    LineOrigin,
    OriginIndex,
    OriginTracker,
    build_index,
    clock,
)
from tui_assess.session.search import SearchHit
from tui_assess.session.search import search as search_rows
from tui_assess.session.store import Event

#: Thresholds for integrity signals (the reviewer sees them; they are not verdicts).
LARGE_PASTE_CHARS = 200
LONG_FOCUS_LOSS_S = 30.0
CLOCK_JUMP_S = 2.0


@dataclass(frozen=True)
class Signal:
    """Something a reviewer should look at: not proof of anything by itself."""

    kind: str
    """large_paste | long_focus_loss | external_change | clock_jump | resume_gap |
    save_mismatch"""
    seq: int
    t: float
    detail: str
    """Plain words."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "seq": self.seq, "t": round(self.t, 3), "detail": self.detail}


def _damaged(path: Path, exc: BaseException) -> UserError:
    return UserError(f"{path} is damaged and cannot be replayed ({type(exc).__name__}: {exc}).")


_READ_ERRORS = (sqlite3.Error, ValueError, TypeError, KeyError, AttributeError, zlib.error,
                UnicodeError, OverflowError, OSError, IndexError)
_TEXT_KINDS_SQL = ", ".join(f"'{k}'" for k in TEXT_KINDS)


def _guarded(method: Any) -> Any:
    """Turn a damaged file's low-level errors into one clear UserError."""

    @functools.wraps(method)
    def wrapper(self: Timeline, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except UserError:
            raise
        except _READ_ERRORS as exc:
            raise _damaged(self.path, exc) from None

    return wrapper


def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_files(files: dict[str, str], folder: Path) -> None:
    """Write a replayed workspace (``state_at``) into ``folder``, byte for byte as recorded
    (bytes that were not UTF-8 come back as they were). A path that would land outside
    ``folder`` (absolute, ``..``; only a damaged or forged session holds one) is refused with
    UserError before anything is written."""
    root = folder.resolve()
    targets: list[tuple[Path, str]] = []
    for rel, text in files.items():
        target = (root / rel).resolve()
        if not rel or Path(rel).is_absolute() or ".." in Path(rel).parts or \
                not target.is_relative_to(root) or target == root:
            raise UserError(f"the session names a file {rel!r} outside its workspace; "
                            "it is not written.")
        targets.append((target, text))
    for target, text in targets:
        try:
            data = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            data = store.encode_text(text)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class Timeline:
    """A session file opened for replay. Use :meth:`open`; close it (or use ``with``)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn
        self._seqs: list[int] = []
        self._ts: list[float] = []
        self._keyframes: list[int] = []
        self._kind_list: list[str] = []
        self._kinds: Counter[str] = Counter()
        self._blob_cache: dict[str, str] = {}
        self._origin_index: OriginIndex | None = None
        self._lines_cache: dict[str, tuple[int, FileChars]] = {}
        self._categories: list[str | None] | None = None
        self.session_start: dict[str, Any] | None = None
        """The session_start payload (challenge, mode, candidate, deadline, machine)."""
        self.first_event: Event | None = None
        self.last_event: Event | None = None

    @classmethod
    def open(cls, path: str | Path) -> Timeline:
        """Open a session file; UserError when it is not one or cannot be read."""
        path = Path(path)
        conn = store.open_readonly(path)
        tl = cls(path, conn)
        try:
            tl._index()
        except UserError:
            conn.close()
            raise
        except _READ_ERRORS as exc:
            conn.close()
            raise _damaged(path, exc) from None
        return tl

    def _index(self) -> None:
        # One pass over (seq, t, kind): small, and it makes every seek a bisect.
        for seq, t, kind in self._conn.execute(
            "SELECT seq, t_mono, kind FROM events ORDER BY seq"
        ):
            self._seqs.append(int(seq))
            self._ts.append(float(t))
            self._kind_list.append(str(kind))
            self._kinds[str(kind)] += 1
            if kind == "keyframe":
                self._keyframes.append(int(seq))
        if not self._seqs:
            raise UserError(f"{self.path} holds no events.")
        self.first_event = self.event(self._seqs[0])
        self.last_event = self.event(self._seqs[-1])
        if self.first_event.kind == "session_start":
            self.session_start = self.first_event.payload

    def clone(self) -> Timeline:
        """The same session on a connection of its own, for another thread (SQLite connections
        stay in the thread that opened them). Shares the in-memory index: no second pass."""
        tl = Timeline(self.path, store.open_readonly(self.path))
        for name in ("_seqs", "_ts", "_keyframes", "_kind_list", "_kinds", "session_start",
                     "first_event", "last_event", "_origin_index", "_categories"):
            setattr(tl, name, getattr(self, name))
        return tl

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Timeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ basic access

    @property
    def event_count(self) -> int:
        return len(self._seqs)

    @property
    def duration(self) -> float:
        return self._ts[-1] - self._ts[0]

    @property
    def seqs(self) -> list[int]:
        """Every event's sequence number, in order (read-only)."""
        return self._seqs

    @property
    def times(self) -> list[float]:
        """Every event's time in seconds since the start, parallel to ``seqs`` (read-only)."""
        return self._ts

    @property
    def kinds(self) -> list[str]:
        """Every event's kind, parallel to ``seqs`` (read-only)."""
        return self._kind_list

    def index_of(self, seq: int) -> int:
        """Position of the last event at or before ``seq`` in ``seqs`` (0 before the first)."""
        return max(bisect.bisect_right(self._seqs, seq) - 1, 0)

    def kind_of(self, seq: int) -> str:
        i = self.index_of(seq)
        return self._kind_list[i] if self._seqs[i] == seq else "?"

    def kind_counts(self) -> dict[str, int]:
        return dict(self._kinds)

    def has_kind(self, kind: str) -> bool:
        return self._kinds.get(kind, 0) > 0

    @_guarded
    def event(self, seq: int) -> Event:
        row = self._conn.execute(
            "SELECT seq, t_mono, wall, kind, payload, link FROM events WHERE seq = ?", (seq,)
        ).fetchone()
        if row is None:
            raise KeyError(f"no event {seq}")
        return store.row_to_event(row)

    @_guarded
    def blob_hashes(self) -> set[str]:
        return {r[0] for r in self._conn.execute("SELECT sha256 FROM blobs")}

    @_guarded
    def blob_text(self, digest: str, seq: int | None = None) -> str:
        """A blob's content as text (cached); UserError when missing or damaged, naming event
        ``seq`` (the one that refers to it) when given.

        Bounded: a blob never inflates beyond its recorded size (nor store.MAX_BLOB_BYTES), so
        a zlib bomb in a session file is reported as damage, not allocated.
        """
        if digest in self._blob_cache:
            return self._blob_cache[digest]
        row = self._conn.execute(
            "SELECT data, size FROM blobs WHERE sha256 = ?", (str(digest),)
        ).fetchone()
        where = "" if seq is None else f"event {seq} ({self.kind_of(seq)}) refers to "
        if row is None:
            raise UserError(f"{self.path} is damaged: {where}blob {str(digest)[:12]}, which is "
                            "missing.")
        try:
            data = store.inflate(row[0], row[1])
        except store.BlobError as exc:
            raise UserError(f"{self.path} is damaged: {where}blob {digest[:12]}, which "
                            f"{exc}.") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise UserError(f"{self.path} is damaged: {where}blob {digest[:12]}, which does not "
                            "match its hash.")
        text = store.decode_text(data)
        if len(self._blob_cache) > 256:
            self._blob_cache.clear()
        self._blob_cache[digest] = text
        return text

    def _iter(self, where: str = "", params: tuple[Any, ...] = ()) -> Iterator[Event]:
        sql = "SELECT seq, t_mono, wall, kind, payload, link FROM events"
        if where:
            sql += " WHERE " + where
        for row in self._conn.execute(sql + " ORDER BY seq", params):
            yield store.row_to_event(row)

    @_guarded
    def events(self) -> list[Event]:
        return list(self._iter())

    @_guarded
    def events_of(self, *kinds: str) -> list[Event]:
        """Every event of these kinds, in order."""
        marks = ", ".join("?" for _ in kinds)
        return list(self._iter(f"kind IN ({marks})", kinds)) if kinds else []

    def seq_at(self, seconds: float) -> int:
        """The last event at or before ``seconds`` since the start (0 when none)."""
        i = bisect.bisect_right(self._ts, seconds)
        return self._seqs[i - 1] if i else 0

    @_guarded
    def events_between(
        self, a: float | None = None, b: float | None = None, *, unit: str = "seq"
    ) -> list[Event]:
        """Events from ``a`` to ``b`` inclusive, by sequence number or (unit="seconds") time."""
        if unit == "seconds":
            return list(self._iter(
                "t_mono >= ? AND t_mono <= ?",
                (float("-inf") if a is None else a, float("inf") if b is None else b),
            ))
        if unit != "seq":
            raise ValueError("unit must be 'seq' or 'seconds'")
        lo = 0 if a is None else int(a)
        hi = self._seqs[-1] if b is None else int(b)
        return list(self._iter("seq >= ? AND seq <= ?", (lo, hi)))

    # ------------------------------------------------------------------ seeking

    @_guarded
    def state_at(self, seq: int | None = None, seconds: float | None = None) -> dict[str, str]:
        """Every file's text just after event ``seq`` (or the last event at ``seconds``).

        With neither, the final state. Starts from the nearest keyframe (or, once the origin
        index exists, its nearest checkpoint) at or before the moment and replays the edits
        and external changes after it.
        """
        if seq is None:
            seq = self.seq_at(seconds) if seconds is not None else self._seqs[-1]
        i = bisect.bisect_right(self._keyframes, seq)
        state: dict[str, str] = {}
        start = 0
        checkpoint = None if self._origin_index is None else \
            self._origin_index.checkpoint_before(seq)
        if checkpoint is not None and (not i or checkpoint.seq >= self._keyframes[i - 1]):
            # The origin index keeps every file's text more often than keyframes come.
            start = checkpoint.seq
            state = {p: fc.text for p, fc in checkpoint.files.items()}
        elif i:
            start = self._keyframes[i - 1]
            files = self.event(start).payload.get("files", {})
            state = {p: self.blob_text(h, start) for p, h in files.items()}
        for s, kind, payload in self._conn.execute(
            "SELECT seq, kind, payload FROM events WHERE seq > ? AND seq <= ? "
            "AND kind IN ('edit', 'external_change') ORDER BY seq",
            (start, seq),
        ):
            self._apply(state, kind, json.loads(payload), s)
        return state

    def _apply(self, state: dict[str, str], kind: str, p: dict[str, Any],
               seq: int | None = None) -> None:
        path = p["path"]
        if kind == "edit":
            state[path] = store.apply_edit(state.get(path, ""), int(p["offset"]), int(p["deleted"]),
                                     str(p["text"]))
        elif p.get("deleted"):
            state.pop(path, None)
        else:
            state[path] = self.blob_text(p["blob"], seq)

    # ------------------------------------------------------------------ line origins

    @property
    def origins_ready(self) -> bool:
        """True once the origin index exists (``origins`` then costs one checkpoint's replay)."""
        return self._origin_index is not None

    @_guarded
    def origin_index(self) -> OriginIndex:
        """The origin index, built on first use by one pass over the session (a worker thread
        can build it on a ``clone()`` and hand it over with ``use_origin_index``)."""
        if self._origin_index is None:
            rows = self._conn.execute(
                f"SELECT seq, t_mono, kind, payload FROM events WHERE kind IN ({_TEXT_KINDS_SQL}) "
                "ORDER BY seq"
            )
            self._origin_index = build_index(rows, self.blob_text)
        return self._origin_index

    def use_origin_index(self, index: OriginIndex) -> None:
        self._origin_index = index
        self._lines_cache.clear()

    @_guarded
    def lines_at(self, path: str, seq: int | None = None) -> FileChars | None:
        """``path``'s text and each character's origin just after event ``seq`` (default:
        the end); None when the file does not exist then. Do not modify the result.

        Replays from the index's checkpoint at or before ``seq`` (or from the previous answer
        for the same file when that is closer), touching only that file.
        """
        index = self.origin_index()
        if seq is None:
            seq = self._seqs[-1]
        checkpoint = index.checkpoint_before(seq)
        start, files = checkpoint.seq, checkpoint.files
        cached = self._lines_cache.get(path)
        if cached is not None and start <= cached[0] <= seq:
            if cached[0] == seq:
                return cached[1]
            start, files = cached[0], {path: cached[1]}
        fl = files.get(path)
        tracker = OriginTracker(self.blob_text, index, {path: fl.copy()} if fl else {})
        for s, t, kind, payload in self._conn.execute(
            f"SELECT seq, t_mono, kind, payload FROM events WHERE seq > ? AND seq <= ? "
            f"AND kind IN ({_TEXT_KINDS_SQL}) ORDER BY seq",
            (start, seq),
        ):
            tracker.apply(s, t, kind, store.row_payload(payload), only=path)
        result = tracker.files.get(path)
        if result is not None:
            self._lines_cache[path] = (seq, result)
        return result

    def origins(self, path: str, seq: int | None = None) -> list[LineOrigin]:
        """Each line's origin in ``path`` just after event ``seq`` (default: the end): the
        most notable origin among its characters and its latest change. Empty when the file
        does not exist then. The rules are in ``tui_assess.session.origins``."""
        fl = self.lines_at(path, seq)
        if fl is None:
            return []
        return fl.line_origins(self.origin_index().origin_of)

    # ------------------------------------------------------------------ activity, search, diff

    @_guarded
    def categories(self) -> list[str | None]:
        """Every event's activity category (``tui_assess.session.activity``), parallel to
        ``seqs``; None for bookkeeping (resource samples, resizes, keyframes)."""
        if self._categories is None:
            hints: dict[int, str] = {}
            for seq, kind, payload in self._conn.execute(
                "SELECT seq, kind, payload FROM events WHERE kind IN ('run_end', 'keyframe') "
                "OR (kind = 'terminal_input' AND payload LIKE '%\"pasted\":true%')"
            ):
                p = store.row_payload(payload)
                hints[seq] = ("pasted" if kind == "terminal_input" and p.get("pasted") is True
                              else str(p.get("status" if kind == "run_end" else "reason")))
            self._categories = [
                activity_.category(kind, hints.get(seq))
                for seq, kind in zip(self._seqs, self._kind_list, strict=True)
            ]
        return self._categories

    def activity(self, bucket_s: float) -> list[activity_.Bucket]:
        """The timeline bar's data: the session in slices of ``bucket_s`` seconds, each with
        its events counted by category and its most notable category (runs by result,
        pastes, changes outside the app, focus losses, terminal commands, typing, idle,
        resumes)."""
        return activity_.buckets(self._ts, self.categories(), bucket_s,
                                 activity_.away_spans(self._ts, self._kind_list))

    def steps(self) -> list[int]:
        """The events a reviewer steps through (everything but bookkeeping), in order."""
        return [s for s, c in zip(self._seqs, self.categories(), strict=True) if c is not None]

    @_guarded
    def search(self, text: str) -> list[SearchHit]:
        """Where ``text`` appears: in the code over time (each event that added it to a file
        or removed it) and in the events' own text (notes, test names and messages, terminal
        commands). Smart case: all-lowercase ``text`` matches any case. In seq order."""
        rows = self._conn.execute(
            "SELECT seq, t_mono, kind, payload FROM events "
            "WHERE kind NOT IN ('resource_sample', 'resize') ORDER BY seq"
        )
        return search_rows(rows, text, self.blob_text)

    @_guarded
    def diff(self, a: int, b: int, context: int = 3) -> str:
        """A unified diff of every file from just after event ``a`` to just after event ``b``
        (empty when nothing differs)."""
        before, after = self.state_at(seq=a), self.state_at(seq=b)
        ta, tb = self._ts[self.index_of(a)], self._ts[self.index_of(b)]
        out: list[str] = []
        for path in sorted(set(before) | set(after)):
            old, new = before.get(path), after.get(path)
            if old == new:
                continue
            out.extend(difflib.unified_diff(
                [] if old is None else old.split("\n"), [] if new is None else new.split("\n"),
                f"{path} @ event {a} ({clock(ta)})" if old is not None else "/dev/null",
                f"{path} @ event {b} ({clock(tb)})" if new is not None else "/dev/null",
                n=context, lineterm="",
            ))
        return "\n".join(out)

    # ------------------------------------------------------------------ derived views

    @_guarded
    def runs(self) -> list[dict[str, Any]]:
        """The test-run history: one entry per run_start, completed by its run_end."""
        runs: dict[Any, dict[str, Any]] = {}
        order: list[Any] = []
        for ev in self._iter("kind IN ('run_start', 'run_end')"):
            key = (ev.payload.get("run"), ev.payload.get("suite"))
            if ev.kind == "run_start":
                if key in runs:  # a reused run id: keep both, distinguished by seq
                    key = (key, ev.seq)
                runs[key] = {
                    "run": ev.payload.get("run"), "suite": ev.payload.get("suite"),
                    "seq": ev.seq, "t_start": ev.t, "t_end": None, "status": None,
                    "snapshot": ev.payload.get("snapshot"),
                }
                order.append(key)
            else:
                entry = runs.get(key)
                if entry is None:
                    entry = {"run": ev.payload.get("run"), "suite": ev.payload.get("suite"),
                             "seq": ev.seq, "t_start": None}
                    runs[key] = entry
                    order.append(key)
                entry.update({k: v for k, v in ev.payload.items() if k not in ("run", "suite")})
                entry["t_end"] = ev.t
                entry["end_seq"] = ev.seq
        return [runs[k] for k in order]

    @_guarded
    def resource_series(self, scope: str | None = None) -> list[dict[str, Any]]:
        """resource_sample events as ``{"t": ..., **figures}``, in time order.

        ``scope="app"``: the app and system samples (about one a second); ``scope="run"``: the
        samples of running test suites; None: both.
        """
        out = []
        for ev in self._iter("kind = 'resource_sample'"):
            if scope is None or ev.payload.get("scope", "app") == scope:
                out.append({"t": ev.t, **ev.payload})
        return out

    @_guarded
    def integrity_signals(self) -> list[Signal]:
        """Large pastes, long focus losses, external changes, clock jumps, resume gaps, and
        saves whose recorded hash differs from the replayed text."""
        out: list[Signal] = []
        prev: Event | None = None
        lost: Event | None = None
        state: dict[str, str] = {}
        for ev in self._iter():
            p = ev.payload
            if ev.kind == "paste" and int(p.get("length", 0)) >= LARGE_PASTE_CHARS:
                out.append(Signal("large_paste", ev.seq, ev.t,
                                  f"{p.get('length')} characters pasted into {p.get('path')}."))
            elif ev.kind == "terminal_input" and p.get("pasted") is True and \
                    len(str(p.get("text", ""))) >= LARGE_PASTE_CHARS:
                out.append(Signal("large_paste", ev.seq, ev.t,
                                  f"{len(str(p.get('text')))} characters pasted into the "
                                  "terminal."))
            elif ev.kind == "focus_lost":
                lost = lost or ev
            elif ev.kind == "focus_gained" and lost is not None:
                away = ev.t - lost.t
                if away >= LONG_FOCUS_LOSS_S:
                    out.append(Signal("long_focus_loss", lost.seq, lost.t,
                                      f"The app lost focus for {away:.0f} s."))
                lost = None
            elif ev.kind == "external_change":
                what = "deleted" if p.get("deleted") else f"changed ({p.get('size')} bytes)"
                out.append(Signal("external_change", ev.seq, ev.t,
                                  f"{p.get('path')} was {what} outside the app."))
            elif ev.kind == "resumed":
                out.append(Signal("resume_gap", ev.seq, ev.t,
                                  f"The session was resumed after a gap of "
                                  f"{float(p.get('gap', 0)):.0f} s."))
            if ev.kind == "keyframe":
                state = {f: self.blob_text(h, ev.seq) for f, h in p.get("files", {}).items()}
            elif ev.kind in ("edit", "external_change"):
                self._apply(state, ev.kind, p, ev.seq)
            elif ev.kind == "save" and "sha256" in p and p.get("path") in state:
                text = store.encode_text(state[p["path"]])
                if hashlib.sha256(text).hexdigest() != p["sha256"]:
                    out.append(Signal("save_mismatch", ev.seq, ev.t,
                                      f"The saved {p['path']} differs from the replayed edits."))
            if prev is not None and ev.kind != "resumed":
                drift = (ev.wall - prev.wall) - (ev.t - prev.t)
                if abs(drift) >= CLOCK_JUMP_S:
                    out.append(Signal("clock_jump", ev.seq, ev.t,
                                      f"The wall clock jumped {drift:+.0f} s against the "
                                      "monotonic clock."))
            prev = ev
        if lost is not None and self.last_event is not None:
            away = self.last_event.t - lost.t
            if away >= LONG_FOCUS_LOSS_S:
                out.append(Signal("long_focus_loss", lost.seq, lost.t,
                                  f"The app lost focus for {away:.0f} s, until the end."))
        return sorted(out, key=lambda s: s.seq)

    @_guarded
    def summary(self) -> dict[str, Any]:
        """What ``session info`` shows."""
        start = self.session_start or {}
        assert self.first_event is not None and self.last_event is not None
        runs = self.runs()
        last_run = next((r for r in reversed(runs) if r.get("status")), None)
        deadline = start.get("deadline")
        return {
            "file": str(self.path),
            "challenge": start.get("challenge_id"),
            "challenge_hash": start.get("challenge_hash"),
            "mode": start.get("mode"),
            "candidate": start.get("candidate"),
            "tool_version": start.get("tool_version"),
            "started": iso(self.first_event.wall),
            "last_event": iso(self.last_event.wall),
            "deadline": iso(deadline) if isinstance(deadline, (int, float)) else None,
            "duration_s": round(self.duration, 3),
            "events": self.event_count,
            "kinds": dict(sorted(self.kind_counts().items())),
            "runs": len(runs),
            "last_run": None if last_run is None else {
                "suite": last_run.get("suite"), "status": last_run.get("status"),
                "score": last_run.get("score"), "max_score": last_run.get("max_score"),
            },
            "submitted": self.has_kind("submit"),
            "ended": self.last_event.kind == "session_end",
            "files": sorted(self.state_at()),
            "signals": [s.to_json() for s in self.integrity_signals()],
            "machine": start.get("machine"),
            "final_link": self.last_event.link,
        }
