"""Where every line came from: each line's *origin*, the event that gave it its present text.

The rule, for any change that turns a file's lines ``old`` into ``new`` (an edit, a change made
outside the app, a keyframe that differs from the replayed text):

1. lines in the longest common prefix of ``old`` and ``new`` keep their origin, then lines in the
   longest common suffix of what is left (never overlapping the prefix);
2. between them, an edit (one contiguous change) gives every line its own origin; any other
   change is matched line by line (``difflib``, no junk heuristic) and only the lines that differ
   get its origin.

So typing a character re-attributes its line, pressing Enter at the end of a line leaves that
line alone and attributes the new one, and a file rewritten on disk attributes only the lines
that changed. A line's origin kind says how: ``start`` (in the files when the session began:
starter code, or the workspace as it was), ``typed``, ``paste`` (the edit a paste made, with
the paste's size and time), ``external`` (changed outside the app, seen by the app), ``outside``
(a keyframe found the file different from the replayed edits: changed without the app seeing
it), ``resume`` (different when the session was resumed: unsaved edits lost in a crash, or
changes made while the app was closed), ``reset`` (restored by a reset to the starter files).

Headless: :class:`OriginIndex` is built by one pass over a session (checkpoints at keyframes and
every ``CHECKPOINT_EVERY`` changes), so the lines of any file at any moment cost one checkpoint
copy and at most that many events.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tui_assess.session import store

ORIGIN_KINDS = ("start", "typed", "paste", "external", "outside", "resume", "reset")
#: Text-changing events between two checkpoints of the index (bounds every lookup).
CHECKPOINT_EVERY = 200
#: Above this many differing lines, an outside change is attributed as one block (difflib's
#: matching is quadratic in the worst case).
DIFF_MAX_LINES = 4000
#: Keyframe reasons that mean "the files were replaced", and the origin they give.
KEYFRAME_ORIGINS = {"start": "start", "resume": "resume", "reset": "reset"}
#: Event kinds the index reads.
TEXT_KINDS = ("keyframe", "edit", "external_change", "paste")


@dataclass(frozen=True)
class Origin:
    """How a line got its present text."""

    kind: str
    """One of ORIGIN_KINDS."""
    seq: int
    """The event that gave the line its present text (``o`` in replay jumps there)."""
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


def clock(t: float) -> str:
    """Session time as ``m:ss`` or ``h:mm:ss``."""
    m, s = divmod(int(max(t, 0.0)), 60)
    h, m = divmod(m, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


def split_lines(text: str) -> list[str]:
    """A file's lines as replay shows them: split on ``\\n`` only (``""`` is one empty line)."""
    return text.split("\n")


# ---------------------------------------------------------------------------- one file


@dataclass
class FileLines:
    """One file's text, its lines and each line's origin (an event seq)."""

    text: str
    lines: list[str]
    origins: list[int]

    @classmethod
    def new(cls, text: str, seq: int) -> FileLines:
        lines = split_lines(text)
        return cls(text, lines, [seq] * len(lines))

    def copy(self) -> FileLines:
        return FileLines(self.text, list(self.lines), list(self.origins))

    def apply_edit(self, offset: int, deleted: int, inserted: str, seq: int) -> None:
        """``store.apply_edit``, keeping each line's origin by the module's rule."""
        text = self.text
        n = len(text)
        if not (0 <= offset <= n and deleted >= 0):
            # Offsets no recorder writes (negative, past the end): Python slicing decides the
            # text; the whole-file rule decides the origins.
            self.replace(store.apply_edit(text, offset, deleted, inserted), seq, contiguous=True)
            return
        end = min(offset + deleted, n)
        if text[offset:end] == inserted:
            return  # nothing changes
        start = text.rfind("\n", 0, offset) + 1
        stop = text.find("\n", end)
        if stop < 0:
            stop = n
        l0 = text.count("\n", 0, offset)
        old_region = text[start:stop].split("\n")
        new_text = text[:offset] + inserted + text[end:]
        new_region = new_text[start : stop + len(inserted) - (end - offset)].split("\n")
        trim = self._edit_trim(l0, old_region, new_region)
        self.lines[l0 : l0 + len(old_region)] = new_region
        self.text = new_text
        self._attribute(trim, seq, None)

    def replace(self, new_text: str, seq: int, contiguous: bool = False) -> None:
        """The whole text replaced (outside change, keyframe): only differing lines change
        origin (difflib between the common prefix and suffix); ``contiguous`` attributes the
        whole middle block instead, as for an edit."""
        if new_text == self.text:
            return
        old_lines = self.lines
        self.lines = split_lines(new_text)
        self.text = new_text
        trim = _common_ends(old_lines, self.lines)
        self._attribute(trim, seq, None if contiguous else old_lines)

    def _edit_trim(self, l0: int, old_region: list[str], new_region: list[str]) -> tuple[int, int]:
        """(common prefix, common suffix) of the old and new line lists after an edit of the
        lines from ``l0``, without building the new list: lines before ``l0`` and after the
        region are known equal, so the scans start there (and go on only through runs of
        equal lines)."""
        old = self.lines
        n_old, n_new = len(old_region), len(new_region)
        shift = n_new - n_old
        old_count, new_count = len(old), len(old) + shift

        def new_line(i: int) -> str:
            if i < l0:
                return old[i]
            if i < l0 + n_new:
                return new_region[i - l0]
            return old[i - shift]

        limit = min(old_count, new_count)
        p = l0
        while p < limit and old[p] == new_line(p):
            p += 1
        s = old_count - (l0 + n_old)
        while s < limit - p and old[old_count - 1 - s] == new_line(new_count - 1 - s):
            s += 1
        return p, min(s, limit - p)

    def _attribute(self, trim: tuple[int, int], seq: int, old_lines: list[str] | None) -> None:
        p, s = trim
        new_count = len(self.lines)
        old_count = len(self.origins)
        middle_old = self.origins[p : old_count - s]
        if old_lines is None or not middle_old:
            fresh = [seq] * (new_count - p - s)
        else:
            fresh = _diff_origins(old_lines[p : old_count - s], self.lines[p : new_count - s],
                                  middle_old, seq)
        self.origins[p : old_count - s] = fresh


