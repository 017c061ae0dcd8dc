"""Run a suite against a copy of a workspace: `run_suite(spec, on_event, cancel) -> RunResult`.

The runner stages safe copies of the workspace and the suite, opens a `SandboxRun`, places the
workspace copy and the host runtime in the run's area (what candidates may see) and the suite
in its private folder, and starts the trusted judge (`python -m tui_assess.judge`) with a
pipe only it holds. The judge starts the candidate host through the sandbox, runs the suite,
and streams signed results: the tests it collected, then each test's start and result.

A test the judge collected but never reported fails with a plain reason, a stream that is
not signed by the judge fails the whole run, and a run with a missing test is never `pass`.
Blocks until the run is over (call it from a worker thread in a UI); never modifies
spec.workspace; leaves no process of the run behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_assess.judge.__main__ import not_dumpable
from tui_assess.judge.plugin import HOST_FILES, suite_lines, verify_line, withhold_quotes
from tui_assess.judge.types import (
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
from tui_assess.sandbox import events as sev
from tui_assess.sandbox.run import SandboxRun
from tui_assess.sandbox.spec import SandboxError
from tui_assess.snapshot import digest_tree, not_workspace

EventSink = Callable[[RunEvent], None]

JUDGE_GRACE_S = 10.0
"""How long the judge may take to finish after the candidates were stopped (a limit hit)."""
OUTPUT_FLUSH_S = 0.1
VERDICTS = (
    "Every verdict comes from a judge process outside the candidate's: the tests, their "
    "fixtures and every assertion run there, the candidate's code runs in a separate, "
    "sandboxed process, and only plain data and references cross between them."
)
"""The `guarantees["verdicts"]` row of every run."""
KEY_ENV = "TUI_ASSESS_RESULT_KEY"
_HERE = Path(__file__).parent


@dataclass
class _State:
    """What the threads of one run share."""

    spec: RunSpec
    on_event: EventSink | None
    key: bytes
    collected: list[str] | None = None
    collect_errors: list[TestOutcome] = field(default_factory=list)
    results: dict[str, TestOutcome] = field(default_factory=dict)
    finished: dict[str, Any] | None = None
    tampered: str = ""
    samples: list[ResourceSample] = field(default_factory=list)
    judge_output: bytearray = field(default_factory=bytearray)
    judge_output_total: int = 0
    cancelled: bool = False

    def emit(self, event: RunEvent) -> None:
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # noqa: BLE001 - a UI callback must never break a run
                pass

    def on_sandbox(self, event: Any) -> None:
        if isinstance(event, sev.ResourceSample):
            sample = ResourceSample(event.t, event.cpu_percent, event.memory_mb, event.procs)
            self.samples.append(sample)
            self.emit(sample)
        elif isinstance(event, sev.CandidateOutput):
            self.emit(OutputChunk(event.text))


def _split_nodeid(nodeid: str) -> tuple[str, str]:
    file, _, name = nodeid.partition("::")
    return file, (name or file)


def _read_results(state: _State, fd: int) -> None:
    """The judge's signed lines. Anything else on this pipe marks the run as tampered with."""
    expected_seq = 1
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as stream:
        for line in stream:
            if not line.strip():
                continue  # the judge starts every line with a line break
            event = verify_line(line, state.key)
            if event is None or event.get("seq") != expected_seq:
                state.tampered = state.tampered or "a line on the results pipe was not the judge's"
                continue
            expected_seq += 1
            _take(state, event)


def _take(state: _State, event: dict[str, Any]) -> None:
    kind = event.get("event")
    if kind == "collected":
        state.collected = [str(n) for n in event.get("tests", [])]
        for err in event.get("errors", []):
            nodeid = str(err.get("nodeid", "<collection>"))
            file, _ = _split_nodeid(nodeid)
            outcome = TestOutcome(
                nodeid, Path(file).name, file, "error", 0.0, str(err.get("message", ""))
            )
            state.collect_errors.append(outcome)
            state.emit(TestFinished(outcome))
    elif kind == "start":
        state.emit(TestStarted(str(event.get("nodeid", ""))))
    elif kind == "result":
        nodeid = str(event.get("nodeid", ""))
        file, name = _split_nodeid(nodeid)
        status = event.get("status")
        outcome = TestOutcome(
            nodeid=nodeid,
            name=name,
            file=file,
            status=status if status in ("pass", "fail", "error", "skip") else "error",
            duration_s=float(event.get("duration", 0.0) or 0.0),
            message=str(event.get("message", "")),
        )
        state.results[nodeid] = outcome
        state.emit(TestFinished(outcome))
    elif kind == "finished":
        state.finished = event


