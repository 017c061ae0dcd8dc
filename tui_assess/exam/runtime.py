"""One exam on this machine: from the sealed pack to the receipts (nothing here imports Textual).

    exam = Exam.load(pack_path)              # the public header; the state found on disk
    exam.status                              # "new" | "in progress" | "finished"
    exam.unlock(code)                        # WrongCode (recorded) or the pack, in memory
    exam.start(candidate="ada")              # the clock starts here (or resumes)
    part = exam.parts[0]                     # one challenge: workspace, session, hooks
    exam.check(part.challenge, ws, "hidden") # the exam's checker (policy-filtered)
    exam.submitted(part)                     # counts a submission; the last one finalises
    exam.finish(part)                        # close its session: its receipt
    exam.close()                             # quit mid-exam (resumable)

On disk, in ``<data folder>/exams/<pack id>/`` (mode 0700):

    challenges/<id>/   what the candidate may see: manifest, brief, starter, visible tests
                       (rewritten at every opening; no hidden test, no solution)
    workspaces/<id>/   the candidate's files
    sessions/<candidate>-<id>.tasession   one session file per challenge: what is collected
    refused-codes.jsonl   times of wrong start codes, recorded into the sessions at opening

The deadline is written into every session_start the moment the pack is decrypted. Opening the
exam again (after quitting, a crash, a kill -9 or a reboot) asks for the start code again,
resumes every session with a ``resumed`` event, and keeps the recorded deadline; the time is
counted from the later of the wall clock and the last recorded event, so setting the clock back
while the app is closed gains nothing that is not recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui_assess.challenge.check import CheckResult, run_check
from tui_assess.challenge.model import Challenge, load_challenge
from tui_assess.challenge.workspace import init_workspace
from tui_assess.errors import UserError
from tui_assess.exam import pack as packs
from tui_assess.exam.feedback import HiddenFeedback, apply_policy
from tui_assess.exam.hooks import ExamHooks
from tui_assess.exam.policy import ExamPolicy
from tui_assess.exam.receipt import exam_facts, receipt_code
from tui_assess.exam.watch import CLOCK_JUMP_S, ExamWatch
from tui_assess.paths import data_home
from tui_assess.sandbox.modes import ENV_FORCE
from tui_assess.session import store
from tui_assess.session.hooks import read_workspace
from tui_assess.session.recorder import SessionRecorder

if TYPE_CHECKING:
    from tui_assess.judge.warm import WarmRuns

EXAMS_FOLDER = "exams"
SUBMITTED = "submitted"
"""session_end reason of a challenge's final submission: its file is then closed for good."""
REFUSED_CODES = "refused-codes.jsonl"


def exam_root(pack_id: str, home: Path | None = None) -> Path:
    return (home or data_home()) / EXAMS_FOLDER / pack_id


def candidate_slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-")
    return slug or "candidate"


@dataclass
class SessionOnDisk:
    """A session file found before the pack is opened (what `exam` can say without a code)."""

    path: Path
    challenge_id: str
    candidate: str | None
    deadline: float | None
    submissions: int
    finished: bool
    """Closed after its final submission: never appended to again."""
    last_wall: float
    receipt: str | None


def read_session(path: Path, pack_id: str) -> SessionOnDisk | None:
    """A session of this exam, or None when the file is not one (or unreadable)."""
    from tui_assess.session.timeline import Timeline

    try:
        with Timeline.open(path) as tl:
            start = tl.session_start or {}
            last = tl.last_event
            facts = exam_facts(start)
            if facts is None or facts.get("pack_id") != pack_id or last is None:
                return None
            finished = last.kind == "session_end" and last.payload.get("reason") == SUBMITTED
            deadline = start.get("deadline")
            return SessionOnDisk(
                path=path,
                challenge_id=str(start.get("challenge_id")),
                candidate=start.get("candidate"),
                deadline=float(deadline) if isinstance(deadline, (int, float)) else None,
                submissions=tl.kind_counts().get("submit", 0),
                finished=finished,
                last_wall=last.wall,
                receipt=receipt_code(pack_id, last.link) if finished else None,
            )
    except (UserError, OSError, ValueError):
        return None


@dataclass
class ExamPart:
    """One challenge of an opened exam."""

    packed: packs.PackedChallenge
    challenge: Challenge
    workspace: Path
    session: Path
    hooks: ExamHooks
    submissions: int = 0
    finished: bool = False
    receipt: str | None = None

    @property
    def id(self) -> str:
        return self.packed.id

    @property
    def title(self) -> str:
        return self.packed.title


