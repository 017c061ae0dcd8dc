"""The judge's pytest plugin: the host, the import hook, and the results stream.

Loaded by `python -m tui_assess.judge` (see `__main__.py`) in the trusted judge process. It

- starts the candidate host (through the sandbox when the judge runs inside a `SandboxRun`,
  as a plain subprocess on the dev/test path) and puts a `WorkspaceFinder` at the end of
  `sys.meta_path`, so `import report` in a test yields a proxy of the host's module;
- guards every SQLite connection of this process (`proxy.guard_sqlite`) and makes every
  loopback port this process listens on reachable from the sandbox (`forward_tcp`); a port
  that cannot be made reachable is said, in plain words, on the test that was running (when
  it fails) and in the run's reason;
- streams, over a pipe only the runner holds, the collected test ids first and then one
  start and one result event per test, each line signed with a key only the runner knows;
- caps every message (pass, fail, error, skip, xfail), and for a hidden suite keeps only a
  one-line reason and never a line of the suite's source;
- fails every remaining test with a plain reason once the host is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tui_assess.judge.proxy import (
    HostConnection,
    HostDied,
    ModuleProxy,
    Placeholder,
    WorkspaceFinder,
    guard_sqlite,
)

MAX_MESSAGE = {"visible": 4000, "hidden": 300}
"""Longest message kept per test, by suite."""
MIN_QUOTED_LINE = 20
"""A line of the hidden suite at least this long found in a message withholds the message."""
WITHHELD = "(details withheld: the message quoted the hidden tests)"
HOST_FILES = ("_host.py", "protocol.py")
"""The host runtime: copied into the run's host folder (stdlib only)."""


@dataclass
class JudgeConfig:
    """Where things are in the run (all absolute), and what to run."""

    tests: Path
    """The suite's folder (private: never visible to candidates)."""
    workspace: Path
    """The workspace copy: the host's current folder, also the judge's."""
    scratch: Path
    """pytest's basetemp: tmp_path lives here, at the same path for the host."""
    host_dir: Path
    """The host runtime folder (read-only for candidates)."""
    suite: str = "visible"
    results_fd: int = -1
    key: bytes = b""
    go_fd: int = -1
    """Where the runner says "go" once the workspace is in place (-1: it already is)."""
    end_process: bool = False
    """End this process as soon as its last word is out (the judge process: what pytest does
    after that, five full garbage collections and the interpreter's exit, is of no use)."""


class ResultStream:
    """JSON lines to the runner, each `payload SP hmac-sha256(key, payload)` with a sequence
    number inside, so a line written by anyone without the key (or out of order) is noticed."""

    def __init__(self, fd: int, key: bytes) -> None:
        self._fd = fd
        if fd >= 0:
            os.set_inheritable(fd, False)
        self._key = key
        self._seq = 0
        self._lock = threading.Lock()

    def emit(self, event: dict[str, Any]) -> None:
        if self._fd < 0:
            return
        with self._lock:
            self._seq += 1
            payload = json.dumps({"seq": self._seq, **event}, sort_keys=True)
            mac = hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()
            # One write, starting with a line break: bytes someone else put on the pipe
            # without one end there instead of swallowing this line.
            data = f"\n{payload} {mac}\n".encode()
            with contextlib.suppress(OSError):
                while data:
                    data = data[os.write(self._fd, data):]


def verify_line(line: str, key: bytes) -> dict[str, Any] | None:
    """The event of one signed line, or None when it is not signed with `key`."""
    payload, _, mac = line.rstrip("\n").rpartition(" ")
    good = hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()
    if not payload or not hmac.compare_digest(mac, good):
        return None
    try:
        event = json.loads(payload)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _crash_line(report: Any) -> str:
    """The one-line reason (exception and message), without test source."""
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message).splitlines()[0] if crash.message else ""
    text = str(report.longrepr or "")
    lines = [ln[4:].strip() for ln in text.splitlines() if ln.startswith("E   ")]
    if lines:
        return lines[-1]
    return text.strip().splitlines()[-1] if text.strip() else ""


