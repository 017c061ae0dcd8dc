"""Sandbox checks: one function per promise, each returning the problems it found.

Run by tests/test_sandbox_*.py as the user running the suite (root here) and, as a script, by
tests/test_sandbox_unprivileged.py as the ordinary user `tui-assess-ci`:

    python tests/sandbox_checks.py MODE [CHECK...]   # one JSON line per check

A check takes the mode to force and returns (problems, facts): problems empty means the
promise held; facts (mode that ran, numbers) go into the report.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_assess.sandbox import (
    CandidateSpec,
    Limits,
    ResourceSample,
    SandboxError,
    SandboxRun,
    current_run,
)
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
        said = ""
        if {kill_supervisor}:
            # Its parent now: the supervisor (a subreaper), or PID 1 of its own PID namespace,
            # which ignores the signal from inside.
            try:
                os.kill(os.getppid(), signal.SIGKILL)
                said = "killed-parent "
            except OSError as exc:
                said = f"could-not-kill:{{exc.errno}} "
        os.write(w, (said + "daemon-up\\n").encode())  # one write: the reader reads once
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


WATCHED_DAEMON = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        hoard = bytearray(96 << 20)
        hoard[::4096] = b"x" * len(hoard[::4096])
        print("daemon-up", flush=True)
        time.sleep(60)
    os._exit(0)
os.wait()
time.sleep(60)
"""


@check
def check_double_forked_daemon_is_watched(mode: str) -> tuple[list[str], dict[str, Any]]:
    """While the run goes on, the monitor counts a double-forked, setsid() daemon: its
    process and the 96 MB it holds show in the samples and the peak (before close())."""
    samples: list[ResourceSample] = []

    def keep(event: object) -> None:
        if isinstance(event, ResourceSample):
            samples.append(event)

    with SandboxRun(SMALL, mode, on_event=keep) as run:
        problems = mode_problem(run, mode)
        run.spawn(py("d", WATCHED_DAEMON, run))
        if not wait_for(lambda: "daemon-up" in run.output("d"), 10):
            problems.append(f"daemon did not start: {run.output('d')!r}")
        seen = wait_for(
            lambda: run.resources().peak_memory_mb >= 90
            and any(s.procs >= 2 for s in samples[-5:]),
            10,
        )
        peak = run.resources().peak_memory_mb
        procs = max((s.procs for s in samples), default=0)
    if not seen:
        problems.append(f"the daemon was not watched: peak {peak:.0f} MB, at most {procs} processes")
    return problems, {"mode": run.mode, "peak_mb": round(peak), "procs": procs}


@check
def check_close_kills_double_forked_daemon(mode: str) -> tuple[list[str], dict[str, Any]]:
    """A daemon that double-forks and setsid()s does not outlive close()."""
    return _daemon_check(mode, kill_supervisor=False)


@check
def check_daemon_that_kills_supervisor_is_killed(mode: str) -> tuple[list[str], dict[str, Any]]:
    """Even when a daemon kills the supervisor, the run ends and nothing survives it."""
    problems, facts = _daemon_check(mode, kill_supervisor=True)
    return problems, facts


RUNNER = """
import sys, time
sys.path.insert(0, sys.argv[3])
from sandbox_checks import DAEMON, SMALL, py
from tui_assess.sandbox import SandboxRun
run = SandboxRun(SMALL, sys.argv[1])
run.spawn(py("d", DAEMON.format(kill_supervisor=False), run, sys.argv[2]))
end = time.monotonic() + 10
while "daemon-up" not in run.output("d") and time.monotonic() < end:
    time.sleep(0.01)
print(run.mode, run.run_dir, "daemon-up" in run.output("d"), flush=True)
time.sleep(60)
"""


