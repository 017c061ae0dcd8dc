"""verify: check a session file's hash chain, sequence, blobs and sidecar.

Anyone can run it: the chain has no secret. What it proves and what it cannot is written in
``docs/session-format.md`` (threat model).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_assess.session import store


@dataclass
class VerifyReport:
    """The outcome of :func:`verify`. ``ok`` False means the file was changed or damaged."""

    path: str
    ok: bool
    reason: str
    """Plain words: why it is intact, or what is wrong and where."""
    event_count: int = 0
    final_link: str | None = None
    first_bad_seq: int | None = None
    """The first event that fails (for a deletion: the first missing sequence number)."""
    first_bad_kind: str | None = None
    blob_count: int = 0
    sidecar: str = "missing"
    """match | missing | behind (the file continued after a resume) | mismatch | unreadable"""
    notes: list[str] = field(default_factory=list)
    """Weaker evidence and context that is not a failure (e.g. no sidecar)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.path, "ok": self.ok, "reason": self.reason,
            "events": self.event_count, "final_link": self.final_link,
            "first_bad_seq": self.first_bad_seq, "first_bad_kind": self.first_bad_kind,
            "blobs": self.blob_count, "sidecar": self.sidecar, "notes": self.notes,
        }


def _referenced_blobs(kind: str, payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return []
    if kind == "keyframe" and isinstance(payload.get("files"), dict):
        return [h for h in payload["files"].values() if isinstance(h, str)]
    if kind == "external_change" and isinstance(payload.get("blob"), str):
        return [payload["blob"]]
    return []


def verify(path: str | Path) -> VerifyReport:
    """Check the whole file. Raises UserError when it is not a session file at all."""
    path = Path(path)
    conn = store.open_readonly(path)
    try:
        return _verify(path, conn)
    finally:
        conn.close()


def _fail(rep: VerifyReport, seq: int | None, kind: str | None, reason: str) -> VerifyReport:
    rep.ok = False
    rep.first_bad_seq = seq
    rep.first_bad_kind = kind
    rep.reason = reason
    return rep


def _verify(path: Path, conn: sqlite3.Connection) -> VerifyReport:
    rep = VerifyReport(str(path), ok=True, reason="")
    side = store.read_sidecar(path)
    side_link = side[1] if side else None
    side_seen_at: int | None = None
    refs: dict[str, tuple[int, str]] = {}
    resumed_after: list[int] = []
    expected = 1
    prev = store.GENESIS_LINK
    seq = 0
    kind: str | None = None
    try:
        cur = conn.execute(
            "SELECT seq, t_mono, wall, kind, payload, link FROM events ORDER BY seq"
        )
        for row in cur:
            seq, t, wall, kind, payload_text, link = row
            if not isinstance(seq, int) or seq != expected:
                if isinstance(seq, int) and seq > expected:
                    missing = (f"event {expected} is missing" if seq == expected + 1
                               else f"events {expected} to {seq - 1} are missing")
                    return _fail(rep, expected, None,
                                 f"{missing}: the sequence jumps from {expected - 1} to {seq} "
                                 "(events were deleted).")
                return _fail(rep, expected, None, f"event {expected} has a malformed number.")
            try:
                data = store.canonical_event_bytes(seq, t, wall, kind, payload_text)
            except (ValueError, TypeError):
                return _fail(rep, seq, str(kind),
                             f"event {seq} has malformed fields (time, kind or payload).")
            if store.next_link(prev, data) != link:
                return _fail(
                    rep, seq, str(kind),
                    f"event {seq} ({kind}) does not match the chain: its content was changed, "
                    "or events before it were removed, inserted or reordered.",
                )
            try:
                payload = json.loads(payload_text)
            except ValueError:
                return _fail(rep, seq, kind,
                             f"event {seq} ({kind}) has a payload that is not JSON.")
            if seq == 1 and kind != "session_start":
                return _fail(rep, seq, kind, "the first event is not session_start.")
            for h in _referenced_blobs(kind, payload):
                refs.setdefault(h, (seq, kind))
            if kind == "resumed":
                resumed_after.append(seq)
            if side_link is not None and link == side_link:
                side_seen_at = seq
            prev = link
            expected = seq + 1
        rep.event_count = expected - 1
        rep.final_link = prev if rep.event_count else None
        if rep.event_count == 0:
            return _fail(rep, 1, None, "the file holds no events (every event was removed).")

        # Blobs: each must decompress to content matching its hash; every reference must exist.
        # Streamed and bounded by the recorded size: a zlib bomb is damage, not an allocation.
        bad_blobs: list[tuple[str, str]] = []
        present: set[str] = set()
        for digest, blob, size in conn.execute("SELECT sha256, data, size FROM blobs"):
            rep.blob_count += 1
            present.add(str(digest))
            problem = store.check_blob(str(digest), blob, size)
            if problem is not None:
                bad_blobs.append((str(digest), problem))
    except sqlite3.Error as exc:
        return _fail(rep, expected, None,
                     f"the file is damaged near event {expected}: SQLite reports \"{exc}\".")
    problems = [(refs.get(h, (None, None)), f"blob {h[:12]} {why}") for h, why in bad_blobs]
    problems += [(where, f"blob {h[:12]} is missing")
                 for h, where in refs.items() if h not in present]
    if problems:
        problems.sort(key=lambda p: (p[0][0] is None, p[0][0] or 0))
        (bseq, bkind), what = problems[0]
        where = f"event {bseq} ({bkind}) refers to it" if bseq else "no event refers to it"
        more = f" ({len(problems) - 1} more blob problems)" if len(problems) > 1 else ""
        return _fail(rep, bseq, bkind, f"{what}; {where}{more}.")

    # The sidecar pins the final link written at close: it exposes truncation and rewrites.
    if side is None:
        rep.sidecar = "missing"
        rep.notes.append(
            f"No sidecar ({store.sidecar_path(path).name}): the chain is intact, but removing "
            "the last events cannot be detected from this file alone (weaker evidence)."
        )
    elif not side[1]:
        rep.sidecar = "unreadable"
        rep.notes.append(f"The sidecar {store.sidecar_path(path).name} is unreadable.")
    else:
        side_seq, side_link = side
        if side_link == rep.final_link:
            rep.sidecar = "match"
        elif side_seen_at is not None:
            later_resume = any(s > side_seen_at for s in resumed_after)
            if later_resume:
                rep.sidecar = "behind"
                rep.notes.append(
                    f"The sidecar pins event {side_seen_at}; the session was resumed after it "
                    "and not closed cleanly since (for example a crash)."
                )
            else:
                rep.sidecar = "mismatch"
                return _fail(
                    rep, side_seen_at + 1, None,
                    f"events {side_seen_at + 1} to {rep.event_count} were appended after the "
                    "session was closed (the sidecar pins event "
                    f"{side_seen_at}, and no resume follows it).",
                )
        else:
            rep.sidecar = "mismatch"
            if side_seq is not None and side_seq > rep.event_count:
                return _fail(
                    rep, rep.event_count + 1, None,
                    f"the file was truncated: its sidecar records {side_seq} events, the file "
                    f"holds {rep.event_count}; event {rep.event_count + 1} onwards is missing.",
                )
            at = side_seq if side_seq is not None else None
            return _fail(
                rep, at, None,
                "the chain was rewritten: the final link in the sidecar is not in the file"
                + (f" (it should be the link of event {at})." if at else "."),
            )
    rep.reason = (f"intact: {rep.event_count} events, {rep.blob_count} blobs, "
                  f"final link {rep.final_link}.")
    return rep