def _common_ends(old: list[str], new: list[str]) -> tuple[int, int]:
    limit = min(len(old), len(new))
    p = 0
    while p < limit and old[p] == new[p]:
        p += 1
    s = 0
    while s < limit - p and old[-1 - s] == new[-1 - s]:
        s += 1
    return p, s


def _diff_origins(old: list[str], new: list[str], origins: list[int], seq: int) -> list[int]:
    """Origins of ``new`` lines: matched lines keep theirs, the rest get ``seq``."""
    if len(old) + len(new) > DIFF_MAX_LINES:
        return [seq] * len(new)
    out = [seq] * len(new)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
        if tag == "equal":
            out[j1 : j1 + (i2 - i1)] = origins[i1:i2]
    return out


# ---------------------------------------------------------------------------- the index


@dataclass
class _Checkpoint:
    seq: int
    files: dict[str, FileLines]


@dataclass
class OriginIndex:
    """Every file's lines and origins at checkpoints through a session, and what each origin
    event was. Pure data once built: safe to hand from a worker thread to the UI thread."""

    checkpoints: list[_Checkpoint] = field(default_factory=list)
    checkpoint_seqs: list[int] = field(default_factory=list)
    origin_of: dict[int, Origin] = field(default_factory=dict)
    """Every event that gave some line its text -> its Origin."""
    paste_edits: dict[int, int] = field(default_factory=dict)
    """Edit seq -> the paste event it belongs to."""
    last_seq: int = 0

    def checkpoint_before(self, seq: int) -> _Checkpoint:
        i = bisect.bisect_right(self.checkpoint_seqs, seq)
        return self.checkpoints[max(i - 1, 0)]


Rows = Iterable[tuple[int, float, str, str]]
BlobReader = Callable[[str, int], str]


class OriginTracker:
    """Applies text events in order to every file's lines and origins."""

    def __init__(self, read_blob: BlobReader, index: OriginIndex | None = None,
                 files: dict[str, FileLines] | None = None) -> None:
        """From the start of a session, or (``files``) from a checkpoint of ``index``."""
        self.read_blob = read_blob
        self.index = index if index is not None else OriginIndex()
        self.files: dict[str, FileLines] = files if files is not None else {}
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
            fl = self.files[path] = FileLines.new("", seq)
        before = fl.text
        fl.apply_edit(int(offset), int(deleted), inserted, seq)  # type: ignore[arg-type]
        return fl.text != before

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
            self.files[path] = FileLines.new(self.read_blob(str(digest), seq), seq)
            changed = True
        return changed

    def _set(self, path: str, text: str, origin: Origin) -> None:
        self.index.origin_of.setdefault(origin.seq, origin)
        fl = self.files.get(path)
        if fl is None:
            self.files[path] = FileLines.new(text, origin.seq)
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