@check
def check_killed_runner_leaves_nothing(mode: str) -> tuple[list[str], dict[str, Any]]:
    """The runner itself is killed (kill -9, a closed terminal): the supervisor still ends the
    run, the candidate's double-forked daemon included, and removes the run folder."""
    import subprocess

    token = secrets.token_hex(8)
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, mode, token, str(Path(__file__).parent)],
        stdout=subprocess.PIPE, text=True,
    )
    first = (runner.stdout.readline() if runner.stdout else "").split()
    problems = [] if first[:1] == [mode] and first[2:] == ["True"] else [f"runner said {first}"]
    before = len(processes_with_token(token))  # the candidate and its daemon
    runner.kill()
    runner.wait()
    if not wait_for(lambda: not processes_with_token(token), 10):
        left = processes_with_token(token)
        problems.append(f"{len(left)} process(es) outlived the killed runner")
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    if before < 1:
        problems.append("no candidate process was seen before the kill")
    if len(first) > 1 and not wait_for(lambda: not Path(first[1]).exists(), 10):
        problems.append("the run folder was left behind")
        shutil.rmtree(first[1], ignore_errors=True)
    return problems, {"mode": mode, "before": before}


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



PROBE = """
import ctypes, json, os, socket, sys
out = {}
def attempt(name, fn):
    try:
        out[name] = ["ok", repr(fn())[:200]]
    except BaseException as exc:
        out[name] = ["denied", f"{type(exc).__name__}: {exc}"[:200]]
env = os.environ
def read(path):
    with open(path, "rb") as f:
        return f.read(64)
def listing(path):
    return sorted(os.listdir(path))[:5]
def write(path):
    with open(path, "w") as f:
        f.write("candidate was here")
    return path
attempt("read_private", lambda: read(env["P_PRIVATE"]))
def home_contents(path):
    # Where the run folder lies inside HOME, the candidate sees that path's read-only skeleton
    # (the run folder's own name, nothing else): only other entries are the user's.
    found = [n for n in os.listdir(path) if n != env["P_SKELETON_NAME"]]
    if not found:
        raise LookupError("nothing of the home folder is visible")
    return found[:5]
attempt("list_home", lambda: home_contents(env["P_HOME"]))
attempt("read_venv", lambda: read(env["P_VENV"]))
attempt("read_package", lambda: read(env["P_PACKAGE"]))
attempt("read_shadow", lambda: read("/etc/shadow"))
def site_packages():
    found = [p for p in sys.path if "-packages" in p and os.path.isdir(p) and os.listdir(p)]
    if not found:
        raise LookupError("no site-packages with anything in it")
    return found
attempt("list_site_packages", site_packages)
attempt("write_outside", lambda: write(env["P_OUTSIDE"]))
attempt("write_area", lambda: write(env["P_AREA_FILE"]))
attempt("write_rw", lambda: write("mine.txt"))
attempt("write_tmp", lambda: write(os.path.join(env.get("TMPDIR", "/tmp"), "t.txt")))
libc = ctypes.CDLL(None, use_errno=True)
def remount():
    if libc.mount(None, b"/", None, 0x20 | 0x1000, None) != 0:  # MS_REMOUNT|MS_BIND
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
attempt("remount", remount)
def new_userns():
    pid = os.fork()
    if pid == 0:
        os._exit(0 if libc.unshare(0x10000000) == 0 else 1)
    _, st = os.waitpid(pid, 0)
    if st != 0:
        raise OSError("unshare(CLONE_NEWUSER) refused")
attempt("new_user_namespace", new_userns)
def connect(port):
    s = socket.socket()
    s.settimeout(2)
    s.connect(("127.0.0.1", port))
    s.close()
attempt("connect_host_listener", lambda: connect(int(env["P_PORT"])))
def abstract(name):
    s = socket.socket(socket.AF_UNIX)
    s.connect("\\0" + name)
    s.close()
attempt("connect_abstract_socket", lambda: abstract(env["P_ABSTRACT"]))
def unix_path(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.close()
attempt("connect_unix_path", lambda: unix_path(env["P_UNIX"]))
attempt("signal_runner", lambda: os.kill(int(env["P_RUNNER"]), 0))
attempt("signal_supervisor", lambda: os.kill(int(env["P_SUPERVISOR"]), 0))
attempt("see_processes", lambda: len([p for p in os.listdir("/proc") if p.isdigit()]))
attempt("write_dev_shm", lambda: write("/dev/shm/probe-" + env["P_TOKEN"]))
print("PROBE " + json.dumps(out))
"""


