"""Run a folder of pytest tests against a copy of a workspace, inside the sandbox.

`run_tests(spec, on_event, cancel)` blocks until the run is over (call it from a worker
thread in a UI). It never modifies spec.workspace, streams events from background threads,
and guarantees no process of the run is left when it returns.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from tui_assess.runner._supervisor import descendants as _descendants
from tui_assess.runner.sandbox import SUPERVISOR, RunCgroup, choose_mode, guarantees
from tui_assess.runner.snapshot import digest_tree, not_workspace
from tui_assess.runner.types import (
    LimitHit,
    OutputChunk,
    Resources,
    ResourceSample,
    RunEvent,
    RunResult,
    RunSpec,
    RunStatus,
    TestFinished,
    TestOutcome,
    TestStarted,
)
from tui_assess.safecopy import copy_tree

PLUGIN = Path(__file__).with_name("_plugin.py")
SAMPLE_INTERVAL_S = 0.05  # 20 Hz: short peaks still show up; rusage covers the rest
EVENT_EVERY_N_SAMPLES = 2  # resource events to the UI at 10 Hz
OUTPUT_FLUSH_S = 0.1
FSIZE_BYTES = 512 * 1024 * 1024
KILL_GRACE_S = 5.0

EventSink = Callable[[RunEvent], None]


class _Run:
    """State shared by the threads of one run."""

    def __init__(self, spec: RunSpec, on_event: EventSink | None, cancel: threading.Event):
        self.spec = spec
        self.on_event = on_event
        self.cancel = cancel
        self.stop = threading.Event()  # set when the run must end now
        self.limit_hit: LimitHit | None = None
        self.limit_detail = ""
        self.cancelled = False
        self.output = bytearray()
        self.output_total = 0
        self.output_lock = threading.Lock()
        self.tests: dict[str, TestOutcome] = {}
        self.order: list[str] = []
        self.collect_errors: list[TestOutcome] = []
        self.pytest_exit: int | None = None
        self.samples: list[ResourceSample] = []
        self.peak_rss_mb = 0.0
        self.max_procs = 0
        self.cpu_by_proc: dict[tuple[int, float], float] = {}
        self.seen: dict[int, float] = {}  # pid -> create_time of every process seen
        self.t0 = time.monotonic()
        self.ours = 1

    def emit(self, event: RunEvent) -> None:
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # noqa: BLE001 - a UI callback must never break a run
                pass

    def hit(self, what: LimitHit, detail: str) -> None:
        if self.limit_hit is None and not self.cancelled:
            self.limit_hit, self.limit_detail = what, detail
        self.stop.set()


def _read_output(run: _Run, stream: Any) -> None:
    cap = run.spec.limits.output_kb * 1024
    pending: list[bytes] = []
    last_flush = time.monotonic()
    fd = stream.fileno()
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        with run.output_lock:
            run.output_total += len(chunk)
            room = cap - len(run.output)
            if room > 0:
                run.output += chunk[:room]
                pending.append(chunk[:room])
        if run.output_total > cap:
            run.hit("output", f"{run.spec.limits.output_kb} KB")
            # Keep draining (and discarding) so the writer never blocks before it is killed.
            continue
        now = time.monotonic()
        if pending and now - last_flush >= OUTPUT_FLUSH_S:
            run.emit(OutputChunk(b"".join(pending).decode("utf-8", "replace")))
            pending.clear()
            last_flush = now
    if pending:
        run.emit(OutputChunk(b"".join(pending).decode("utf-8", "replace")))


def _split_nodeid(nodeid: str) -> tuple[str, str]:
    file, _, name = nodeid.partition("::")
    return file, (name or file)


def _read_results(run: _Run, fd: int) -> None:
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                ev = json.loads(line)
                kind = ev["event"]
            except (ValueError, KeyError, TypeError):
                continue
            if kind == "start":
                run.emit(TestStarted(str(ev.get("nodeid", ""))))
            elif kind == "result":
                nodeid = str(ev.get("nodeid", ""))
                file, name = _split_nodeid(nodeid)
                status = ev.get("status")
                outcome = TestOutcome(
                    nodeid=nodeid,
                    name=name,
                    file=file,
                    status=status if status in ("pass", "fail", "error", "skip") else "error",
                    duration_s=float(ev.get("duration", 0.0) or 0.0),
                    message=str(ev.get("message", "")),
                )
                if nodeid not in run.tests:
                    run.order.append(nodeid)
                run.tests[nodeid] = outcome
                run.emit(TestFinished(outcome))
            elif kind == "collect_error":
                nodeid = str(ev.get("nodeid", "<collection>"))
                file, _ = _split_nodeid(nodeid)
                outcome = TestOutcome(
                    nodeid=nodeid,
                    name=Path(file).name,
                    file=file,
                    status="error",
                    message=str(ev.get("message", "")),
                )
                run.collect_errors.append(outcome)
                run.emit(TestFinished(outcome))
            elif kind == "finished":
                run.pytest_exit = int(ev.get("exitstatus", 1))


def _run_pids(root_pid: int, cgroup: RunCgroup | None) -> list[int]:
    """The supervisor's descendants, plus anything in the run's cgroup."""
    pids = _descendants(root_pid)
    if cgroup is not None:
        known = set(pids)
        pids.extend(p for p in cgroup.pids() if p != root_pid and p not in known)
    return pids


def _tree(root: psutil.Process, cgroup: RunCgroup | None) -> list[psutil.Process]:
    procs = [root]
    for pid in _run_pids(root.pid, cgroup):
        with contextlib.suppress(psutil.Error):
            procs.append(psutil.Process(pid))
    return procs


def _pss_bytes(p: psutil.Process) -> int:
    """Proportional set size: shared pages (fork, COW) counted once across the tree."""
    try:
        with open(f"/proc/{p.pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return int(p.memory_info().rss)


def _monitor(run: _Run, root: psutil.Process, cgroup: RunCgroup | None) -> None:
    limits = run.spec.limits
    last_cpu, last_t, n = 0.0, time.monotonic(), 0
    while not run.stop.is_set():
        procs = _tree(root, cgroup)
        rss = 0
        tasks = 0
        for p in procs[1:]:
            with contextlib.suppress(psutil.Error):
                tasks += p.num_threads()
        for p in procs:
            try:
                with p.oneshot():
                    rss += _pss_bytes(p)
                    ct = p.cpu_times()
                    key = (p.pid, p.create_time())
                    run.cpu_by_proc[key] = ct.user + ct.system
                    run.seen[p.pid] = key[1]
            except psutil.Error:
                continue
        # The supervisor (and, with namespaces, its init) are ours, not the candidate's.
        count = max(0, len(procs) - run.ours)
        rss_mb = rss / 2**20
        run.peak_rss_mb = max(run.peak_rss_mb, rss_mb)
        run.max_procs = max(run.max_procs, count)
        now = time.monotonic()
        cpu = sum(run.cpu_by_proc.values())
        pct = max(0.0, (cpu - last_cpu) / max(now - last_t, 1e-6) * 100)
        last_cpu, last_t = cpu, now
        sample = ResourceSample(round(now - run.t0, 3), round(pct, 1), round(rss_mb, 1), count)
        run.samples.append(sample)
        n += 1
        if n % EVENT_EVERY_N_SAMPLES == 0:
            run.emit(sample)
        # The kernel counts threads as well as processes against the limit; so do we.
        # The kernel allows one task more than the limit (see run_tests), so reaching it is
        # proof of a run that wants more than it may have.
        if tasks - (run.ours - 1) > limits.processes:
            run.hit("processes", f"{limits.processes} processes")
        if rss_mb > limits.memory_mb:
            run.hit("memory", f"{limits.memory_mb} MB")
        if run.cancel.is_set():
            run.cancelled = True
            run.stop.set()
        run.stop.wait(SAMPLE_INTERVAL_S)


def _kill_tree(root_pid: int, cgroup: RunCgroup | None) -> None:
    """SIGKILL every process of the run until none is left (bounded)."""
    end = time.monotonic() + KILL_GRACE_S
    while time.monotonic() < end:
        # Children first: the supervisor stays alive to adopt and reap orphans.
        victims = _run_pids(root_pid, cgroup)
        if not victims:
            break
        for pid in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(root_pid, signal.SIGKILL)


def survivors(seen: dict[int, float], cgroup: RunCgroup | None = None) -> list[int]:
    """Processes of the run still alive (matched by pid and creation time)."""
    alive = []
    for pid, created in seen.items():
        try:
            p = psutil.Process(pid)
            if abs(p.create_time() - created) < 0.01 and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.Error:
            continue
    if cgroup is not None:
        alive.extend(pid for pid in cgroup.pids() if pid not in alive)
    return alive


def _env(spec: RunSpec, work: Path, fd: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TUI_ASSESS_", "PYTEST_", "COV_")) and k not in ("PYTHONPATH",)
    }
    env.update(
        TUI_ASSESS_RESULT_FD=str(fd),
        TUI_ASSESS_DETAILS="1" if spec.show_details else "0",
        TUI_ASSESS_WORKSPACE=str(work),
        PYTHONPATH=str(work.parent / "meta"),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONSAFEPATH="1",
        # Only pytest's own plugins and ours: a run does not depend on whatever else is
        # installed next to tui-assess, and starts in a quarter second instead of two.
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    return env


def _pytest_argv(tests: Path, show_details: bool) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "_tui_assess_plugin",
        "-p",
        "no:cacheprovider",
        "-c",
        str(tests / "pytest.ini"),
        "--rootdir",
        str(tests),
        "-s",
        "-q",
        "--no-header",
        "-rN",
        "--color=no",
        "--tb=short" if show_details else "--tb=no",
        str(tests),
    ]


def _user_tasks() -> int:
    """Processes and threads this user already runs: RLIMIT_NPROC counts them all."""
    uid = os.getuid()
    count = 0
    for p in psutil.process_iter(["uids", "num_threads"]):
        with contextlib.suppress(psutil.Error, TypeError):
            if p.info["uids"].real == uid:
                count += p.info["num_threads"]
    return count


def run_tests(
    spec: RunSpec,
    on_event: EventSink | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Run spec.tests against a fresh copy of spec.workspace inside the sandbox."""
    run = _Run(spec, on_event, cancel or threading.Event())
    limits = spec.limits
    mode, mode_note = choose_mode(spec.sandbox)
    is_root = os.geteuid() == 0
    rundir = Path(tempfile.mkdtemp(prefix="tui-assess-run-"))
    cgroup: RunCgroup | None = None
    try:
        work, tests, meta = rundir / "work", rundir / "tests", rundir / "meta"
        copy_tree(
            spec.workspace, work, skip=not_workspace,
            max_bytes=limits.disk_mb * 2**20, cap_name="[limits] disk_mb",
        )
        shutil.copytree(spec.tests, tests, ignore=shutil.ignore_patterns("__pycache__"))
        (tests / "pytest.ini").write_text("[pytest]\n")
        meta.mkdir()
        shutil.copy(PLUGIN, meta / "_tui_assess_plugin.py")
        snapshot = digest_tree(work)

        # +2: the supervisor and the namespace init are ours, not the candidate's.
        # `processes` tasks may live at once; the kernel allows one more, so the monitor can
        # tell a run at its limit (fine) from one pushing past it (stopped).
        cgroup = RunCgroup.create(limits.processes + 3, limits.memory_mb) if is_root else None
        if mode == "namespaces":
            nproc = limits.processes + 3
        else:
            # +8: the runner's own threads, started after the count.
            nproc = _user_tasks() + limits.processes + 9
        rfd, wfd = os.pipe()
        cfg = {
            "mode": mode,
            "argv": _pytest_argv(tests, spec.show_details),
            "cwd": str(work),
            "env": _env(spec, work, wfd),
            "cpu_seconds": limits.cpu_seconds or limits.timeout_seconds,
            "data_bytes": max(limits.memory_mb, 256) * 2 * 1024 * 1024,
            "fsize_bytes": FSIZE_BYTES,
            "nproc": None if is_root else nproc,
            "cgroup_procs": cgroup.procs_files if cgroup else [],
        }
        run.ours = 2 if mode == "namespaces" else 1
        run.t0 = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-I", str(SUPERVISOR), json.dumps(cfg)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(wfd,),
            cwd=work,
            start_new_session=True,
        )
        os.close(wfd)
        root = psutil.Process(proc.pid)
        run.seen[proc.pid] = root.create_time()
        threads = [
            threading.Thread(target=_read_output, args=(run, proc.stdout), daemon=True),
            threading.Thread(target=_read_results, args=(run, rfd), daemon=True),
            threading.Thread(target=_monitor, args=(run, root, cgroup), daemon=True),
        ]
        for t in threads:
            t.start()

        deadline = run.t0 + limits.timeout_seconds
        rusage = None
        status = None
        while True:
            pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status, rusage = st, ru
                break
            if run.cancel.is_set():
                run.cancelled = True
                run.stop.set()
            if time.monotonic() > deadline:
                run.hit("time", f"{limits.timeout_seconds:g} seconds")
            if run.stop.is_set():
                _kill_tree(proc.pid, cgroup)
                _, status, rusage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - run.t0
        # The supervisor is gone; whatever is left (there should be nothing) is killed now.
        _kill_tree(proc.pid, cgroup)
        run.stop.set()
        for t in threads:
            t.join(timeout=KILL_GRACE_S)
        with contextlib.suppress(OSError):
            proc.stdout.close()  # type: ignore[union-attr]

        left = survivors(run.seen, cgroup)
        result = _result(
            run, proc.returncode, rusage, wall, mode, mode_note, cgroup, is_root, snapshot, left
        )
        result.run_id = rundir.name
        return result
    finally:
        if cgroup is not None:
            cgroup.remove()
        shutil.rmtree(rundir, ignore_errors=True)


