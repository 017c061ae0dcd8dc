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

Every run is made in two steps, `PreparedRun` (the sandbox open, the suite in its private
folder, the judge started with pytest, the plugin and the suite's conftest imported, the
candidate host up and empty, waiting) and `PreparedRun.run` (the workspace copied in, the
judge told to go). `run_suite` does both at once (a cold start); `tui_assess.judge.warm`
prepares the next run ahead (a warm start). Either way each run has its own run folder,
judge, host and key, and nothing of one run is reused by another.
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
    Limits,
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
from tui_assess.snapshot import digest_tree, workspace_skip

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
    ready: threading.Event = field(default_factory=threading.Event)
    """Set when the judge is waiting for the workspace (pytest configured, the host up)."""

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
    if kind == "ready":
        state.ready.set()
    elif kind == "collected":
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


def _stage_work(spec: RunSpec, stage: Path) -> Path:
    """A safe copy of the workspace (a UserError when it holds what a run may not copy)."""
    work = stage / "work"
    copy_tree(
        spec.workspace,
        work,
        skip=workspace_skip(spec.generated),
        max_bytes=spec.limits.disk_mb * 2**20,
        cap_name="[limits] disk_mb",
    )
    return work


def _stage_suite(tests_dir: Path, stage: Path) -> tuple[Path, Path]:
    """Copies of the suite and of the host runtime."""
    tests, host = stage / "tests", stage / "host"
    shutil.copytree(tests_dir, tests, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (tests / "pytest.ini").write_text("[pytest]\n")
    host.mkdir()
    for name in HOST_FILES:
        shutil.copy(_HERE / name, host / name)
    return tests, host


def suite_signature(tests: Path) -> tuple[tuple[str, int, int], ...]:
    """What a prepared run's copy of a suite is checked against before it is used: every
    file's path, size and modification time (a suite edited since makes it stale)."""
    found = []
    for folder, dirs, files in os.walk(tests):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError):
                st = os.stat(path, follow_symlinks=False)
                found.append((os.path.relpath(path, tests), st.st_size, st.st_mtime_ns))
    return tuple(sorted(found))


@dataclass(frozen=True)
class SuiteKey:
    """What a prepared run is ready for: a suite (and its files as they were), limits, mode."""

    tests: Path
    hidden: bool
    limits: Limits
    sandbox: str
    files: tuple[tuple[str, int, int], ...]

    @classmethod
    def of(cls, spec: RunSpec) -> SuiteKey:
        tests = spec.tests.resolve()
        return cls(tests, not spec.show_details, spec.limits, spec.sandbox, suite_signature(tests))


