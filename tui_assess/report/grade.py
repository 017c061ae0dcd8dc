"""Regrading: rebuild each session's submitted snapshot, run the hidden suite, compare.

The work is split so it can run anywhere: :func:`plan` reads the session files (here),
:class:`GradeTask` carries everything a worker needs as plain data (the submitted files and the
challenge's files, bytes), and :func:`run_task` -- a top-level function, so a process pool or a
Dask worker can call it -- materialises both in a private temporary folder and calls the public
``run_check(challenge, workspace, "hidden")``. Results come back as data and are stored by the
caller, one commit per result (:mod:`tui_assess.report.results`).

Where the work runs: in this process (``jobs=1``), in ``jobs`` processes, or on an existing Dask
cluster (``dask_address``, the optional ``[dask]`` extra). ``shard=(i, n)`` keeps the
deterministic i-th of n slices (by the grade key), so a CI matrix or a Kubernetes Indexed Job
can split a folder with nothing else.
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from tui_assess.challenge.model import Challenge, load_challenge
from tui_assess.errors import UserError
from tui_assess.report.exam import Receipts, receipt_for, receipt_status
from tui_assess.report.facts import SessionFacts, unreadable
from tui_assess.report.results import Grade, ResultsStore
from tui_assess.session.timeline import Timeline
from tui_assess.session.verify import verify
from tui_assess.snapshot import snapshot_digest

#: Statuses of one session's row.
MATCH, MISMATCH, NO_RECORD, TAMPERED, UNREADABLE, NO_CHALLENGE, FAILED = (
    "match", "mismatch", "no-record", "tampered", "unreadable", "no-challenge", "failed")
RECEIPT_MISMATCH = "receipt-mismatch"
"""An intact exam session whose receipt (``--receipts``) does not match: not the file
submitted, so not graded."""


#: How a result says the grading itself failed (and is therefore never stored).
FAILED_PREFIX = "could not grade:"

# --------------------------------------------------------------------------- the work unit


@dataclass(frozen=True)
class GradeTask:
    """Everything a worker needs to grade one snapshot: plain data, no paths it must share."""

    key: str
    """snapshot:challenge_hash, the results file's key."""
    snapshot: str
    challenge_id: str
    challenge_hash: str
    files: dict[str, bytes]
    """The submitted workspace (relative POSIX path -> bytes)."""
    challenge_files: dict[str, bytes]
    """Every file of the challenge folder (hidden tests included)."""


def safe_relpath(path: str) -> PurePosixPath:
    """A recorded path as a relative path inside the folder, or ValueError.

    Paths in a session are candidate-controlled: an absolute path or ``..`` must never write
    outside the folder a worker grades in.
    """
    rel = PurePosixPath(path)
    if not path or rel.is_absolute() or ".." in rel.parts or "\\" in path or "\0" in path:
        raise ValueError(f"unsafe path {path!r} in the recorded files")
    return rel


def materialise(root: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        dest = root.joinpath(*safe_relpath(path).parts)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)


def worker_probe() -> dict[str, Any]:
    """What isolation a worker can give, checked where it runs: each sandbox mode's
    availability (user namespaces, the kernel's Landlock ABI, the rlimits fallback) and the mode
    a run would get. Each result also carries the sandbox its own run really had."""
    facts: dict[str, Any] = {"host": socket.gethostname(), "pid": os.getpid(),
                             "python": platform.python_version()}
    try:  # the sandbox package: which modes this machine and user offer, and why not
        from tui_assess.sandbox import modes

        order, note = modes.requested_order("auto")
        why = {m: modes.unavailable(m) for m in modes.MODES}
        facts.update(modes={m: why[m] or "available" for m in modes.MODES},
                     landlock_abi=modes.landlock_abi(),
                     sandbox=next((m for m in order if not why[m]), "none"), note=note)
    except Exception as exc:  # a worker without a usable probe says so, it does not die
        facts.update(sandbox="unknown", note=f"{type(exc).__name__}: {exc}")
    return facts