def _result(
    run: _Run,
    returncode: int,
    rusage: Any,
    wall: float,
    mode: str,
    mode_note: str,
    cgroup: RunCgroup | None,
    is_root: bool,
    snapshot: str,
    left: list[int],
) -> RunResult:
    limits = run.spec.limits
    tests = [run.tests[n] for n in run.order] + run.collect_errors
    cpu = sum(run.cpu_by_proc.values())
    peak = run.peak_rss_mb
    if rusage is not None:
        cpu = max(cpu, rusage.ru_utime + rusage.ru_stime)
        peak = max(peak, rusage.ru_maxrss / 1024)
    if cgroup is not None:
        peak = max(peak, cgroup.peak_memory_mb())

    # Limits the kernel enforced show up as how the tests died.
    if run.limit_hit is None and not run.cancelled:
        signame = returncode - 128 if returncode > 128 else -returncode if returncode < 0 else 0
        messages = " ".join(t.message for t in tests)
        if signame == signal.SIGXCPU:
            run.limit_hit, run.limit_detail = "time", "cpu"
        elif (
            (cgroup and cgroup.memory_limit_hit())
            or "MemoryError" in messages
            # Killed outright with the run near its memory limit: the kernel's OOM killer.
            or (signame == signal.SIGKILL and peak >= 0.9 * limits.memory_mb)
        ):
            run.limit_hit, run.limit_detail = "memory", f"{limits.memory_mb} MB"
        elif (cgroup and cgroup.pids_limit_hit()) or "Resource temporarily unavailable" in (
            messages
        ):
            run.limit_hit, run.limit_detail = "processes", f"{limits.processes} processes"

    output = run.output.decode("utf-8", "replace")
    if run.output_total > len(run.output):
        dropped = run.output_total - len(run.output)
        output += (
            f"\n[tui-assess: output cut at {limits.output_kb} KB; {dropped} more bytes discarded]\n"
        )

    reason = ""
    status: RunStatus
    if run.cancelled:
        status, reason = "cancelled", "The run was cancelled; all its processes were stopped."
    elif run.limit_hit == "time":
        status = "timeout"
        if run.limit_detail == "cpu":
            secs = limits.cpu_seconds or limits.timeout_seconds
            reason = f"A process used more than {secs:g} seconds of CPU time and was killed."
        else:
            reason = (
                f"The tests ran longer than the {limits.timeout_seconds:g}-second time limit "
                "and were stopped."
            )
    elif run.limit_hit == "memory":
        status = "limit"
        reason = f"The tests used more than {limits.memory_mb} MB of memory and were stopped."
    elif run.limit_hit == "processes":
        status = "limit"
        reason = (
            f"The tests tried to run more than {limits.processes} processes (or threads) at once "
            "(a fork storm?) and were stopped."
        )
    elif run.limit_hit == "output":
        status = "limit"
        reason = (
            f"The tests printed more than {limits.output_kb} KB of output; the rest was "
            "discarded and the run was stopped."
        )
    elif returncode == 125 and "tui-assess-sandbox:" in output:
        status = "error"
        reason = (
            "The sandbox could not start the tests: "
            + output.split("tui-assess-sandbox:")[-1].strip().splitlines()[0]
        )
    elif run.collect_errors:
        status = "error"
        reason = f"{len(run.collect_errors)} test file(s) could not be loaded; see the messages."
    elif not tests:
        status = "error"
        reason = "No tests ran" + (
            " (pytest found none)." if run.pytest_exit == 5 else f" (exit code {returncode})."
        )
    elif any(t.status in ("fail", "error") for t in tests):
        status = "fail"
    elif run.pytest_exit not in (0, None) or returncode not in (0,):
        status = "error"
        reason = f"The test process ended abnormally (exit code {returncode})."
    else:
        status = "pass"
    if mode_note:
        reason = (reason + " " if reason else "") + f"Sandbox: {mode_note}."
    if left:
        reason += f" {len(left)} process(es) survived the run and were killed."

    return RunResult(
        status=status,
        tests=tests,
        resources=Resources(
            wall_s=wall,
            cpu_s=cpu,
            peak_rss_mb=peak,
            max_procs=run.max_procs,
            limit_hit=run.limit_hit,
        ),
        sandbox=mode,
        guarantees=guarantees(mode, cgroup, is_root),
        snapshot=snapshot,
        output=output,
        reason=reason.strip(),
        samples=run.samples,
    )