def run_suite(
    spec: RunSpec,
    on_event: EventSink | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Run spec.tests against a fresh copy of spec.workspace: judge outside, code inside.

    A cold start: the run is prepared now, then run (see `tui_assess.judge.warm` for runs
    prepared ahead)."""
    not_dumpable()
    try:
        prepared = PreparedRun(SuiteKey.of(spec))
    except SandboxError as exc:
        return RunResult(
            "error", [], Resources(), "none", {}, digest_tree(spec.workspace, spec.generated),
            reason=f"The sandbox could not start the tests: {exc}",
        )
    return prepared.run(spec, on_event, cancel)


class PreparedRun:
    """One run made ready before its workspace is known; used once (`run` or `discard`).

    Made ready: the run's sandbox (held: no clock, no sampling yet), the suite copied into its
    private folder and the host runtime into its area, the judge started with a results key
    of its own. The judge imports pytest, the plugin and the suite's conftest, starts the
    candidate host (nothing of the candidate's in it: the workspace is not there yet) and
    waits. `run` copies the workspace in, starts the clock and lets the judge go.

    Not thread-affine, except: the sandbox's supervisor dies with the thread that made this
    (PR_SET_PDEATHSIG follows the creating thread), so make it on a thread that outlives it.
    """

    def __init__(self, key: SuiteKey) -> None:
        not_dumpable()
        self.key = key
        placeholder = RunSpec(Path(), key.tests, key.limits, not key.hidden, key.sandbox)
        self.state = _State(placeholder, None, secrets.token_bytes(32))
        self.started = time.monotonic()
        self._used = False
        stage = Path(tempfile.mkdtemp(prefix="tui-assess-stage-"))
        try:
            tests, host = _stage_suite(key.tests, stage)
            self.sandbox = SandboxRun(
                key.limits, key.sandbox, on_event=self.state.on_sandbox, held=True
            )
            try:
                self.sandbox.copy_in(tests, "private/tests")
                self.sandbox.copy_in(host, "area/host")
                self._start_judge()
            except BaseException:
                self.sandbox.close()
                raise
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def _start_judge(self) -> None:
        run, state = self.sandbox, self.state
        area = run.area
        rfd, wfd = os.pipe()
        go_r, go_w = os.pipe2(os.O_CLOEXEC)
        try:
            self.judge = run.start_trusted(
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
                    "hidden" if self.key.hidden else "visible",
                    "--results-fd",
                    str(wfd),
                    "--go-fd",
                    str(go_r),
                ],
                _judge_env(state.key),
                area / "work",
                pass_fds=(wfd, go_r),
            )
        except BaseException:
            os.close(rfd)
            os.close(go_w)
            raise
        finally:
            os.close(wfd)
            os.close(go_r)
        self._go = go_w
        self._readers = [
            threading.Thread(target=_read_results, args=(state, rfd), daemon=True),
            threading.Thread(
                target=_read_judge_output,
                args=(state, self.judge.stdout, self.key.limits.output_kb * 1024),
                daemon=True,
            ),
        ]
        for t in self._readers:
            t.start()

    @property
    def usable(self) -> bool:
        """Not used yet, and its judge still waiting (or still getting ready)."""
        return not self._used and self.judge.returncode is None

    def wait_ready(self, timeout: float) -> bool:
        """True once the judge is waiting for the workspace (within `timeout` seconds)."""
        return self.state.ready.wait(timeout)

    def discard(self) -> None:
        """End it unused: every process of the run killed, its folder removed."""
        self._used = True
        with contextlib.suppress(OSError):
            os.close(self._go)
        self.sandbox.close()

    def run(
        self,
        spec: RunSpec,
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
        start: str = "cold",
    ) -> RunResult:
        """Copy spec.workspace in, let the judge go, wait for the end; close the run.

        `start` is what the result records: "warm" when this run was made ready before it
        was asked for (the caller knows), "cold" otherwise."""
        if self._used:
            raise RuntimeError("a prepared run is used once")
        self._used = True
        cancel = cancel or threading.Event()
        state, run = self.state, self.sandbox
        state.spec, state.on_event = spec, on_event
        stage = Path(tempfile.mkdtemp(prefix="tui-assess-stage-"))
        try:
            try:
                work = _stage_work(spec, stage)
                snapshot = digest_tree(work)
                run.copy_in(work, "area/work")
                run.begin()
                with contextlib.suppress(OSError):  # a judge gone meanwhile: it reports nothing
                    os.write(self._go, b"go\n")
                returncode = self._wait(cancel)
            finally:
                with contextlib.suppress(OSError):
                    os.close(self._go)
                report = run.close()
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        result = _result(state, run, run.final_resources, returncode, snapshot, report)
        result.run_id = run.run_dir.name
        result.start = start
        return result

    def _wait(self, cancel: threading.Event) -> int | None:
        """Wait for the judge (or for the run to be stopped)."""
        run, state, judge = self.sandbox, self.state, self.judge
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
        for t in self._readers:
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
    unreachable = finished.get("unreachable")
    if isinstance(unreachable, list) and unreachable and not state.tampered:
        reason = " ".join([reason, *map(str, unreachable)])
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