@functools.cache
def probe(mode: str) -> tuple[dict[str, list[str]], dict[str, str], str]:
    """One candidate tries every forbidden thing; (what happened, guarantees, mode run)."""
    import socket

    token = secrets.token_hex(6)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind("\0tui-assess-probe-" + token)
    abstract.listen()
    outside = Path(tempfile.mkdtemp(prefix="sandbox-probe-"))
    named = socket.socket(socket.AF_UNIX)
    named.bind(str(outside / "service.sock"))
    named.listen()
    import tui_assess

    with SandboxRun(SMALL, mode) as run:
        run.copy_in(Path(tui_assess.__file__), "private/secret.py")
        env = {
            "P_PRIVATE": str(run.private / "secret.py"),
            "P_HOME": os.path.expanduser("~"),
            "P_SKELETON_NAME": _first_part_below(os.path.expanduser("~"), run.run_dir),
            "P_VENV": str(Path(sys.prefix) / "pyvenv.cfg"),
            "P_PACKAGE": tui_assess.__file__,
            "P_OUTSIDE": str(outside / "escaped.txt"),
            "P_AREA_FILE": str(run.area / "not-mine.txt"),
            "P_PORT": str(listener.getsockname()[1]),
            "P_ABSTRACT": "tui-assess-probe-" + token,
            "P_RUNNER": str(os.getpid()),
            "P_SUPERVISOR": str(run._supervisor.pid if run._supervisor else 0),
            "P_TOKEN": token,
            "P_UNIX": str(outside / "service.sock"),
        }
        proc = run.spawn(py("probe", PROBE, run, env=env))
        proc.wait(20)
    text = run.output("probe")
    listener.close()
    abstract.close()
    named.close()
    shutil.rmtree(outside, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.unlink(f"/dev/shm/probe-{token}")
    lines = [line for line in text.splitlines() if line.startswith("PROBE ")]
    if not lines:
        raise RuntimeError(f"the probe said nothing useful: {text[-1500:]}")
    return json.loads(lines[-1][6:]), run.guarantees, run.mode


def _first_part_below(folder: str, path: Path) -> str:
    """The first component of `path` below `folder` ("" when it is not below it)."""
    try:
        return path.relative_to(folder).parts[0]
    except (ValueError, IndexError):
        return ""


def _isolated(guarantees: dict[str, str], row: str) -> bool:
    return not guarantees[row].startswith("NOT isolated")


def _probe_check(mode: str, row: str, denied: list[str], allowed: list[str] = ()) -> tuple[list[str], dict[str, Any]]:
    """Where `row` is isolated every `denied` attempt must fail; where the guarantees say
    NOT isolated, at least one must succeed (the sentence is honest, not just cautious)."""
    results, guarantees, ran = probe(mode)
    problems = [] if ran == mode else [f"asked for {mode}, ran {ran}"]
    isolated = _isolated(guarantees, row)
    got = {name: results[name] for name in [*denied, *allowed]}
    if isolated:
        problems += [f"{n} succeeded: {results[n][1]}" for n in denied if results[n][0] == "ok"]
    elif all(results[n][0] != "ok" for n in denied):
        problems.append(f"{row} says NOT isolated, yet every attempt failed: {got}")
    problems += [f"{n} failed: {results[n][1]}" for n in allowed if results[n][0] != "ok"]
    return problems, {"mode": ran, "guarantee": guarantees[row], "attempts": got}


@check
def check_cannot_read_outside_its_view(mode: str) -> tuple[list[str], dict[str, Any]]:
    """The run's private/ (the hidden tests), the user's home, the venv, the tui_assess
    package, /etc/shadow and any site-packages are out of the candidate's reach."""
    return _probe_check(
        mode,
        "file_system",
        ["read_private", "list_home", "read_venv", "read_package", "read_shadow", "list_site_packages"],
    )


@check
def check_writes_only_its_own_folders(mode: str) -> tuple[list[str], dict[str, Any]]:
    """Writes outside its rw folders (a folder of the user's, the run's area) fail; its own
    folder and its /tmp work."""
    return _probe_check(mode, "file_system", ["write_outside", "write_area"], ["write_rw", "write_tmp"])


@check
def check_cannot_remount_or_nest_namespaces(mode: str) -> tuple[list[str], dict[str, Any]]:
    """No capability is left: a remount fails (namespaces: no new user namespace either)."""
    results, guarantees, ran = probe(mode)
    problems = [] if results["remount"][0] != "ok" else ["remount succeeded"]
    if ran == "namespaces" and results["new_user_namespace"][0] == "ok":
        problems.append("a new user namespace could be made inside the sandbox")
    return problems, {"mode": ran, "remount": results["remount"], "userns": results["new_user_namespace"]}


@check
def check_cannot_reach_host_listener(mode: str) -> tuple[list[str], dict[str, Any]]:
    """A TCP listener on the machine's 127.0.0.1 is out of reach (where the network row says
    isolated)."""
    return _probe_check(mode, "network", ["connect_host_listener"])


@check
def check_cannot_signal_outside_the_run(mode: str) -> tuple[list[str], dict[str, Any]]:
    """Neither the runner nor the supervisor can be signalled (signal 0: the permission check
    without the signal), nor an abstract unix socket outside the run reached."""
    return _probe_check(mode, "signals", ["signal_runner", "signal_supervisor", "connect_abstract_socket"])



@check
def check_named_unix_sockets_as_stated(mode: str) -> tuple[list[str], dict[str, Any]]:
    """A unix socket with a path outside the run: unreachable where the network row says the
    network is isolated; where the sentence admits it, it is reachable (Landlock ABI <= 7)."""
    results, guarantees, ran = probe(mode)
    reached = results["connect_unix_path"][0] == "ok"
    said = guarantees["network"]
    admits = said.startswith("NOT isolated") or "unix sockets with a path NOT isolated" in said
    problems = [] if ran == mode else [f"asked for {mode}, ran {ran}"]
    if reached and not admits:
        problems.append(f"reached a named socket outside the run; the guarantee says {said!r}")
    return problems, {"mode": ran, "reached": reached, "guarantee": said}


@check
def check_shell_on_a_pty_writes_the_workspace(mode: str) -> tuple[list[str], dict[str, Any]]:
    """The pane's shell: a pty as its controlling terminal, the real workspace writable (as root
    too: files it makes there stay the user's), and `exit` ends it."""
    import pty

    workspace = Path(tempfile.mkdtemp(prefix="sandbox-workspace-"))
    (workspace / "given.txt").write_text("from the user\n")
    master, slave = pty.openpty()
    with SandboxRun(SMALL, mode) as run:
        problems = mode_problem(run, mode)
        spec = CandidateSpec("shell", ["bash", "--norc", "--noprofile", "-i"], workspace, {},
                             rw=[workspace], tty=slave)
        proc = run.spawn(spec)
        os.close(slave)
        script = (
            "tty; cat given.txt; echo made > made.txt; "
            "python3 -c 'import os; print(\"tty-ok\", os.isatty(0), os.getpgrp() == os.tcgetpgrp(0))'; exit 7\n"
        )
        os.write(master, script.encode())
        seen = b""
        end = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < end:
            import select

            if select.select([master], [], [], 0.1)[0]:
                try:
                    seen += os.read(master, 4096)
                except OSError:
                    break
        rc = proc.wait(5)
    os.close(master)
    text = seen.decode(errors="replace")
    made = workspace / "made.txt"
    if rc != 7:
        problems.append(f"shell exit {rc}")
    if "from the user" not in text or "tty-ok True True" not in text:
        problems.append(f"shell said {text[-400:]!r}")
    if not made.exists() or made.stat().st_uid != os.getuid():
        problems.append("made.txt missing, or not owned by the user: " + (str(made.stat().st_uid) if made.exists() else "missing"))
    shutil.rmtree(workspace, ignore_errors=True)
    return problems, {"mode": run.mode, "tty": text.split("\n")[1:2]}


@check
def check_short_lived_programs_start_and_report(mode: str) -> tuple[list[str], dict[str, Any]]:
    """A program that exits at once still starts cleanly and reports its code (its namespace
    init may be gone before the supervisor has finished with it)."""
    with SandboxRun(SMALL, mode) as run:
        problems = mode_problem(run, mode)
        codes = []
        for i, prog in enumerate(["/bin/true", "/bin/false"] * 3):
            spec = CandidateSpec(f"quick{i}", [prog], run.area / "work", {}, rw=[run.area / "work"])
            codes.append(run.spawn(spec).wait(10))
        # A cwd the candidate cannot see is a failure to start, said as one sentence.
        try:
            run.spawn(CandidateSpec("nowhere", ["/bin/true"], run.run_dir / "nowhere", {}, rw=[]))
            problems.append("a candidate started in a folder that does not exist")
        except SandboxError as exc:
            if "could not start" not in str(exc):
                problems.append(f"start failure said {exc}")
    if codes != [0, 1] * 3:
        problems.append(f"exit codes {codes}")
    return problems, {"mode": run.mode, "codes": codes}


@check
def check_cancel_and_kill_end_candidates(mode: str) -> tuple[list[str], dict[str, Any]]:
    """kill() ends one candidate; stop("cancelled") ends the rest and says so (no limit)."""
    with SandboxRun(SMALL, mode) as run:
        problems = mode_problem(run, mode)
        sleep = "import time; time.sleep(60)"
        one, two = run.spawn(py("one", sleep, run)), run.spawn(py("two", sleep, run))
        one.kill()
        if one.wait(5) is None or two.poll() is not None:
            problems.append(f"kill(): one {one.returncode}, two {two.returncode}")
        run.stop("cancelled")
        if two.wait(5) is None:
            problems.append("stop('cancelled') left a candidate running")
    res = run.final_resources
    if res.limit_hit is not None or "cancelled" not in res.reason:
        problems.append(f"limit_hit {res.limit_hit!r}, reason {res.reason!r}")
    return problems, {"mode": run.mode, "rc": [one.returncode, two.returncode]}


def _stopped_run(
    mode: str, limits: Limits, code: str, name: str = "c", timeout: float = 30,
    args: list[str] | None = None,
) -> tuple[SandboxRun, float, Any]:
    """Run one hostile candidate to its end; (run, seconds, close report)."""
    t = time.monotonic()
    run = SandboxRun(limits, mode)
    spec = py(name, code, run)
    spec.argv.extend(args or [])
    proc = run.spawn(spec)
    proc.wait(timeout)
    took = time.monotonic() - t
    report = run.close()
    return run, took, report


def _limit_problems(run: SandboxRun, mode: str, kinds: tuple[str, ...], words: str) -> list[str]:
    res = run.final_resources
    problems = mode_problem(run, mode)
    if res.limit_hit not in kinds or words not in res.reason:
        problems.append(f"limit_hit {res.limit_hit!r}, reason {res.reason!r} (wanted {kinds})")
    return problems


WRITE_2GB = """
import os
written = 0
try:
    for i in range(2048):
        with open(f"big-{i}.bin", "wb") as f:
            for _ in range(16):
                f.write(b"\\0" * 65536 * 16)
                written += 1 << 20
                if written >= 2 << 30:
                    break
except OSError as exc:
    print("stopped at", written >> 20, "MB:", exc)
"""


@check
def check_disk_budget_holds(mode: str) -> tuple[list[str], dict[str, Any]]:
    """2 GB of writes stop at the run's disk budget (32 MB here), and nothing is left."""
    limits = Limits(timeout_seconds=30, memory_mb=256, processes=16, output_kb=64, disk_mb=32)
    run, took, report = _stopped_run(mode, limits, WRITE_2GB)
    problems = _limit_problems(run, mode, ("disk",), "32 MB")
    peak = run.final_resources.disk_mb
    bound = 32 if run.mode == "namespaces" else 32 + 256  # kernel-exact / monitored (50 ms)
    if peak > bound:
        problems.append(f"{peak:.0f} MB written, budget 32 MB")
    if run.run_dir.exists() and not wait_for(lambda: not run.run_dir.exists(), 20):
        problems.append("the run folder is left")
    return problems, {"mode": run.mode, "peak_mb": round(peak, 1), "s": round(took, 2),
                      "said": run.output("c").strip()[-120:], "close": report.notes}


MANY_FILES = """
import os
made = 0
try:
    for d in range(200):
        os.mkdir(f"d{d}")
        for f in range(1000):
            open(f"d{d}/f{f}", "wb").close()
            made += 1
except OSError as exc:
    print("stopped after", made, "files:", exc)
"""


@check
def check_many_files_are_capped_and_cleaned_in_time(mode: str) -> tuple[list[str], dict[str, Any]]:
    """200k small files: capped (256 per MB of budget) and cleaned up within the close budget."""
    limits = Limits(timeout_seconds=4, memory_mb=256, processes=16, output_kb=64, disk_mb=16)
    run, took, report = _stopped_run(mode, limits, MANY_FILES)
    problems = _limit_problems(run, mode, ("disk", "time"), "")
    if report.seconds > 5.5:
        problems.append(f"close took {report.seconds:.1f} s")
    if not wait_for(lambda: not run.run_dir.exists() and not Path(str(run.run_dir) + ".removing").exists(), 60):
        problems.append("the run folder was never removed")
    return problems, {"mode": run.mode, "run_s": round(took, 2), "close_s": round(report.seconds, 2),
                      "said": run.output("c").strip()[-100:], "reason": run.final_resources.reason,
                      "notes": report.notes}


MEMFD = """
import os, time
fds = []
for i in range(12):
    fd = os.memfd_create(f"hoard{i}")
    for _ in range(30):
        os.write(fd, b"m" * (1 << 20))
    fds.append(fd)
    print("held", (i + 1) * 30, "MB", flush=True)
time.sleep(30)
"""


@check
def check_memfd_memory_is_counted(mode: str) -> tuple[list[str], dict[str, Any]]:
    """360 MB held in memfds (never mapped, so not in RSS) stops a run limited to 128 MB."""
    limits = Limits(timeout_seconds=30, memory_mb=128, processes=16, output_kb=64, disk_mb=32)
    run, took, report = _stopped_run(mode, limits, MEMFD)
    problems = _limit_problems(run, mode, ("memory",), "128 MB")
    if run.final_resources.peak_memory_mb > 256:
        problems.append(f"{run.final_resources.peak_memory_mb:.0f} MB held before it was stopped")
    if took > 15:
        problems.append(f"stopped after {took:.1f} s")
    return problems, {"mode": run.mode, "s": round(took, 2), "peak_mb": round(run.final_resources.peak_memory_mb),
                      "said": run.output("c").strip().splitlines()[-1:]}


DEV_SHM = """
import os, sys, time
fds = []
try:
    for i in range(12):
        fd = os.open(f"/dev/shm/{sys.argv[1]}-{i}", os.O_CREAT | os.O_RDWR, 0o600)
        for _ in range(30):
            os.write(fd, b"s" * (1 << 20))
        fds.append(fd)
        print("held", (i + 1) * 30, "MB", flush=True)
except OSError as exc:
    print("refused:", exc, flush=True)
    sys.exit(0)
time.sleep(30)
"""


@check
def check_dev_shm_is_bounded(mode: str) -> tuple[list[str], dict[str, Any]]:
    """360 MB into /dev/shm: namespaces bound it by the disk budget (its /dev/shm is on the
    run's tmpfs), Landlock refuses /dev/shm, rlimits counts what is held as memory."""
    limits = Limits(timeout_seconds=30, memory_mb=128, processes=16, output_kb=64, disk_mb=32)
    token = f"sandbox-check-{secrets.token_hex(6)}"
    try:
        run, took, report = _stopped_run(mode, limits, DEV_SHM, args=[token])
    finally:
        # rlimits shares /dev/shm with the user (as its guarantees say): clean up after it.
        for path in Path("/dev/shm").glob(f"{token}-*"):
            path.unlink()
    said = run.output("c")
    problems = mode_problem(run, mode)
    res = run.final_resources
    if run.mode == "landlock":
        if "refused" not in said or "held" in said:
            problems.append(f"/dev/shm was usable: {said[-200:]}")
    elif res.limit_hit not in ("disk", "memory"):
        problems.append(f"not stopped: limit_hit {res.limit_hit!r}, said {said[-200:]!r}")
    return problems, {"mode": run.mode, "s": round(took, 2), "limit": res.limit_hit,
                      "said": said.strip().splitlines()[-1:]}


@check
def check_fork_storm_is_stopped(mode: str) -> tuple[list[str], dict[str, Any]]:
    """A fork storm stops at the process limit; nothing of it survives."""
    limits = Limits(timeout_seconds=30, memory_mb=512, processes=16, output_kb=64, disk_mb=16)
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    token = secrets.token_hex(6)
    t = time.monotonic()
    run = SandboxRun(limits, mode)
    proc = run.spawn(py("storm", code, run, token))
    proc.wait(20)
    took = time.monotonic() - t
    run.close()
    problems = _limit_problems(run, mode, ("processes",), "16 processes")
    left = processes_with_token(token)
    if left:
        problems.append(f"{len(left)} processes survived")
    if took > 15:
        problems.append(f"stopped after {took:.1f} s")
    return problems, {"mode": run.mode, "s": round(took, 2), "max_procs": run.final_resources.max_procs}


@check
def check_memory_growth_is_stopped(mode: str) -> tuple[list[str], dict[str, Any]]:
    """Memory that grows without end stops at memory_mb."""
    limits = Limits(timeout_seconds=30, memory_mb=128, processes=16, output_kb=64, disk_mb=16)
    code = "hoard = []\nwhile True:\n    hoard.append(bytearray(8 << 20))\n"
    run, took, _ = _stopped_run(mode, limits, code)
    problems = _limit_problems(run, mode, ("memory",), "128 MB")
    if run.final_resources.peak_memory_mb > 256:
        problems.append(f"{run.final_resources.peak_memory_mb:.0f} MB used before it was stopped")
    if took > 15:
        problems.append(f"stopped after {took:.1f} s")
    return problems, {"mode": run.mode, "s": round(took, 2), "peak_mb": round(run.final_resources.peak_memory_mb)}


FORWARD_JUDGE = """
import json, socket, threading
from tui_assess.sandbox import current_run, CandidateSpec
run = current_run()
port = run.ports[0] if run.ports else 0
srv = socket.socket()
srv.bind(("127.0.0.1", port))
srv.listen()
port = srv.getsockname()[1]
def serve():
    while True:
        c, _ = srv.accept()
        c.sendall(b"judge says " + c.recv(100))
        c.close()
threading.Thread(target=serve, daemon=True).start()
code = (
    "import socket, sys, time\\n"
    "for _ in range(50):\\n"
    "    try:\\n"
    f"        s = socket.create_connection(('127.0.0.1', {port}), timeout=2); break\\n"
    "    except OSError as exc:\\n"
    "        err = exc; time.sleep(0.05)\\n"
    "else:\\n"
    "    print('FAILED', err); sys.exit(1)\\n"
    "s.sendall(sys.argv[1].encode()); print(s.recv(100).decode())\\n"
)
def candidate(name):
    return CandidateSpec(name, ["python", "-c", code, name], run.area / "work", {}, rw=[run.area / "work"])
early = run.spawn(CandidateSpec("early", ["python", "-c", "import time; time.sleep(30)"], run.area / "work", {}, rw=[run.area / "work"]))
run.forward_tcp(port)
late = run.spawn(candidate("late"))
print(json.dumps({"late": late.wait(20)}))
"""


@check
def check_forward_tcp_reaches_the_judge(mode: str) -> tuple[list[str], dict[str, Any]]:
    """A server the judge runs on 127.0.0.1 is reachable by candidates after forward_tcp."""
    return _late_hears_the_judge(mode, FORWARD_JUDGE)


def _late_hears_the_judge(mode: str, script: str) -> tuple[list[str], dict[str, Any]]:
    """Run `script` as the judge; its candidate "late" must print the judge's answer."""
    with SandboxRun(SMALL, mode) as run:
        problems = mode_problem(run, mode)
        env = {k: v for k, v in os.environ.items() if k != "TUI_ASSESS_SANDBOX_CTL"}
        judge = run.start_trusted([sys.executable, "-c", script], env, run.area / "work")
        rc = judge.wait(60)
        out = judge.stdout.read().decode()  # type: ignore[attr-defined]
    said = run.output("late")
    if rc != 0 or "judge says late" not in said:
        problems.append(f"judge rc {rc}: {out[-600:]} / candidate said {said[-300:]!r}")
    return problems, {"mode": run.mode, "said": said.strip()}


GONE_PEER_JUDGE = """
import json, socket, sys, threading, time
from tui_assess.sandbox import current_run, CandidateSpec
run = current_run()
pool = list(run.ports or [0, 0])
def server(port):
    srv = socket.socket()
    srv.bind(("127.0.0.1", port))
    srv.listen()
    run.forward_tcp(srv.getsockname()[1])
    return srv
def spec(name, code, *args):
    return CandidateSpec(name, ["python", "-c", code, *args], run.area / "work", {},
                         rw=[run.area / "work"])
hang_up = "import socket, sys; s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5); s.sendall(b'hi'); s.close()"
ask = "import socket, sys; s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5); s.sendall(b'late'); print(s.recv(100).decode())"
first = server(pool[0])
# The answer comes after the candidate has hung up: writing it meets a closed peer.
run.spawn(spec("early", hang_up, str(first.getsockname()[1]))).wait(20)
conn, _ = first.accept()
conn.recv(100)
time.sleep(0.3)
try:
    for _ in range(64):
        conn.sendall(b"x" * 65536)
except OSError:
    pass
conn.close()
time.sleep(0.3)
second = server(pool[1])
def serve():
    c, _ = second.accept()
    c.sendall(b"judge says " + c.recv(100))
    c.close()
threading.Thread(target=serve, daemon=True).start()
print(json.dumps({"late": run.spawn(spec("late", ask, str(second.getsockname()[1]))).wait(20)}))
"""


@check
def check_forwarding_outlives_a_peer_that_hung_up(mode: str) -> tuple[list[str], dict[str, Any]]:
    """A judge-side answer written after the candidate hung up does not end the forwarding:
    a later server is still reachable (namespaces: the relay once died of SIGPIPE here)."""
    return _late_hears_the_judge(mode, GONE_PEER_JUDGE)


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