@dataclass
class Exam:
    """An exam pack and its state on this machine. See the module docstring."""

    pack_path: Path
    data: bytes
    header: packs.PackHeader
    root: Path
    opened: packs.OpenedPack | None = None
    parts: list[ExamPart] = field(default_factory=list)
    candidate: str | None = None
    deadline: float | None = None
    """The recorded deadline, Unix seconds."""
    resumed: bool = False
    on_error: Callable[[str], None] | None = None
    clock: Callable[[], float] = time.monotonic
    """The clock the deadline is counted on (tests move it forward)."""
    _key: bytes | None = None
    _deadline_mono: float = 0.0
    _watch: ExamWatch | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, pack_path: Path, home: Path | None = None) -> Exam:
        data, header = packs.read_pack_bytes(Path(pack_path))
        return cls(Path(pack_path), data, header, exam_root(header.pack_id, home))

    @property
    def policy(self) -> ExamPolicy:
        return self.header.policy

    @property
    def pack_id(self) -> str:
        return self.header.pack_id

    @property
    def sessions_dir(self) -> Path:
        return self.root / "sessions"

    # ---------------------------------------------------------------- before the code

    def sessions_on_disk(self) -> list[SessionOnDisk]:
        if not self.sessions_dir.is_dir():
            return []
        found = [read_session(p, self.pack_id)
                 for p in sorted(self.sessions_dir.glob(f"*{store.SUFFIX}"))]
        return [s for s in found if s is not None]

    @property
    def status(self) -> str:
        """new (never opened here), in progress, or finished (every challenge submitted)."""
        found = self.sessions_on_disk()
        if not found:
            return "new"
        if len(found) >= len(self.header.titles) and all(s.finished for s in found):
            return "finished"
        return "in progress"

    def recorded_candidate(self) -> str | None:
        return next((s.candidate for s in self.sessions_on_disk() if s.candidate), None)

    def _refused_path(self) -> Path:
        return self.root / REFUSED_CODES

    def _ensure_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(self.root, 0o700)

    def note_refused_code(self) -> None:
        """A wrong start code: its time is kept (only its time), to be recorded at opening."""
        try:
            self._ensure_root()
            with self._refused_path().open("a", encoding="utf-8") as f:
                f.write(json.dumps({"wall": round(time.time(), 3)}) + "\n")
        except OSError:
            pass  # a read-only data folder must not turn a wrong code into a crash

    def _refused_codes(self) -> list[float]:
        try:
            lines = self._refused_path().read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        walls = []
        for line in lines[-1000:]:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                walls.append(float(json.loads(line)["wall"]))
        return walls

    def check_code(self, code: str) -> None:
        """Check a start code without decrypting anything: WrongCode (its time noted) when it
        does not open this pack; otherwise the key is kept (in memory) for ``unlock``."""
        try:
            self._key, _ = packs.check_code(self.header, code)
        except packs.WrongCode:
            self.note_refused_code()
            raise

    def unlock(self, code: str | None = None) -> None:
        """Decrypt the pack into memory, with ``code`` (checked first) or the code already
        checked. WrongCode when the code does not open it: nothing is decrypted."""
        if code is not None:
            self.check_code(code)
        if self._key is None:
            raise RuntimeError("no start code was checked")
        self.opened = packs.decrypt(self.data, self.header, self._key)

    # ---------------------------------------------------------------- opening

    def start(self, candidate: str | None, terminal_size: tuple[int, int] | None = None,
              sample_interval: float | None = 1.0) -> None:
        """Open (or resume) every challenge's session; the clock starts (or continues)."""
        if self.opened is None:
            raise RuntimeError("unlock the exam first")
        # The candidate controls this process's environment: a sandbox mode forced through it
        # (a developer's switch) could downgrade every run to one that does not isolate the
        # file system. An exam always runs in the best mode the machine allows; a forced mode
        # is dropped and recorded for the reviewer.
        forced_sandbox = os.environ.pop(ENV_FORCE, None)
        self._ensure_root()
        on_disk = {s.challenge_id: s for s in self.sessions_on_disk()}
        self.resumed = bool(on_disk)
        recorded = [s.deadline for s in on_disk.values() if s.deadline is not None]
        now = time.time()
        self.deadline = min(recorded) if recorded else now + self.policy.time_minutes * 60
        self.candidate = next((s.candidate for s in on_disk.values() if s.candidate), None) \
            or (candidate or "").strip() or None
        last_wall = max((s.last_wall for s in on_disk.values()), default=now)
        # Time never runs backwards against the log: a clock set back counts from the log.
        self._deadline_mono = self.clock() + self.deadline - max(now, last_wall)
        refused = self._refused_codes()
        slug = candidate_slug(self.candidate or "")
        for packed in self.opened.challenges:
            self.parts.append(self._open_part(packed, on_disk.get(packed.id), slug,
                                              terminal_size, sample_interval))
        for part in self.parts:
            if part.hooks.recorder is None:
                continue
            if refused:
                part.hooks.recorder.record("start_code_refused", count=len(refused),
                                           walls=refused)
            if forced_sandbox is not None:
                part.hooks.recorder.record("sandbox_env_ignored", name=ENV_FORCE,
                                           value=forced_sandbox[:100])
            if now < last_wall - CLOCK_JUMP_S:
                part.hooks.recorder.record(
                    "clock_jump", jump_s=round(now - last_wall, 3), wall_now=round(now, 3),
                    across_resume=True)
            if part.submissions >= self.policy.submissions:
                self.finish(part)  # its last submission was recorded, then the app died
        self._clear_refused(bool(refused))
        self._watch = ExamWatch(self.record_all, processes=self.policy.record_processes,
                                started_wall=now)
        self._watch.start()

    def _clear_refused(self, had: bool) -> None:
        if not had:
            return
        for part in self.parts:
            if part.hooks.recorder is not None:
                part.hooks.recorder.flush()
        self._refused_path().unlink(missing_ok=True)

    def start_facts(self) -> dict[str, Any]:
        """session_start's ``exam`` table."""
        return {
            "pack_id": self.pack_id,
            "pack_created": self.header.created,
            "policy": self.policy.to_json(),
            "ai_assistants": "allowed" if self.policy.ai_assistants else "not allowed",
            "challenges": [c.id for c in self.opened.challenges] if self.opened else [],
        }

    def _materialise(self, packed: packs.PackedChallenge) -> Challenge:
        """The candidate-visible part of a challenge, as a challenge folder (no hidden tests,
        no solution: both folders exist and are empty)."""
        folder = self.root / "challenges" / packed.id
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / "challenge.toml").write_text(packs.manifest_toml(packed.manifest),
                                               encoding="utf-8")
        for rel, data in packed.files.items():
            if rel.startswith("tests/hidden/"):
                continue
            dest = folder / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        for empty in ("tests/hidden", "tests/visible", "starter", "solution"):
            (folder / empty).mkdir(parents=True, exist_ok=True)
        return load_challenge(folder)

    def _open_part(self, packed: packs.PackedChallenge, found: SessionOnDisk | None, slug: str,
                   terminal_size: tuple[int, int] | None,
                   sample_interval: float | None) -> ExamPart:
        challenge = self._materialise(packed)
        workspace = self.root / "workspaces" / packed.id
        if not workspace.is_dir() or not any(workspace.iterdir()):
            init_workspace(challenge, workspace)
        self.sessions_dir.mkdir(parents=True, exist_ok=True)
        path = found.path if found else self.sessions_dir / f"{slug}-{packed.id}{store.SUFFIX}"
        hooks = ExamHooks(self.policy.feedback)
        part = ExamPart(packed, challenge, workspace, path, hooks)
        if found is not None and found.finished:
            part.submissions, part.finished, part.receipt = found.submissions, True, found.receipt
            return part
        hooks.recorder = SessionRecorder.open_or_resume(
            path, challenge_id=packed.id, challenge_hash=packed.content_hash, mode="exam",
            deadline=self.deadline, candidate=self.candidate,
            files=read_workspace(workspace, challenge.generated_files), terminal_size=terminal_size,
            start_extra={"exam": self.start_facts()}, on_error=self._error,
        )
        hooks.path, hooks.workspace = path, workspace
        hooks.generated = challenge.generated_files
        part.submissions = found.submissions if found else 0
        if sample_interval:
            hooks.recorder.start_sampling(sample_interval)
        return part

    def _error(self, message: str) -> None:
        if self.on_error is not None:
            self.on_error(message)

    # ---------------------------------------------------------------- during the exam

    def seconds_left(self) -> float:
        return self._deadline_mono - self.clock()

    @property
    def deadline_monotonic(self) -> float:
        """The deadline on time.monotonic(): what the countdown shows."""
        return self._deadline_mono

    def part(self, challenge_id: str) -> ExamPart:
        return next(p for p in self.parts if p.id == challenge_id)

    @property
    def open_parts(self) -> list[ExamPart]:
        return [p for p in self.parts if not p.finished]

    @property
    def over(self) -> bool:
        return bool(self.parts) and all(p.finished for p in self.parts)

    def record_all(self, kind: str, **payload: Any) -> None:
        """An exam-wide event (a clock jump, programs started) into every open session."""
        for part in self.open_parts:
            if part.hooks.recorder is not None:
                part.hooks.recorder.record(kind, **payload)

    def submissions_left(self, part: ExamPart) -> int:
        return 0 if part.finished else max(0, self.policy.submissions - part.submissions)

    def check(self, challenge: Challenge, workspace: Path, suite: str,
              on_event: Callable[[Any], None] | None = None,
              cancel: threading.Event | None = None,
              runs: WarmRuns | None = None) -> CheckResult | HiddenFeedback:
        """The exam's checker: visible runs as in practice (through `runs`, a run prepared
        ahead, when given); hidden runs from the pack, in memory, never prepared ahead, cut to
        the policy before anything leaves this function."""
        if suite != "hidden":
            return run_check(challenge, workspace, "visible", on_event=on_event, cancel=cancel,
                             runs=runs)
        from tui_assess.exam.hidden import run_hidden

        part = self.part(challenge.id)
        result = run_hidden(part.packed, challenge, workspace, cancel=cancel,
                            on_event=_outcome_free(on_event, self.policy.feedback))
        return apply_policy(result, self.policy.feedback)

    def submitted(self, part: ExamPart) -> bool:
        """A submission was recorded; True when it was the last one allowed (then the
        challenge is finished: its session closed, its receipt made)."""
        part.submissions += 1
        if part.submissions >= self.policy.submissions:
            self.finish(part)
            return True
        return False

    def hand_in(self, part: ExamPart) -> HiddenFeedback | None:
        """Hand a challenge in as its workspace is on disk now (time-up, or the candidate
        finishing the exam): a hidden run cut to the policy, the submission, the session
        closed. None when the hidden run itself failed: the files are handed in all the same
        (the reviewer's regrade is what counts)."""
        hooks = part.hooks
        hooks.run_started("hidden")
        try:
            result: HiddenFeedback | None = self.check(part.challenge, part.workspace,
                                                       "hidden")  # type: ignore[assignment]
        except Exception as exc:
            if hooks.recorder is not None:
                hooks.recorder.record("hand_in_run_failed", reason=str(exc))
            result = None
        if result is not None:
            hooks.run_finished("hidden", result)
            hooks.submitted(result)
        elif hooks.recorder is not None:
            hooks.recorder.submit(read_workspace(part.workspace, hooks.generated),
                                  feedback=self.policy.feedback)
        part.submissions += 1
        self.finish(part)
        return result

    def finish(self, part: ExamPart, time_up: bool = False) -> str:
        """Close a challenge's session for good and return its receipt."""
        with self._lock:
            if part.finished and part.receipt is not None:
                return part.receipt
            rec = part.hooks.recorder
            if rec is None:
                raise RuntimeError(f"{part.id}: no open session")
            if time_up:
                rec.time_up()
            link = rec.close(SUBMITTED)
            part.hooks.recorder = None
            part.hooks.final_link = link
            part.finished = True
            part.receipt = receipt_code(self.pack_id, link)
            if self.over and self._watch is not None:
                self._watch.stop()
            return part.receipt

    def close(self) -> None:
        """Quit mid-exam: every open session is closed (and resumable); the clock runs on."""
        if self._watch is not None:
            self._watch.stop()
        for part in self.parts:
            if part.hooks.recorder is not None:
                part.hooks.session_ended()

    def receipts(self) -> list[tuple[str, str | None, Path]]:
        """(title, receipt, session file) per challenge."""
        return [(p.title, p.receipt, p.session) for p in self.parts]


def _outcome_free(on_event: Callable[[Any], None] | None,
                  feedback: str) -> Callable[[Any], None] | None:
    """The live events of a hidden run as the policy allows: test names (never messages)
    under ``names``; resource samples only otherwise."""
    if on_event is None:
        return None
    from tui_assess.judge.types import TestFinished, TestOutcome, TestStarted

    def forward(event: Any) -> None:
        if isinstance(event, TestStarted | TestFinished):
            if feedback != "names":
                return
            if isinstance(event, TestFinished):
                o = event.outcome
                event = TestFinished(TestOutcome(o.nodeid, o.name, o.file, o.status,
                                                 o.duration_s, ""))
        elif type(event).__name__ == "OutputChunk":
            return  # a hidden run's output is never shown
        on_event(event)

    return forward
