"""Where every line came from: which events gave a line's characters their text.

Every character of every file carries the event that put it there: ``start`` (in the files
when the session began: starter code, or the workspace as it was), ``typed``, ``paste`` (the
edit a paste made, with the paste's size and time), ``external`` (changed outside the app, seen
by the app), ``outside`` (a keyframe found the file different from the replayed edits: changed
without the app seeing it), ``resume`` (different when the session was resumed: unsaved edits
lost in a crash, or changes made while the app was closed), ``reset`` (restored by a reset to
the starter files). A deletion marks the characters on either side of it (it changed their
line), unless it removed whole lines. A change that replaces a whole file (outside the app, a
keyframe) keeps the characters of the lines ``difflib`` matches and gives its own origin to
the rest.

A line's origin (:class:`LineOrigin`) is then read off its characters: the most notable kind
among them (``paste`` first, ``start`` last: a starter line with one character changed shows
as typed; a typed line with a pasted word in it, as pasted) and the latest event among them,
the moment the line got its present text (``o`` in replay jumps there). An empty line takes
the newlines around it. So pressing Enter in the middle of a starter line leaves both halves
starter code, and typing a comment above a line does not claim the line.

Headless: :class:`OriginIndex` is built by one pass over a session (checkpoints at keyframes and
every ``CHECKPOINT_EVERY`` changes), so any file at any moment costs one checkpoint copy and
at most that many events.
"""

from __future__ import annotations

import bisect
import difflib
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tui_assess.session import store

ORIGIN_KINDS = ("start", "typed", "paste", "external", "outside", "resume", "reset")
#: Text-changing events between two checkpoints of the index (bounds every lookup).
CHECKPOINT_EVERY = 100
#: Above this many differing lines, an outside change is attributed as one block (difflib's
#: matching is quadratic in the worst case).
DIFF_MAX_LINES = 4000
#: Keyframe reasons that mean "the files were replaced", and the origin they give.
KEYFRAME_ORIGINS = {"start": "start", "resume": "resume", "reset": "reset"}
#: Event kinds the index reads.
TEXT_KINDS = ("keyframe", "edit", "external_change", "paste")


@dataclass(frozen=True)
class Origin:
    """An event that gave characters their text."""

    kind: str
    """One of ORIGIN_KINDS."""
    seq: int
    """The event."""
    t: float
    """Seconds since the session started."""
    paste_length: int | None = None
    """For a paste: how many characters were pasted."""
    paste_seq: int | None = None
    """For a paste: the paste event (the edit it made follows it)."""

    def describe(self) -> str:
        """Plain words for a reviewer."""
        at = f"at {clock(self.t)} (event {self.seq})"
        words = {
            "start": f"in the files when the session began {at}",
            "typed": f"typed here {at}",
            "paste": f"pasted ({self.paste_length} characters) {at}",
            "external": f"changed outside the app {at}",
            "outside": f"found changed without the app seeing it {at}",
            "resume": f"different when the session resumed {at}",
            "reset": f"restored by a reset to the starter files {at}",
        }
        return words.get(self.kind, f"{self.kind} {at}")


#: Origin kinds, most notable first: a line shows the most notable kind among its characters.
NOTABLE = ("paste", "external", "outside", "resume", "reset", "typed", "start")
_RANK = {k: i for i, k in enumerate(NOTABLE)}


@dataclass(frozen=True)
class LineOrigin:
    """Where one line's characters came from."""

    shown: Origin
    """The most notable origin among the line's characters (the latest of that kind)."""
    latest: Origin
    """The last event that changed the line: the moment it got its present text."""
    kinds: tuple[str, ...]
    """Every origin kind among its characters, most notable first."""

    @property
    def kind(self) -> str:
        return self.shown.kind

    def describe(self) -> str:
        if self.latest == self.shown:
            return self.shown.describe()
        return f"{self.shown.describe()}; last changed: {self.latest.describe()}"