def describe_probe(probe: dict[str, Any]) -> str:
    """One line for a worker: the mode its runs get, and what else the machine offers."""
    words = f"sandbox {probe.get('sandbox')}"
    if probe.get("note"):
        words += f" ({probe['note']})"
    modes = probe.get("modes") or {}
    if modes:
        abi = probe.get("landlock_abi")
        words += "; " + ", ".join(
            f"{m}{f' ABI {abi}' if m == 'landlock' and abi else ''}: {state}"
            for m, state in modes.items())
    return words


def _failed(task: GradeTask, worker: dict[str, Any], why: str) -> dict[str, Any]:
    return {"status": "error", "tests": [], "score": None, "max_score": None, "groups": {},
            "snapshot": task.snapshot, "sandbox": "none", "reason": f"{FAILED_PREFIX} {why}",
            "worker": worker}


def run_task(task: GradeTask) -> dict[str, Any]:
    """Grade one snapshot (in any process): the hidden suite's check result as JSON, plus
    ``worker`` (host, pid, sandbox). Never raises for a bad snapshot: it reports it."""
    from tui_assess.challenge.check import run_check

    worker = {"host": socket.gethostname(), "pid": os.getpid()}
    with tempfile.TemporaryDirectory(prefix="tui-assess-grade-") as tmp:
        base = Path(tmp)
        try:
            if snapshot_digest(task.files) != task.snapshot:
                raise ValueError("the files do not match their snapshot digest")
            challenge_dir = base / "challenge" / task.challenge_id
            materialise(challenge_dir, task.challenge_files)
            materialise(base / "work", task.files)
            (base / "work").mkdir(exist_ok=True)
            challenge = load_challenge(challenge_dir)
            if challenge.content_hash() != task.challenge_hash:
                raise ValueError("the challenge files do not match their content hash")
            result = run_check(challenge, base / "work", "hidden").to_json()
        except (ValueError, UserError, OSError) as exc:
            return _failed(task, worker, str(exc))
        except Exception as exc:  # one broken run must not end a batch of hundreds
            return _failed(task, worker, f"{type(exc).__name__}: {exc}")
    worker["sandbox"] = result.get("sandbox")
    result["worker"] = worker
    return result


# --------------------------------------------------------------------------- comparing


def _keyed(tests: Iterable[Any]) -> dict[tuple[str, int], str]:
    """{(name, occurrence): status}: two tests may share a name in different files."""
    seen: dict[str, int] = {}
    out: dict[tuple[str, int], str] = {}
    for t in tests:
        if not isinstance(t, dict):
            continue
        name = str(t.get("name"))
        n = seen.get(name, 0)
        seen[name] = n + 1
        out[(name, n)] = str(t.get("status"))
    return out


def compare_tests(recorded: Iterable[Any], regraded: Iterable[Any]) -> list[dict[str, Any]]:
    """The tests whose status differs (a test missing on one side is ``missing`` there)."""
    a, b = _keyed(recorded), _keyed(regraded)
    out = []
    for key in list(a) + [k for k in b if k not in a]:
        ra, rb = a.get(key, "missing"), b.get(key, "missing")
        if ra != rb:
            out.append({"name": key[0], "recorded": ra, "regraded": rb})
    return out


# --------------------------------------------------------------------------- planning


