"""What reports, regrades and the review need from one session file, read through Timeline.

The *submitted snapshot* is the workspace recorded at the last ``submit`` event (its keyframe
precedes it); a session that never submitted offers its final state instead, and says so. The
*recorded result* is the last hidden-suite ``run_end`` at or before that point: what the
candidate's machine reported, which a regrade confirms or contradicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_assess.errors import UserError
from tui_assess.session import store
from tui_assess.session.store import Event
from tui_assess.session.timeline import Timeline
from tui_assess.snapshot import snapshot_digest


@dataclass(frozen=True)
class Submission:
    """The files a reviewer grades, and where in the session they come from."""

    files: dict[str, str]
    """path -> text as recorded (bytes that are not UTF-8 kept as surrogate escapes)."""
    seq: int
    """The event whose state these files are (the submit event, or the last event)."""
    submitted: bool
    """False when the session never submitted: the files are its final state."""
    snapshot: str
    """The snapshot digest of these files, computed here from the recorded bytes."""
    recorded_snapshot: str | None
    """The digest the submit event recorded (None without a submit); differs from
    ``snapshot`` only when the file was changed after the fact."""

    def file_bytes(self) -> dict[str, bytes]:
        return {p: store.encode_text(t) for p, t in self.files.items()}


def unreadable(path: Path, exc: OSError) -> UserError:
    """An OS error reading a session file (permissions, I/O), as the one sentence a user
    error is: the session layer reports damaged files, not files it may not open."""
    return UserError(f"{path} cannot be read: {exc.strerror or exc}.")


class SessionFacts:
    """One session file's events, read once, and the facts derived from them."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self.events: list[Event] = tl.events()
        self.start: dict[str, Any] = tl.session_start or {}

    def of_kind(self, *kinds: str) -> list[Event]:
        return [ev for ev in self.events if ev.kind in kinds]

    def submission(self) -> Submission:
        """The submitted snapshot, or the final state when nothing was submitted."""
        submits = self.of_kind("submit")
        submit = submits[-1] if submits else None
        seq = submit.seq if submit is not None else self.events[-1].seq
        files = self.tl.state_at(seq=seq)
        digest = snapshot_digest({p: store.encode_text(t) for p, t in files.items()})
        recorded = submit.payload.get("snapshot") if submit is not None else None
        return Submission(files, seq, submit is not None, digest,
                          recorded if isinstance(recorded, str) else None)

    def recorded_result(self, upto_seq: int | None = None) -> dict[str, Any] | None:
        """The last finished hidden-suite run at or before ``upto_seq`` (a Timeline.runs
        entry: status, tests, score, max_score, groups, resources, sandbox, ...)."""
        best = None
        for run in self.tl.runs():
            if run.get("suite") != "hidden" or run.get("status") is None:
                continue
            if upto_seq is not None and (run.get("end_seq") or 0) > upto_seq:
                continue
            best = run
        return best

    def start_files(self) -> dict[str, str]:
        """The workspace when the session started (its first keyframe): the starter files,
        unless the candidate had already changed them before the session began."""
        frames = self.of_kind("keyframe")
        return self.tl.state_at(seq=frames[0].seq) if frames else {}

    def notes(self) -> list[dict[str, Any]]:
        """The candidate's notes ("what I did and why"), in order."""
        return [{"seq": ev.seq, "t": round(ev.t, 3), "text": str(ev.payload.get("text", ""))}
                for ev in self.of_kind("note")]

    def time_used(self, upto_seq: int) -> float:
        """Seconds from the start to ``upto_seq`` on the session's (monotonic) clock."""
        at = next((ev.t for ev in self.events if ev.seq >= upto_seq), self.events[-1].t)
        return max(0.0, at - self.events[0].t)

    def signals(self) -> list[dict[str, Any]]:
        """Integrity signals (``Timeline.integrity_signals``) plus those an exam records that
        the timeline does not derive: wrong start codes typed before the exam opened, and
        clock jumps the exam's watch saw that no derived ``clock_jump`` covers (a jump while
        the app was closed shows only at the resume), a sandbox mode forced through the
        environment (ignored by the exam), and test runs in a mode that does not isolate the
        file system (``rlimits``: the candidate's code could read those runs' tests). Resumes
        are there already (``resume_gap``)."""
        out = [s.to_json() for s in self.tl.integrity_signals()] + self._sandbox_signals()
        derived = [s["seq"] for s in out if s["kind"] == "clock_jump"]
        since = 0
        for ev in self.of_kind("start_code_refused", "clock_jump"):
            p = ev.payload
            if ev.kind == "start_code_refused":
                n = p.get("count")
                n = n if isinstance(n, int) and not isinstance(n, bool) else "some"
                detail = f"{n} wrong start code(s) were typed before the exam opened."
            else:
                covered = any(since < seq <= ev.seq for seq in derived)
                since = ev.seq
                if covered:
                    continue
                jump = p.get("jump_s")
                size = (f" {jump:+.0f} s" if isinstance(jump, (int, float))
                        and not isinstance(jump, bool) else "")
                detail = f"The wall clock jumped{size}" + (
                    " while the app was closed (found at the resume)."
                    if p.get("across_resume") is True else ".")
            out.append({"kind": ev.kind, "seq": ev.seq, "t": round(ev.t, 3), "detail": detail})
        return sorted(out, key=lambda s: s["seq"])

    def _sandbox_signals(self) -> list[dict[str, Any]]:
        if self.start.get("mode") != "exam":
            return []  # in practice the hidden tests are in the challenge folder anyway
        out: list[dict[str, Any]] = []
        for ev in self.of_kind("sandbox_env_ignored"):
            out.append({"kind": "sandbox_env_ignored", "seq": ev.seq, "t": round(ev.t, 3),
                        "detail": f"{ev.payload.get('name')}={ev.payload.get('value')!r} was "
                                  "set when the exam started; the exam ignored it and ran in "
                                  "the best sandbox mode this machine allows."})
        runs = self.of_kind("run_end")
        weak = [ev for ev in runs if ev.payload.get("sandbox") == "rlimits"]
        if weak:
            first = weak[0]
            out.append({"kind": "weak_sandbox", "seq": first.seq, "t": round(first.t, 3),
                        "detail": f"{len(weak)} of {len(runs)} test runs ran in the rlimits "
                                  "mode (this machine offered no file-system isolation): the "
                                  "candidate's code could read those runs' tests, hidden ones "
                                  "included."})
        return out

    def time_limit(self) -> float | None:
        """Seconds between the start and the recorded deadline (None when untimed)."""
        deadline = self.start.get("deadline")
        if not isinstance(deadline, (int, float)):
            return None
        return max(0.0, float(deadline) - self.events[0].wall)