def line_origin(seqs: Iterable[int], origin_of: Mapping[int, Origin]) -> LineOrigin:
    """The LineOrigin of a line whose characters (or, for an empty line, the newlines around
    it) carry ``seqs``."""
    found = [origin_of[s] for s in set(seqs)]
    shown = min(found, key=lambda o: (_RANK.get(o.kind, len(NOTABLE)), -o.seq))
    latest = max(found, key=lambda o: o.seq)
    kinds = tuple(sorted({o.kind for o in found}, key=lambda k: _RANK.get(k, len(NOTABLE))))
    return LineOrigin(shown, latest, kinds)


def clock(t: float) -> str:
    """Session time as ``m:ss`` or ``h:mm:ss``."""
    m, s = divmod(int(max(t, 0.0)), 60)
    h, m = divmod(m, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


def _seqs(seq: int, n: int) -> array[int]:
    return array("i", [seq]) * n


# ---------------------------------------------------------------------------- one file


@dataclass
class FileChars:
    """One file's text and, for each character, the event that put it there."""

    text: str
    seqs: array[int]
    last: int
    """The latest event that changed the file (the origin of a file that is all empty)."""

    @classmethod
    def new(cls, text: str, seq: int) -> FileChars:
        return cls(text, _seqs(seq, len(text)), seq)

    def copy(self) -> FileChars:
        return FileChars(self.text, array("i", self.seqs), self.last)

    @property
    def lines(self) -> list[str]:
        """The lines as replay shows them: split on ``\\n`` only."""
        return self.text.split("\n")

    def apply_edit(self, offset: int, deleted: int, inserted: str, seq: int) -> bool:
        """``store.apply_edit`` on the text and the characters' origins; True if it changed."""
        text = self.text
        n = len(text)
        if not (0 <= offset <= n and deleted >= 0):
            # Offsets no recorder writes (negative, past the end): Python slicing decides the
            # text, the whole-file rule the origins.
            return self.replace(store.apply_edit(text, offset, deleted, inserted), seq)
        end = min(offset + deleted, n)
        removed = text[offset:end]
        if removed == inserted:
            return False
        self.text = text[:offset] + inserted + text[end:]
        self.seqs[offset:end] = _seqs(seq, len(inserted))
        self.last = seq
        if removed and not _whole_lines(text, offset, end):
            self._mark_around(offset, offset + len(inserted), seq)
        return True

    def _mark_around(self, left: int, right: int, seq: int) -> None:
        """A deletion changed the line(s) it happened in: mark the characters beside it (or,
        where the line is now empty, the newline that ends it)."""
        text = self.text
        marked = False
        for pos in (left - 1, right):
            if 0 <= pos < len(text) and text[pos] != "\n":
                self.seqs[pos] = seq
                marked = True
        if not marked:
            pos = right if right < len(text) else left - 1
            if 0 <= pos < len(text):
                self.seqs[pos] = seq

    def replace(self, new_text: str, seq: int) -> bool:
        """The whole text replaced (outside change, keyframe): the characters of the lines
        ``difflib`` matches (between the common first and last lines) keep their origins."""
        if new_text == self.text:
            return False
        old_lines, new_lines = self.lines, new_text.split("\n")
        spans = _line_spans(self.text)
        kept: dict[int, int] = {}  # new line -> old line
        p, s = _common_ends(old_lines, new_lines)
        kept.update({i: i for i in range(p)})
        shift = len(old_lines) - len(new_lines)
        kept.update({j: j + shift for j in range(len(new_lines) - s, len(new_lines))})
        middle_old, middle_new = old_lines[p:len(old_lines) - s], new_lines[p:len(new_lines) - s]
        if middle_old and middle_new and len(middle_old) + len(middle_new) <= DIFF_MAX_LINES:
            matcher = difflib.SequenceMatcher(None, middle_old, middle_new, autojunk=False)
            for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
                if tag == "equal":
                    kept.update({p + j1 + k: p + i1 + k for k in range(i2 - i1)})
        out = array("i")
        for j, line in enumerate(new_lines):
            i = kept.get(j)
            out += self.seqs[spans[i][0]:spans[i][1]] if i is not None else _seqs(seq, len(line))
            if j < len(new_lines) - 1:  # its newline: kept only if the old line had one
                keep = i is not None and i < len(old_lines) - 1
                out.append(self.seqs[spans[i][1]] if keep and i is not None else seq)
        self.text, self.seqs, self.last = new_text, out, seq
        return True

    def line_seqs(self, spans: list[tuple[int, int]], i: int) -> array[int]:
        """What line ``i``'s origin is read from: its characters, or for an empty line the
        newlines around it (or, for an empty file, its last change)."""
        a, b = spans[i]
        if b > a:
            return self.seqs[a:b]
        around = array("i", [self.seqs[a - 1]] if a else [])
        if b < len(self.text):
            around.append(self.seqs[b])
        return around or array("i", [self.last])

    def line_origins(self, origin_of: Mapping[int, Origin]) -> list[LineOrigin]:
        """Every line's LineOrigin."""
        at = self.reader(origin_of)
        return [at(i) for i in range(self.text.count("\n") + 1)]

    def reader(self, origin_of: Mapping[int, Origin]) -> Callable[[int], LineOrigin]:
        """A function from a line number (0-based) to its LineOrigin, computed on first use:
        a view reads only the lines it shows."""
        spans = _line_spans(self.text)
        known: dict[int, LineOrigin] = {}

        def at(i: int) -> LineOrigin:
            if i not in known:
                known[i] = line_origin(self.line_seqs(spans, i), origin_of)
            return known[i]

        return at

    def latest_seq(self) -> int:
        """The latest event among the file's characters (its latest change still visible)."""
        return max(self.seqs, default=self.last)


def _line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line's characters (the newline excluded)."""
    spans = []
    start = 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _whole_lines(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is whole lines: from a line's start through a newline, or from
    a line's end (its newline) to another line's end. Removing those changes no other line."""
    at_line_start = start == 0 or text[start - 1] == "\n"
    if at_line_start and text[end - 1] == "\n":
        return True
    return text[start] == "\n" and (end == len(text) or text[end] == "\n")


def _common_ends(old: list[str], new: list[str]) -> tuple[int, int]:
    limit = min(len(old), len(new))
    p = 0
    while p < limit and old[p] == new[p]:
        p += 1
    s = 0
    while s < limit - p and old[-1 - s] == new[-1 - s]:
        s += 1
    return p, s


# ---------------------------------------------------------------------------- the index


@dataclass
class _Checkpoint:
    seq: int
    files: dict[str, FileChars]


@dataclass
class OriginIndex:
    """Every file's text and character origins at checkpoints through a session, and what
    each origin event was. Pure data once built: safe to hand from a worker thread to the
    UI thread."""

    checkpoints: list[_Checkpoint] = field(default_factory=list)
    checkpoint_seqs: list[int] = field(default_factory=list)
    origin_of: dict[int, Origin] = field(default_factory=dict)
    """Every event that gave some characters their text -> its Origin."""
    paste_edits: dict[int, int] = field(default_factory=dict)
    """Edit seq -> the paste event it belongs to."""
    last_seq: int = 0

    def checkpoint_before(self, seq: int) -> _Checkpoint:
        i = bisect.bisect_right(self.checkpoint_seqs, seq)
        return self.checkpoints[max(i - 1, 0)]


Rows = Iterable[tuple[int, float, str, str]]
BlobReader = Callable[[str, int], str]


class OriginTracker:
    """Applies text events in order to every file's text and character origins."""

    def __init__(self, read_blob: BlobReader, index: OriginIndex | None = None,
                 files: dict[str, FileChars] | None = None) -> None:
        """From the start of a session, or (``files``) from a checkpoint of ``index``."""
        self.read_blob = read_blob
        self.index = index if index is not None else OriginIndex()
        self.files: dict[str, FileChars] = files if files is not None else {}
        self._pending_paste: dict[str, tuple[int, int]] = {}
        self._started = files is not None

    def apply(self, seq: int, t: float, kind: str, payload: dict[str, Any],
              only: str | None = None) -> bool:
        """Apply one event (``only``: skip other files). True when some text changed."""
        path = payload.get("path")
        if only is not None and kind != "keyframe" and path != only:
            return False
        if kind == "paste":
            if isinstance(path, str):
                self._pending_paste[path] = (seq, _int(payload.get("length"), 0))
            return False
        if kind == "edit":
            return self._edit(seq, t, payload)
        if kind == "external_change":
            if not isinstance(path, str):
                return False
            if payload.get("deleted"):
                return self.files.pop(path, None) is not None
            text = self.read_blob(str(payload.get("blob")), seq)
            self._started = True
            self._set(path, text, Origin("external", seq, t))
            return True
        if kind == "keyframe":
            return self._keyframe(seq, t, payload, only)
        return False

    def _edit(self, seq: int, t: float, p: dict[str, Any]) -> bool:
        path, inserted = p.get("path"), p.get("text")
        offset, deleted = p.get("offset"), p.get("deleted")
        if not (isinstance(path, str) and isinstance(inserted, str)
                and _is_int(offset) and _is_int(deleted)):
            raise ValueError(f"event {seq} is an edit without path, offset, deleted and text")
        self._started = True  # a later keyframe is not the start, even the first one
        if seq not in self.index.origin_of:  # known when replaying from a checkpoint
            self.index.origin_of[seq] = self._edit_origin(seq, t, path, inserted, p.get("cause"))
        fl = self.files.get(path)
        if fl is None:
            fl = self.files[path] = FileChars.new("", seq)
        return fl.apply_edit(int(offset), int(deleted), inserted, seq)  # type: ignore[arg-type]

    def _edit_origin(self, seq: int, t: float, path: str, inserted: str, cause: Any) -> Origin:
        if cause == "reset":
            return Origin("reset", seq, t)
        paste = self._pending_paste.pop(path, None) if inserted else None
        if paste is not None:
            self.index.paste_edits[seq] = paste[0]
            return Origin("paste", seq, t, paste_length=paste[1], paste_seq=paste[0])
        return Origin("typed", seq, t)

    def _keyframe(self, seq: int, t: float, p: dict[str, Any], only: str | None) -> bool:
        files = p.get("files")
        if not isinstance(files, dict):
            return False
        reason = p.get("reason")
        kind = "start" if not self._started else KEYFRAME_ORIGINS.get(str(reason), "outside")
        self._started = True
        origin = Origin(kind, seq, t)
        changed = False
        for path in [f for f in self.files if f not in files and (only in (None, f))]:
            del self.files[path]  # a keyframe holds every file: one missing was deleted
            changed = True
        for path, digest in files.items():
            if only is not None and path != only:
                continue
            fl = self.files.get(path)
            if fl is not None and kind != "start":
                text = self.read_blob(str(digest), seq)
                if text != fl.text:
                    self.index.origin_of.setdefault(seq, origin)
                    fl.replace(text, seq)
                    changed = True
                continue
            self.index.origin_of.setdefault(seq, origin)
            self.files[path] = FileChars.new(self.read_blob(str(digest), seq), seq)
            changed = True
        return changed

    def _set(self, path: str, text: str, origin: Origin) -> None:
        self.index.origin_of.setdefault(origin.seq, origin)
        fl = self.files.get(path)
        if fl is None:
            self.files[path] = FileChars.new(text, origin.seq)
        else:
            fl.replace(text, origin.seq)

    def checkpoint(self, seq: int) -> None:
        self.index.checkpoints.append(
            _Checkpoint(seq, {p: fl.copy() for p, fl in self.files.items()}))
        self.index.checkpoint_seqs.append(seq)


def build_index(rows: Rows, read_blob: BlobReader) -> OriginIndex:
    """One pass over ``(seq, t, kind, payload text)`` rows of TEXT_KINDS, in seq order."""
    tracker = OriginTracker(read_blob)
    tracker.checkpoint(0)
    since = 0
    last = 0
    for seq, t, kind, payload_text in rows:
        last = seq
        changed = tracker.apply(seq, t, kind, store.row_payload(payload_text))
        since += changed
        if kind == "keyframe" or since >= CHECKPOINT_EVERY:
            tracker.checkpoint(seq)
            since = 0
    tracker.index.last_seq = last
    return tracker.index


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _int(x: Any, default: int) -> int:
    return x if _is_int(x) else default
