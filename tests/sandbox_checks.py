"""Sandbox checks: one function per promise, each returning the problems it found.

Run by tests/test_sandbox_*.py as the user running the suite (root here) and, as a script, by
tests/test_sandbox_unprivileged.py as the ordinary user `tui-assess-ci`:

    python tests/sandbox_checks.py MODE [CHECK...]   # one JSON line per check

A check takes the mode to force and returns (problems, facts): problems empty means the
promise held; facts (mode that ran, numbers) go into the report.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import textwrap
import time
from collections.abc import Callable
from typing import Any

from tui_assess.sandbox import CandidateSpec, Limits, ResourceSample, SandboxRun, current_run
from tui_assess.sandbox.modes import MODES, unavailable
from tui_assess.sandbox.monitor import read_stat

Check = Callable[[str], tuple[list[str], dict[str, Any]]]
CHECKS: dict[str, Check] = {}
SMALL = Limits(timeout_seconds=20, memory_mb=256, processes=32, output_kb=64, disk_mb=64)


def check(fn: Check) -> Check:
    CHECKS[fn.__name__.removeprefix("check_")] = fn
    return fn


def mode_problem(run: SandboxRun, mode: str) -> list[str]:
    """The run must be in the forced mode (a test of a mode that silently fell back is void)."""
    if run.mode != mode:
        return [f"asked for {mode}, ran {run.mode} ({run.mode_note})"]
    return []


def py(name: str, code: str, run: SandboxRun, token: str = "", **kw: Any) -> CandidateSpec:
    """A candidate running `code` with the interpreter candidates get."""
    env = {"SANDBOX_CHECK_TOKEN": token} if token else {}
    env.update(kw.pop("env", {}))
    return CandidateSpec(
        name,
        ["python", "-c", textwrap.dedent(code)],
        cwd=run.area / "work",
        env=env,
        rw=[run.area / "work", run.area / "scratch"],
        **kw,
    )


def processes_with_token(token: str) -> list[int]:
    """Live processes whose environment holds `token` (a run's candidates and descendants)."""
    found = []
    needle = f"SANDBOX_CHECK_TOKEN={token}".encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        st = read_stat(int(name))
        if needle in env and st is not None and st[1] not in ("Z", "X"):
            found.append(int(name))
    return found


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


@check
def check_runs_and_captures(mode: str) -> tuple[list[str], dict[str, Any]]:
    """A candidate runs, its output is captured and streamed, its exit code comes back."""
    events: list[Any] = []
    with SandboxRun(SMALL, mode, on_event=events.append) as run:
        problems = mode_problem(run, mode)
        proc = run.spawn(py("c", "import sys; print('hello', 6 * 7); sys.exit(3)", run))
        rc = proc.wait(10)
        if rc != 3:
            problems.append(f"exit code {rc}, expected 3")
    report = run.close()
    if "hello 42" not in run.output("c"):
        problems.append(f"output not captured: {run.output('c')!r}")
    kinds = [type(e).__name__ for e in events if not isinstance(e, ResourceSample)]
    for kind in ("CandidateStarted", "CandidateOutput", "CandidateExited"):
        if kind not in kinds:
            problems.append(f"no {kind} event ({kinds})")
    if not report.removed or run.run_dir.exists():
        problems.append("the run folder is left")
    return problems, {"mode": run.mode}


JUDGE = """
import json, os, sys
from tui_assess.sandbox import current_run, CandidateSpec
r = current_run()
c = r.spawn(CandidateSpec("host", ["python", "-c", "import os; print(os.getpid())"],
                          r.area / "work", {}, rw=[r.area / "work"]))
rc = c.wait(10)
print(json.dumps({"mode": r.mode, "area": str(r.area), "pid": c.pid, "rc": rc}))
"""


@check
def check_judge_spawns_candidates(mode: str) -> tuple[list[str], dict[str, Any]]:
    """The trusted process finds its run and starts a candidate; both sides see one pid."""
    started: list[int] = []
    with SandboxRun(SMALL, mode, on_event=lambda e: started.append(getattr(e, "pid", 0))) as run:
        problems = mode_problem(run, mode)
        env = {k: v for k, v in os.environ.items() if k != "TUI_ASSESS_SANDBOX_CTL"}
        judge = run.start_trusted([sys.executable, "-c", JUDGE], env, run.area / "work")
        rc = judge.wait(20)
        out = judge.stdout.read().decode()  # type: ignore[attr-defined]
        if rc != 0:
            return [*problems, f"judge exit {rc}: {out[-800:]}"], {}
        said = json.loads(out.strip().splitlines()[-1])
        if said["mode"] != run.mode or said["area"] != str(run.area) or said["rc"] != 0:
            problems.append(f"judge saw {said}")
        if said["pid"] not in started:
            problems.append(f"judge's pid {said['pid']} is not the runner's ({started})")
    if current_run() is not None:
        problems.append("current_run() outside a run is not None")
    return problems, {"mode": run.mode}


DAEMON = """
import os, signal, sys, time
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        # The grandchild: re-parented to the supervisor (a subreaper) once its parent exits.
        time.sleep(0.2)
        if {kill_supervisor}:
            try:
                os.kill(os.getppid(), signal.SIGKILL)
                os.write(w, b"killed-supervisor ")
            except OSError as exc:
                os.write(w, f"could-not-kill:{{exc.errno}} ".encode())
        os.write(w, b"daemon-up\\n")
        while True:
            time.sleep(1)
    os._exit(0)
os.close(w)
print(os.read(r, 200).decode(), flush=True)
time.sleep(60)
"""


def _daemon_check(mode: str, kill_supervisor: bool) -> tuple[list[str], dict[str, Any]]:
    token = secrets.token_hex(8)
    run = SandboxRun(SMALL, mode)
    problems = mode_problem(run, mode)
    code = DAEMON.format(kill_supervisor=kill_supervisor)
    proc = run.spawn(py("d", code, run, token))
    # Once a daemon kills the supervisor, the runner ends the run at once: the candidate may
    # be gone before it can say so.
    if not wait_for(lambda: "daemon-up" in run.output("d") or proc.poll() is not None, 10):
        problems.append(f"daemon did not start: {run.output('d')!r}")
    said = run.output("d")
    t = time.monotonic()
    report = run.close()
    took = time.monotonic() - t
    left = processes_with_token(token)
    if left:
        problems.append(f"{len(left)} process(es) survived the run: {left}")
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    if report.survivors:
        problems.append(f"close() reports survivors {report.survivors}")
    if proc.wait(1) is None:
        problems.append("the candidate's handle never learnt of its end")
    return problems, {"mode": run.mode, "daemon": said.strip(), "close_s": round(took, 3)}


@check
def check_close_kills_double_forked_daemon(mode: str) -> tuple[list[str], dict[str, Any]]:
    """A daemon that double-forks and setsid()s does not outlive close()."""
    return _daemon_check(mode, kill_supervisor=False)


@check
def check_daemon_that_kills_supervisor_is_killed(mode: str) -> tuple[list[str], dict[str, Any]]:
    """Even when a daemon kills the supervisor, the run ends and nothing survives it."""
    problems, facts = _daemon_check(mode, kill_supervisor=True)
    return problems, facts


@check
def check_output_cap_stops_the_run(mode: str) -> tuple[list[str], dict[str, Any]]:
    """Past output_kb the rest is discarded, the run is stopped, a marker says so."""
    with SandboxRun(SMALL, mode) as run:
        problems = mode_problem(run, mode)
        proc = run.spawn(py("flood", "import os\nwhile True: os.write(1, b'y' * 65536)", run))
        rc = proc.wait(10)
    res = run.resources()
    if rc is None:
        problems.append("the flood was not stopped")
    if res.limit_hit != "output" or "output" not in res.reason:
        problems.append(f"limit_hit {res.limit_hit!r}, reason {res.reason!r}")
    out = run.output()
    if len(out.encode()) > 80 * 1024 or "output cut at 64 KB" not in out:
        problems.append(f"{len(out)} characters kept, marker missing")
    return problems, {"mode": run.mode}


@check
def check_time_limit_stops_the_run(mode: str) -> tuple[list[str], dict[str, Any]]:
    """A candidate that never ends is stopped at the wall-clock limit."""
    limits = Limits(timeout_seconds=1.0, memory_mb=256, processes=16, output_kb=64, disk_mb=16)
    t = time.monotonic()
    with SandboxRun(limits, mode) as run:
        problems = mode_problem(run, mode)
        proc = run.spawn(py("sleeper", "import time; time.sleep(600)", run))
        rc = proc.wait(10)
        took = time.monotonic() - t
    res = run.resources()
    if rc is None or res.limit_hit != "time" or "time limit" not in res.reason:
        problems.append(f"rc {rc}, limit_hit {res.limit_hit!r}, reason {res.reason!r}")
    if took > 3.0:
        problems.append(f"stopped after {took:.1f} s, limit 1 s")
    return problems, {"mode": run.mode, "stopped_after_s": round(took, 2)}


@check
def check_open_files_limit_holds(mode: str) -> tuple[list[str], dict[str, Any]]:
    """RLIMIT_NOFILE = open_files: the candidate cannot hold more files open."""
    limits = Limits(timeout_seconds=20, memory_mb=256, processes=16, output_kb=64, open_files=64)
    code = """
    import resource
    held = []
    try:
        while True:
            held.append(open("/dev/null"))
    except OSError as exc:
        print("opened", len(held), "limit", resource.getrlimit(resource.RLIMIT_NOFILE)[0], exc.errno)
    """
    with SandboxRun(limits, mode) as run:
        problems = mode_problem(run, mode)
        proc = run.spawn(py("files", code, run))
        proc.wait(10)
    out = run.output("files").split()
    if len(out) < 5 or int(out[1]) > 64 or out[3] != "64":
        problems.append(f"open files not capped at 64: {run.output('files')!r}")
    return problems, {"mode": run.mode, "said": run.output("files").strip()}


@check
def check_pass_fds_keep_their_numbers(mode: str) -> tuple[list[str], dict[str, Any]]:
    """An fd passed to a candidate arrives at the same number; nothing else leaks in."""
    r, w = os.pipe()
    os.set_inheritable(w, False)
    spare = os.open(os.devnull, os.O_RDONLY)  # open in the runner, never passed
    code = f"""
    import os
    os.write({w}, b"through the pipe")
    print(sorted(int(n) for n in os.listdir("/proc/self/fd")))
    """
    with SandboxRun(SMALL, mode) as run:
        problems = mode_problem(run, mode)
        proc = run.spawn(py("fds", code, run, pass_fds=(w,)))
        proc.wait(10)
        os.close(w)
        got = os.read(r, 100)
    os.close(r)
    os.close(spare)
    if got != b"through the pipe":
        problems.append(f"read {got!r} from the passed pipe")
    listed = run.output("fds").strip()
    # 0, 1, 2, the passed fd, and the fd listdir itself opens.
    if not listed.startswith("[0, 1, 2,") or str(spare) in listed.split(",")[3:-1]:
        problems.append(f"candidate's fds: {listed}")
    return problems, {"mode": run.mode, "fds": listed}


def available_modes() -> list[str]:
    return [m for m in MODES if not unavailable(m)]


def main(argv: list[str]) -> int:
    mode = argv[0]
    names = argv[1:] or list(CHECKS)
    for name in names:
        t = time.monotonic()
        try:
            problems, facts = CHECKS[name](mode)
        except Exception as exc:  # noqa: BLE001 - report, then let the next check run
            problems, facts = [f"{type(exc).__name__}: {exc}"], {}
        facts["seconds"] = round(time.monotonic() - t, 2)
        print(json.dumps({"check": name, "problems": problems, "facts": facts}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