@dataclass
class SessionGrade:
    """One session's row: what was recorded, what the regrade found, and whether they agree."""

    session: str
    status: str
    """match | mismatch | no-record | tampered | receipt-mismatch | unreadable | no-challenge |
    failed"""
    reason: str = ""
    candidate: str | None = None
    challenge: str | None = None
    key: str | None = None
    submitted: bool = False
    recorded: dict[str, Any] | None = None
    regraded: dict[str, Any] | None = None
    differences: list[dict[str, Any]] = field(default_factory=list)
    cached: bool = False
    """True when the regrade came from the results file (graded before)."""
    challenge_changed: bool = False
    """The challenge graded against differs from the one the session recorded."""
    receipt: dict[str, Any] | None = None
    """Whether the receipt given for it matches (``report.exam.receipt_status``); None for a
    practice session nobody gave a receipt for."""

    def to_json(self) -> dict[str, Any]:
        return {
            "session": self.session, "status": self.status, "reason": self.reason,
            "candidate": self.candidate, "challenge": self.challenge, "key": self.key,
            "submitted": self.submitted, "recorded": self.recorded, "regraded": self.regraded,
            "differences": self.differences, "cached": self.cached,
            "challenge_changed": self.challenge_changed, "receipt": self.receipt,
        }


@dataclass
class Planned:
    row: SessionGrade
    task: GradeTask | None = None
    recorded_tests: list[Any] = field(default_factory=list)


def find_challenge(challenge_id: str, search: Iterable[Path]) -> Challenge | None:
    """A challenge by id: in each folder of ``search`` (a challenge folder, or a folder of
    them), then the bundled set."""
    from tui_assess.challenge.catalog import bundled_dir

    for root in [*search, bundled_dir()]:
        for cand in (root, root / challenge_id):
            if (cand / "challenge.toml").is_file():
                try:
                    ch = load_challenge(cand)
                except UserError:
                    continue
                if ch.id == challenge_id:
                    return ch
    return None


def challenge_files(ch: Challenge) -> dict[str, bytes]:
    """The challenge folder as data, as content_hash sees it."""
    return ch.folder_files()


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    return {"status": run.get("status"), "score": run.get("score"),
            "max_score": run.get("max_score"), "sandbox": run.get("sandbox")}


def plan_one(path: Path, challenges: dict[str, tuple[Challenge, dict[str, bytes]] | None],
             search: list[Path], receipts: Receipts | None = None) -> Planned:
    """Read one session: verify it (and its receipt, when one is given), rebuild its
    submission, find its recorded result."""
    row = SessionGrade(str(path), UNREADABLE)
    try:
        report = verify(path)
        if not report.ok:
            row.status, row.reason = TAMPERED, report.reason
            code = receipts.code_for(path) if receipts is not None else None
            if code is not None:
                row.receipt = receipt_status(path, False, code)
            return Planned(row)
        with Timeline.open(path) as tl:
            facts = SessionFacts(tl)
            sub = facts.submission()
            recorded = facts.recorded_result(sub.seq)
            row.receipt = receipt_for(facts, path, True, receipts)
    except UserError as exc:
        row.reason = str(exc)
        return Planned(row)
    except OSError as exc:
        row.reason = str(unreadable(path, exc))
        return Planned(row)
    start = facts.start
    row.candidate, row.challenge = start.get("candidate"), start.get("challenge_id")
    row.submitted = sub.submitted
    if row.receipt is not None and row.receipt["status"] == "does-not-match":
        row.status, row.reason = RECEIPT_MISMATCH, row.receipt["reason"]
        return Planned(row)
    cid = str(row.challenge)
    if cid not in challenges:
        ch = find_challenge(cid, search)
        challenges[cid] = (ch, challenge_files(ch)) if ch is not None else None
    found = challenges[cid]
    if found is None:
        row.status = NO_CHALLENGE
        row.reason = (f"challenge {cid!r} is not bundled and not in the folders given with "
                      "--challenges.")
        return Planned(row)
    ch, files = found
    chash = ch.content_hash()
    row.challenge_changed = chash != start.get("challenge_hash")
    row.key = f"{sub.snapshot}:{chash}"
    row.recorded = _summary(recorded) if recorded else None
    task = GradeTask(row.key, sub.snapshot, ch.id, chash, sub.file_bytes(), files)
    return Planned(row, task, list(recorded.get("tests") or []) if recorded else [])