def _read_judge_output(state: _State, stream: Any, cap: int) -> None:
    """pytest's own output and what tests print (capped like the candidate's)."""
    pending: list[bytes] = []
    last = time.monotonic()
    fd = stream.fileno()
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        state.judge_output_total += len(chunk)
        room = cap - len(state.judge_output)
        if room > 0:
            state.judge_output += chunk[:room]
            pending.append(chunk[:room])
        now = time.monotonic()
        if pending and now - last >= OUTPUT_FLUSH_S:
            state.emit(OutputChunk(b"".join(pending).decode("utf-8", "replace")))
            pending.clear()
            last = now
    if pending:
        state.emit(OutputChunk(b"".join(pending).decode("utf-8", "replace")))
    with contextlib.suppress(OSError):
        stream.close()


def _judge_env(key: bytes) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TUI_ASSESS_", "PYTEST_", "COV_")) and k != "PYTHONPATH"
    }
    env.update(
        {
            KEY_ENV: key.hex(),
            # Only pytest's own plugins and the judge's: a run does not depend on whatever
            # else is installed next to tui-assess, and starts faster.
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONSAFEPATH": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _stage(spec: RunSpec, stage: Path) -> tuple[Path, Path, Path]:
    """Safe copies of the workspace, the suite and the host runtime, made before the run."""
    work, tests, host = stage / "work", stage / "tests", stage / "host"
    copy_tree(
        spec.workspace,
        work,
        skip=not_workspace,
        max_bytes=spec.limits.disk_mb * 2**20,
        cap_name="[limits] disk_mb",
    )
    shutil.copytree(spec.tests, tests, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (tests / "pytest.ini").write_text("[pytest]\n")
    host.mkdir()
    for name in HOST_FILES:
        shutil.copy(_HERE / name, host / name)
    return work, tests, host


def run_suite(
    spec: RunSpec,
    on_event: EventSink | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Run spec.tests against a fresh copy of spec.workspace: judge outside, code inside."""
    cancel = cancel or threading.Event()
    # The results pipe's read end lives in this process. Where the candidate runs as this
    # user and sees /proc (rlimits mode), it could open that end through /proc/PID/fd.
    not_dumpable()
    state = _State(spec, on_event, secrets.token_bytes(32))
    limits = spec.limits
    stage = Path(tempfile.mkdtemp(prefix="tui-assess-stage-"))
    try:
        work, tests, host = _stage(spec, stage)
        snapshot = digest_tree(work)
        try:
            run = SandboxRun(limits, spec.sandbox, on_event=state.on_sandbox)
        except SandboxError as exc:
            return RunResult(
                "error", [], Resources(), "none", {}, snapshot,
                reason=f"The sandbox could not start the tests: {exc}",
            )
        try:
            run.copy_in(work, "area/work")
            run.copy_in(tests, "private/tests")
            run.copy_in(host, "area/host")
            returncode = _judge(run, state, cancel)
        finally:
            report = run.close()
        resources = run.final_resources
        result = _result(state, run, resources, returncode, snapshot, report)
        result.run_id = run.run_dir.name
        return result
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _judge(run: SandboxRun, state: _State, cancel: threading.Event) -> int | None:
    """Start the judge in the run and wait for it (or for the run to be stopped)."""
    area = run.area
    suite = "visible" if state.spec.show_details else "hidden"
    rfd, wfd = os.pipe()
    try:
        judge = run.start_trusted(
            [
                sys.executable,
                "-P",
                "-m",
                "tui_assess.judge",
                "--tests",
                str(run.private / "tests"),
                "--workspace",
                str(area / "work"),
                "--scratch",
                str(area / "scratch"),
                "--host-dir",
                str(area / "host"),
                "--suite",
                suite,
                "--results-fd",
                str(wfd),
            ],
            _judge_env(state.key),
            area / "work",
            pass_fds=(wfd,),
        )
    finally:
        os.close(wfd)
    readers = [
        threading.Thread(target=_read_results, args=(state, rfd), daemon=True),
        threading.Thread(
            target=_read_judge_output,
            args=(state, judge.stdout, state.spec.limits.output_kb * 1024),
            daemon=True,
        ),
    ]
    for t in readers:
        t.start()
    stop_at: float | None = None  # when the judge is ended if it has not finished by then
    hard_deadline = run.t0 + state.spec.limits.timeout_seconds + JUDGE_GRACE_S
    while judge.wait(0.05) is None:
        now = time.monotonic()
        if stop_at is None:
            if cancel.is_set():
                state.cancelled = True
                run.stop("cancelled")
                stop_at = now + 0.5
            elif run.resources().limit_hit is not None:
                # The candidates are gone: the judge fails what is left and ends, or is ended.
                stop_at = now + JUDGE_GRACE_S
            elif now > hard_deadline:
                run.stop("time")
                stop_at = now
        if stop_at is not None and now >= stop_at:
            judge.kill()
    for t in readers:
        t.join(5.0)
    return judge.returncode


def _missing_reason(state: _State, resources: Any, returncode: int | None) -> str:
    finished = state.finished or {}
    if resources.reason:
        return f"Not run to the end: {resources.reason}"
    if finished.get("host"):
        return f"Not run: {finished['host']}."
    if state.finished is None:
        return f"Never reported a result: the test process ended early (exit code {returncode})."
    return "Never reported a result."


def _result(
    state: _State,
    run: SandboxRun,
    resources: Any,
    returncode: int | None,
    snapshot: str,
    report: Any,
) -> RunResult:
    spec = state.spec
    expected = list(state.collected or [])
    missing_reason = _missing_reason(state, resources, returncode)
    tests: list[TestOutcome] = []
    for nodeid in expected:
        outcome = state.results.get(nodeid)
        if outcome is None or state.tampered:
            file, name = _split_nodeid(nodeid)
            why = "The results of this run were tampered with." if state.tampered else ""
            outcome = TestOutcome(nodeid, name, file, "fail", 0.0, why or missing_reason)
        tests.append(outcome)
    tests += state.collect_errors
    missing = [t for t in tests if t.nodeid not in state.results and t not in state.collect_errors]

    output = bytes(state.judge_output).decode("utf-8", "replace")
    if state.judge_output_total > len(state.judge_output):
        output += f"\n[tui-assess: the tests' output was cut at {spec.limits.output_kb} KB]\n"
    candidate_output = run.output()
    if candidate_output:
        output += "\n--- the candidate's output ---\n" + candidate_output
    if not spec.show_details:  # a hidden suite: no line of it leaves in the output either
        output = withhold_quotes(output, suite_lines(spec.tests, spec.workspace))

    limit = resources.limit_hit
    finished = state.finished or {}
    exitstatus = finished.get("exitstatus")
    reason = ""
    status: RunStatus
    if state.tampered:
        status, reason = "error", (
            "Something other than the judge wrote to the results of this run "
            f"({state.tampered}); none of its results can be trusted."
        )
    elif state.cancelled:
        status, reason = "cancelled", "The run was cancelled; all its processes were stopped."
    elif limit == "time":
        status, reason = "timeout", resources.reason
    elif limit is not None:
        status, reason = "limit", resources.reason
    elif state.collected is None:
        status = "error"
        tail = output.strip().splitlines()[-3:] if output.strip() else []
        reason = "The tests could not be collected" + (
            ": " + " ".join(tail)[:300] if tail else f" (exit code {returncode})."
        )
    elif state.collect_errors:
        status = "error"
        reason = f"{len(state.collect_errors)} test file(s) could not be loaded; see the messages."
    elif not tests:
        status, reason = "error", "No tests ran (the suite has none)."
    elif missing:
        status = "fail"
        reason = f"{len(missing)} test(s) never reported a result: {missing_reason}"
    elif any(t.status in ("fail", "error") for t in tests):
        status = "fail"
        if finished.get("import_errors"):
            first = str(finished["import_errors"][0])
            reason = f"The candidate's code could not be imported ({first}); tests using it failed."
        elif finished.get("host"):
            reason = f"The candidate's process ended during the run: {finished['host']}."
    elif exitstatus not in (0,) or returncode not in (0,):
        status = "error"
        reason = f"The test process ended abnormally (exit code {returncode})."
    else:
        status = "pass"
    if run.mode_note:
        reason = (reason + " " if reason else "") + f"Sandbox: {run.mode_note}."
    if report.survivors:
        reason += f" {len(report.survivors)} process(es) of the run could not be killed."
    guarantees = {**run.guarantees, "verdicts": VERDICTS}
    return RunResult(
        status=status,
        tests=tests,
        resources=Resources(
            wall_s=resources.wall_s,
            cpu_s=resources.cpu_s,
            peak_rss_mb=resources.peak_memory_mb,
            max_procs=resources.max_procs,
            limit_hit=limit,
            disk_mb=resources.disk_mb,
        ),
        sandbox=run.mode,
        guarantees=guarantees,
        snapshot=snapshot,
        output=output,
        reason=reason.strip(),
        samples=state.samples,
        expected=expected,
    )