class JudgePlugin:
    def __init__(self, config: JudgeConfig) -> None:
        self.config = config
        self.hidden = config.suite == "hidden"
        self.limit = MAX_MESSAGE["hidden" if self.hidden else "visible"]
        self.stream = ResultStream(config.results_fd, config.key)
        self.conn: HostConnection | None = None
        self.host_proc: Any = None
        self.finder: WorkspaceFinder | None = None
        self.hosted: dict[str, HostConnection] = {}
        self.collect_errors: list[dict[str, str]] = []
        self.import_errors: dict[str, None] = {}
        self._phases: dict[str, dict[str, Any]] = {}
        self._not_run: dict[str, str] = {}
        self._undo: list[Any] = []
        self._source_lines: frozenset[str] = frozenset()  # read once the workspace is there
        self._running = ""  # the node id of the test going on now
        self._lock = threading.Lock()  # servers may start on threads of their own
        self._unreachable: dict[str, list[str]] = {}  # node id ("" outside a test) -> notes
        self.unreachable: list[str] = []
        """Every port that could not be made reachable, in plain words (the run's reason)."""
        self._exitstatus = int(pytest.ExitCode.INTERNAL_ERROR)  # until the session says

    # --- start-up --------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        from tui_assess.judge import api

        self._drop_workspace_from_path()
        self._undo.append(guard_sqlite())
        self._undo.append(_forward_listening_ports(self.forward_failed))
        self.conn = self.start_host("host", self.config.workspace)
        self.finder = WorkspaceFinder(self.config.workspace, self.conn)
        sys.meta_path.append(self.finder)
        api._install(self)

    def _drop_workspace_from_path(self) -> None:
        """The candidate's files are never importable here: only through the host."""
        ws = os.path.realpath(self.config.workspace)
        sys.path[:] = [
            p for p in sys.path if p not in ("", ".") and os.path.realpath(p or ".") != ws
        ]

    def start_host(self, name: str, folder: Path) -> HostConnection:
        """A candidate host serving the modules of `folder` (sandboxed when in a run)."""
        run = _current_run()
        host_py = str(self.config.host_dir / "_host.py")
        procs: list[Any] = []
        # In namespaces mode the host has a network of its own: its servers get sockets
        # bound on the judge's loopback instead (see _host.serve_from_the_judges_network).
        fd_pair = socket.socketpair() if run is not None and run.mode == "namespaces" else None

        def spawn(fd: int) -> int:
            argv = ["python", "-I", "-S", "-u", host_py, str(fd)]
            fds: tuple[int, ...] = (fd,)
            if fd_pair is not None:
                argv.append(str(fd_pair[1].fileno()))
                fds = (fd, fd_pair[1].fileno())
            if run is None:  # the dev/test path: no sandbox (run_suite always has one)
                proc: Any = subprocess.Popen(
                    [getattr(sys, "_base_executable", sys.executable), *argv[1:]],
                    cwd=folder,
                    pass_fds=fds,
                    stdin=subprocess.DEVNULL,
                )
            else:
                from tui_assess.sandbox.spec import CandidateSpec

                proc = run.spawn(
                    CandidateSpec(
                        name=name,
                        argv=argv,
                        cwd=folder,
                        env={"PYTHONDONTWRITEBYTECODE": "1"},
                        rw=[folder, self.config.scratch],
                        ro=[self.config.host_dir],
                        pass_fds=fds,
                    )
                )
            procs.append(proc)
            return int(proc.pid)

        try:
            conn = HostConnection.start(spawn, name=name)
        except (HostDied, OSError, RuntimeError) as exc:
            conn = HostConnection.dead(f"{exc}")
        finally:
            if fd_pair is not None:
                fd_pair[1].close()
        if fd_pair is not None:
            conn.extra_ops["bind"] = _socket_for_host(fd_pair[0], run, self.forward_failed)
        proc = procs[0] if procs else None
        if proc is not None:
            conn.exit_description = lambda: _exit_words(proc)
            if name == "host":
                self.host_proc = proc
        return conn

    # --- collection ------------------------------------------------------------------------

    def _wait_for_the_workspace(self) -> None:
        """A run prepared ahead waits here, configured and with its host up, until the runner
        has copied the workspace in. Ends this process when the run is discarded instead."""
        fd = self.config.go_fd
        if fd >= 0:
            os.set_inheritable(fd, False)
            self.stream.emit({"event": "ready"})
            with os.fdopen(fd, "rb") as go:
                word = go.read(3)
            if word != b"go\n":
                sys.stdout.flush()
                os._exit(0)  # discarded: nothing ran, nothing to report
        if self.hidden:
            self._source_lines = suite_lines(self.config.tests, self.config.workspace)

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> Any:
        self._wait_for_the_workspace()
        if self.conn is not None:
            self.conn.collecting = True
        try:
            yield
        finally:
            if self.conn is not None:
                self.conn.collecting = False

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(
                {"nodeid": report.nodeid or "<collection>", "message": self._message(report)}
            )

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.stream.emit(
            {
                "event": "collected",
                "tests": [item.nodeid for item in session.items],
                "errors": self.collect_errors,
            }
        )

    # --- running ---------------------------------------------------------------------------

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        self._running = nodeid
        self.stream.emit({"event": "start", "nodeid": nodeid})

    def forward_failed(self, note: str) -> None:
        """A loopback port could not be made reachable from the sandbox: said on the test
        going on now (if it does not pass) and in the run's reason, never dropped."""
        with self._lock:
            self._unreachable.setdefault(self._running, []).append(note)
            if note not in self.unreachable:
                self.unreachable.append(note)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        conn = self.conn
        if conn is not None and not conn.ep.alive:
            reason = f"Not run: {conn.why_gone()}."
            self._not_run[item.nodeid] = reason
            raise HostDied(reason)
        broken = _broken_import(item)
        if broken is not None:
            self._not_run[item.nodeid] = str(broken)
            self.import_errors.setdefault(str(broken).splitlines()[0], None)
            raise broken.with_traceback(None)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Any:
        yield
        for conn in (self.conn, *self.hosted.values()):
            if conn is not None and conn.ep.alive:
                # Handles the test dropped, and exceptions raised to it, are released now.
                with contextlib.suppress(HostDied):
                    conn.request("endtest")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        state = self._phases.setdefault(
            report.nodeid, {"status": None, "duration": 0.0, "message": ""}
        )
        state["duration"] += float(getattr(report, "duration", 0.0) or 0.0)
        if report.when == "setup":
            if report.failed:
                state["status"], state["message"] = "error", self._message(report)
                if report.nodeid in self._not_run:
                    state["status"] = "fail"
                    state["message"] = self._cap(self._not_run[report.nodeid])
            elif report.skipped:
                state["status"], state["message"] = "skip", self._message(report)
        elif report.when == "call":
            if hasattr(report, "wasxfail"):
                state["status"] = "skip" if report.skipped else "pass"
                state["message"] = self._message(report)
            elif report.passed:
                state["status"] = "pass"
            elif report.failed:
                state["status"], state["message"] = "fail", self._message(report)
            else:
                state["status"], state["message"] = "skip", self._message(report)
        elif report.when == "teardown":
            if report.failed and state["status"] in (None, "pass"):
                state["status"], state["message"] = "error", self._message(report)
            with self._lock:
                notes = self._unreachable.pop(report.nodeid, [])
                self._running = ""
            if notes and state["status"] in (None, "fail", "error"):
                state["message"] = self._with_notes(state["message"], notes)
            self.stream.emit(
                {
                    "event": "result",
                    "nodeid": report.nodeid,
                    "status": state["status"] or "error",
                    "duration": round(state["duration"], 4),
                    "message": state["message"] if state["status"] != "pass" else "",
                }
            )
            del self._phases[report.nodeid]

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self._exitstatus = int(exitstatus)
        host_gone = self.conn is not None and not self.conn.ep.alive
        self.stream.emit(
            {
                "event": "finished",
                "exitstatus": int(exitstatus),
                "host": self.conn.why_gone() if host_gone and self.conn else "",
                "import_errors": list(self.import_errors),
                "unreachable": list(self.unreachable),
            }
        )

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        from tui_assess.judge import api

        api._install(None)
        if self.finder is not None and self.finder in sys.meta_path:
            sys.meta_path.remove(self.finder)
        for conn in (self.conn, *self.hosted.values()):
            if conn is not None:
                conn.close()
        while self._undo:
            with contextlib.suppress(Exception):
                self._undo.pop()()
        if self.config.end_process:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(self._exitstatus)

    # --- messages --------------------------------------------------------------------------

    def _message(self, report: Any) -> str:
        if report.skipped:
            longrepr = report.longrepr
            if isinstance(longrepr, tuple) and len(longrepr) == 3:
                text = str(longrepr[2]).removeprefix("Skipped: ")
            else:
                text = str(getattr(report, "wasxfail", "") or "")
        elif hasattr(report, "wasxfail"):
            text = str(report.wasxfail or "")
        else:
            text = _crash_line(report) if self.hidden else report.longreprtext
        return self._cap(self._tidy_paths(text))

    def _tidy_paths(self, text: str) -> str:
        """Name the suite's files as the challenge does (`tests/test_x.py:12`), not by where the
        run keeps them (`../../private/tests/...`): the run's layout is noise to a candidate."""
        tests = os.path.realpath(self.config.tests)
        for prefix in (tests, os.path.relpath(tests)):
            text = text.replace(prefix + os.sep, "tests" + os.sep)
        return text

    def _with_notes(self, message: str, notes: list[str]) -> str:
        """The test's message led by why a server was out of its code's reach (the likely
        cause); a hidden suite's stays one line."""
        text = " ".join(notes) + ((" " if self.hidden else "\n") + message if message else "")
        if len(text) > self.limit:
            text = text[: self.limit - 18] + " ... (message cut)"
        return text

    def _cap(self, text: str) -> str:
        if self.hidden:
            text = text.splitlines()[0] if text.strip() else ""
            if any(line in text for line in self._source_lines):
                return WITHHELD
        if len(text) > self.limit:
            text = text[: self.limit - 18] + " ... (message cut)"
        return text


