"""Search a session: the code over time (when a text appeared in a file, when it went) and the
events (notes, test names and failure messages, terminal commands, file names).

Headless; one pass over the session, replaying every file's text. Smart case: a query with no
capital letter matches any case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tui_assess.session import store

#: Payload keys whose text is not something a reviewer searches for.
SKIPPED_KEYS = frozenset({"guarantees", "machine", "samples", "snapshot", "sha256", "blob",
                          "files", "link", "challenge_hash"})


@dataclass(frozen=True)
class SearchHit:
    seq: int
    t: float
    where: str
    """``code`` (the text appeared in or left a file) or ``event`` (an event's own text)."""
    detail: str
    """Plain words: ``calc.py line 5: added (typed)``, ``note: ...``."""
    path: str | None = None
    line: int | None = None
    """1-based line of the first occurrence, for an addition."""


def _folder(query: str) -> Callable[[str], str]:
    return str.lower if query == query.lower() else (lambda s: s)


def _strings(value: Any, key: str = "") -> Iterable[tuple[str, str]]:
    if key in SKIPPED_KEYS:
        return
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


def _snippet(text: str, at: int, width: int = 80) -> str:
    start = 0 if len(text) <= width else max(0, at - width // 3)
    piece = text[start : start + width].replace("\n", " ⏎ ")
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


class _CodeSearch:
    """Replays every file and notices when the number of occurrences changes."""

    def __init__(self, query: str) -> None:
        self.fold = _folder(query)
        self.needle = self.fold(query)
        self.texts: dict[str, str] = {}
        self.pasted: set[str] = set()
        self.started = False

    def count(self, text: str) -> int:
        return self.fold(text).count(self.needle)

    def _hit(self, seq: int, t: float, path: str, before: int, after: int, new: str, lo: int,
             how: str) -> SearchHit | None:
        if after > before:
            pos = self.fold(new).find(self.needle, lo)
            line = new.count("\n", 0, max(pos, 0)) + 1
            return SearchHit(seq, t, "code", f"{path} line {line}: added ({how})", path, line)
        if after < before:
            return SearchHit(seq, t, "code", f"{path}: removed ({how})", path, None)
        return None

    def edit(self, seq: int, t: float, p: dict[str, Any]) -> SearchHit | None:
        path = str(p["path"])
        text = self.texts.get(path, "")
        offset, deleted, inserted = int(p["offset"]), int(p["deleted"]), str(p["text"])
        new = store.apply_edit(text, offset, deleted, inserted)
        self.texts[path] = new
        self.started = True
        how = "typed"
        if inserted and path in self.pasted:
            self.pasted.discard(path)
            how = "pasted"
        if not (0 <= offset <= len(text) and deleted >= 0):
            return self._hit(seq, t, path, self.count(text), self.count(new), new, 0, how)
        # Only occurrences overlapping the change can appear or go: count around it.
        m = len(self.needle)
        lo = max(0, offset - m + 1)
        before = self.count(text[lo : offset + deleted + m - 1])
        after = self.count(new[lo : offset + len(inserted) + m - 1])
        return self._hit(seq, t, path, before, after, new, lo, how)

    def replace(self, seq: int, t: float, path: str, new: str | None, how: str
                ) -> SearchHit | None:
        old = self.texts.pop(path, "")
        if new is not None:
            self.texts[path] = new
        self.started = True
        return self._hit(seq, t, path, self.count(old), self.count(new or ""), new or "", 0, how)


def search(rows: Iterable[tuple[int, float, str, str]], query: str,
           read_blob: Callable[[str, int], str]) -> list[SearchHit]:
    """Hits in seq order, from ``(seq, t, kind, payload text)`` rows in seq order."""
    if not query:
        return []
    code = _CodeSearch(query)
    fold, needle = code.fold, code.needle
    hits: list[SearchHit] = []
    for seq, t, kind, payload_text in rows:
        p = store.row_payload(payload_text)
        found: SearchHit | None = None
        if kind == "edit":
            found = code.edit(seq, t, p)
        elif kind == "paste":
            code.pasted.add(str(p.get("path")))
        elif kind == "external_change":
            path = str(p.get("path"))
            new = None if p.get("deleted") else read_blob(str(p.get("blob")), seq)
            found = code.replace(seq, t, path, new, "changed outside the app")
        elif kind == "keyframe":
            files = p.get("files") or {}
            how = "in a keyframe" if code.started else "at the start"
            for path in sorted(set(code.texts) | set(files)):
                new = read_blob(str(files[path]), seq) if path in files else None
                if new == code.texts.get(path):
                    continue
                hit = code.replace(seq, t, path, new, how)
                if hit is not None:
                    hits.append(hit)
        else:
            for key, value in _strings(p):
                pos = fold(value).find(needle)
                if pos >= 0:
                    label = f"{kind} {key}" if key else kind
                    found = SearchHit(seq, t, "event", f"{label}: {_snippet(value, pos)}")
                    break
        if found is not None:
            hits.append(found)
    return hits