def conclude(planned: Planned, grade: Grade, cached: bool) -> SessionGrade:
    """Fill a planned row from its regrade: match, mismatch, no record, or failed."""
    row = planned.row
    row.cached = cached
    row.regraded = {**_summary(grade.result), "worker": grade.result.get("worker"),
                    "graded_at": grade.graded_at}
    if grade.status == "error" and not grade.result.get("tests"):
        row.status, row.reason = FAILED, str(grade.result.get("reason") or "the regrade failed")
        return row
    if row.recorded is None:
        row.status = NO_RECORD
        row.reason = ("nothing recorded to compare with: the session has no hidden-suite run"
                      + ("" if row.submitted else " and was never submitted") + ".")
        return row
    row.differences = compare_tests(planned.recorded_tests, grade.result.get("tests", []))
    if row.differences:
        row.status = MISMATCH
        names = ", ".join(f"{d['name']} (recorded {d['recorded']}, regraded {d['regraded']})"
                          for d in row.differences)
        row.reason = f"the regrade differs from the recorded result: {names}."
    else:
        row.status = MATCH
        row.reason = "the regrade agrees with the recorded result, test by test."
    if row.challenge_changed:
        row.reason += " Note: the challenge changed since the session was recorded."
    return row


def in_shard(key: str, shard: tuple[int, int] | None) -> bool:
    """Deterministic slice by key: shard (i, n), 1 <= i <= n."""
    if shard is None:
        return True
    i, n = shard
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % n == i - 1


def parse_shard(text: str) -> tuple[int, int]:
    """``I/N`` with 1 <= I <= N, or UserError."""
    try:
        i_text, n_text = text.split("/")
        i, n = int(i_text), int(n_text)
    except ValueError:
        raise UserError(f"--shard {text!r} is not I/N (for example 1/4).") from None
    if not 1 <= i <= n:
        raise UserError(f"--shard {text!r}: I must be between 1 and N.")
    return i, n


# --------------------------------------------------------------------------- running


Progress = Callable[[SessionGrade], None]


@dataclass
class GradeRun:
    """The outcome of :func:`grade_sessions`."""

    rows: list[SessionGrade]
    workers: dict[str, dict[str, Any]]
    """Per worker: what its probe found at start (host, pid, sandbox, note)."""
    graded: int
    """Snapshots graded in this run (the rest came from the results file)."""
    skipped: int
    """Sessions left to other shards."""
    receipts_unmatched: list[str] = field(default_factory=list)
    """Keys of the --receipts mapping that named no session file given."""

    @property
    def exit_code(self) -> int:
        statuses = {r.status for r in self.rows}
        if statuses & {UNREADABLE, NO_CHALLENGE}:
            return 2
        return 1 if statuses & {MISMATCH, TAMPERED, FAILED, RECEIPT_MISMATCH} else 0

    def to_json(self) -> dict[str, Any]:
        return {"sessions": [r.to_json() for r in self.rows], "workers": self.workers,
                "graded": self.graded, "skipped": self.skipped,
                "receipts_unmatched": self.receipts_unmatched, "ok": self.exit_code == 0}