def suite_lines(tests: Path, workspace: Path) -> frozenset[str]:
    """Lines of a (hidden) suite long enough to be recognised in a message or in output,
    except those the candidate's own files contain too."""
    own: set[str] = set()
    for path in _text_files(workspace):
        own.update(ln.strip() for ln in _read_lines(path))
    lines: set[str] = set()
    for path in _text_files(tests):
        for ln in _read_lines(path):
            ln = ln.strip()
            if len(ln) >= MIN_QUOTED_LINE and ln not in own:
                lines.add(ln)
    return frozenset(lines)


def withhold_quotes(text: str, lines: frozenset[str]) -> str:
    """`text` with every line that quotes one of `lines` replaced by a note."""
    if not lines:
        return text
    out = []
    for line in text.splitlines(keepends=True):
        if any(q in line for q in lines):
            line = "[a line quoting the hidden tests was withheld]\n"
        out.append(line)
    return "".join(out)


def _broken_import(item: pytest.Item) -> BaseException | None:
    """The import error of a candidate module the test's module imported, if any."""
    module = getattr(item, "module", None)
    for value in list(getattr(module, "__dict__", {}).values()):
        if isinstance(value, ModuleProxy) and value._tui_error is not None:
            return value._tui_error
        if isinstance(value, Placeholder):
            return value._error
    return None


def _text_files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.rglob("*") if p.is_file() and p.stat().st_size < 2_000_000]
    except OSError:
        return []


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _socket_for_host(channel: socket.socket, run: Any, failed: Callable[[str], None]) -> Any:
    """The judge's side of a host server's bind: a TCP socket bound on this process's
    loopback (port as asked, 0 for any), passed to the host over `channel`; its port.
    A port that cannot be forwarded to the candidate's other processes is told to `failed`."""

    def bind(family: Any, port: Any) -> int | None:
        if family not in (socket.AF_INET, socket.AF_INET6) or type(port) is not int:
            raise ValueError("bad bind request")
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            address = "127.0.0.1" if family == socket.AF_INET else "::1"
            bound: int | None
            try:
                s.bind((address, port))
                bound = s.getsockname()[1]
            except OSError:
                bound = None  # the host raises OSError; it still gets a socket to stay in step
            socket.send_fds(channel, [b"s"], [s.fileno()])
        finally:
            s.close()
        if bound is not None:
            try:
                run.forward_tcp(bound)  # the candidate's own clients reach it too
            except Exception as exc:
                failed(
                    f"The candidate's server on 127.0.0.1:{bound} cannot be reached from the "
                    f"candidate's other processes: {_plain(exc)}."
                )
        return bound

    return bind


def _plain(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).rstrip(".")


def _current_run() -> Any:
    """The sandbox run this judge was started in, or None (the dev/test path)."""
    try:
        from tui_assess.sandbox.client import current_run
    except ImportError:
        return None
    return current_run()


def _exit_words(proc: Any) -> str:
    """How the host ended, in plain words (waits a moment for the exit to be known)."""
    try:
        code = proc.wait(0.5)
    except subprocess.TimeoutExpired:
        code = None
    if code is None:
        return ""
    if code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


def _forward_listening_ports(failed: Callable[[str], None]) -> Any:
    """Every loopback port this process listens on becomes reachable inside the sandbox; in
    landlock mode, servers asked to bind port 0 get a port of the run's pool instead. A port
    that cannot be made reachable is told to `failed` (the server itself keeps listening:
    the tests that need it fail, and say why)."""
    run = _current_run()
    if run is None:
        return lambda: None
    original_bind = socket.socket.bind
    original_listen = socket.socket.listen
    pool = list(getattr(run, "ports", ()) or ())

    def bind(self: socket.socket, address: Any) -> None:
        if (
            pool
            and self.family == socket.AF_INET
            and isinstance(address, tuple)
            and address[1] == 0
            and address[0] in ("127.0.0.1", "localhost", "", "0.0.0.0")
        ):
            for port in pool:
                try:
                    original_bind(self, (address[0], port))
                    return
                except OSError:
                    continue
        original_bind(self, address)

    def listen(self: socket.socket, *args: Any) -> None:
        original_listen(self, *args)
        if self.family == socket.AF_INET:
            port = self.getsockname()[1]
            try:
                run.forward_tcp(port)
            except Exception as exc:
                failed(
                    f"The tests' server on 127.0.0.1:{port} cannot be reached from the "
                    f"candidate's code: {_plain(exc)}."
                )

    socket.socket.bind = bind  # type: ignore[method-assign,assignment]
    socket.socket.listen = listen  # type: ignore[method-assign,assignment]

    def undo() -> None:
        socket.socket.bind = original_bind  # type: ignore[method-assign]
        socket.socket.listen = original_listen  # type: ignore[method-assign]

    return undo