def _execute(tasks: list[GradeTask], jobs: int, dask_address: str | None,
             workers: dict[str, dict[str, Any]]) -> Iterable[tuple[GradeTask, dict[str, Any]]]:
    """Yield (task, result) as results arrive, wherever the work runs."""
    if not tasks:
        return
    if dask_address is not None:
        yield from _execute_dask(tasks, dask_address, workers)
        return
    if jobs <= 1:
        probe = worker_probe()
        workers[f"{probe['host']}:{probe['pid']}"] = probe
        for task in tasks:
            yield task, run_task(task)
        return
    import multiprocessing

    # spawn: a fresh interpreter per worker, nothing inherited from this process's threads.
    with ProcessPoolExecutor(max_workers=jobs,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(run_task, t): t for t in tasks}
        try:
            for fut in as_completed(futures):
                result = fut.result()
                w = result.get("worker") or {}
                workers.setdefault(f"{w.get('host')}:{w.get('pid')}", dict(w))
                yield futures[fut], result
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _execute_dask(tasks: list[GradeTask], address: str,
                  workers: dict[str, dict[str, Any]]) -> Iterable[tuple[GradeTask, dict[str, Any]]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise UserError(
            "--dask needs Dask distributed: pip install 'tui-assess[dask]'."
        ) from None
    try:
        client = Client(address, timeout=30)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UserError(f"cannot reach the Dask scheduler at {address}: {exc}.") from None
    try:
        for addr, probe in client.run(worker_probe).items():
            workers[str(addr)] = probe
        futures = client.map(run_task, tasks, key=[f"grade-{t.key}" for t in tasks], pure=False)
        by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        for fut in dask_completed(futures):
            yield by_key[fut.key], fut.result()
    finally:
        client.close()


def expand_sessions(paths: Iterable[Path]) -> list[Path]:
    """Session files as given, a folder standing for every ``*.tasession`` under it."""
    from tui_assess.session.store import SUFFIX

    paths = list(paths)
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        try:
            folder = p.is_dir()
        except OSError:  # not even its type can be read: grading reports it, one row
            folder = False
        out += sorted(p.rglob(f"*{SUFFIX}")) if folder else [p]
    if not out:
        raise UserError(f"no session files (*{SUFFIX}) in {', '.join(map(str, paths))}.")
    return out


def grade_sessions(
    sessions: list[Path],
    *,
    results: Path,
    jobs: int = 1,
    shard: tuple[int, int] | None = None,
    dask_address: str | None = None,
    challenge_dirs: list[Path] | None = None,
    progress: Progress | None = None,
    regrade: bool = False,
    receipts: Receipts | None = None,
) -> GradeRun:
    """Regrade every session (see the module docstring); results stored in ``results``.
    With ``receipts``, an exam session whose receipt does not match is not graded."""
    search = list(challenge_dirs or [])
    challenges: dict[str, tuple[Challenge, dict[str, bytes]] | None] = {}
    planned = [plan_one(Path(s), challenges, search, receipts) for s in sessions]
    rows: list[SessionGrade] = []
    skipped = 0
    waiting: dict[str, list[Planned]] = {}
    workers: dict[str, dict[str, Any]] = {}
    graded = 0
    with ResultsStore(results) as store:
        for p in planned:
            if not in_shard(p.task.key if p.task else p.row.session, shard):
                skipped += 1
                continue
            if p.task is None:
                rows.append(p.row)
                if progress:
                    progress(p.row)
                continue
            stored = None if regrade else store.get(p.task.snapshot, p.task.challenge_hash)
            if stored is not None:
                rows.append(conclude(p, stored, cached=True))
                if progress:
                    progress(rows[-1])
                continue
            waiting.setdefault(p.task.key, []).append(p)
        tasks = [group[0].task for group in waiting.values() if group[0].task is not None]
        for task, result in _execute(tasks, jobs, dask_address, workers):
            if str(result.get("reason", "")).startswith(FAILED_PREFIX):
                # the grading failed, not the candidate: not stored, so the next run retries
                grade = Grade(task.snapshot, task.challenge_hash, task.challenge_id, "error",
                              None, None, result, time.time())
            else:
                grade = store.put(task.challenge_id, result, snapshot=task.snapshot,
                                  challenge_hash=task.challenge_hash)
            graded += 1
            for p in waiting.pop(task.key, []):
                rows.append(conclude(p, grade, cached=False))
                if progress:
                    progress(rows[-1])
    order = {str(s): i for i, s in enumerate(sessions)}
    rows.sort(key=lambda r: order.get(r.session, 0))
    return GradeRun(rows, workers, graded, skipped,
                    receipts.unused() if receipts is not None else [])
