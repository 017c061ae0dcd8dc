"""HTTP console back end (headless): serve the candidate's app on 127.0.0.1 and call it.

Convention (documented in the README and the help screen): the workspace has a module
`app.py` (or `api.py`, `main.py`, `server.py`, `service.py`) that exposes either

- `app`: a WSGI callable, or
- `make_app(...)`: a function returning a WSGI callable. Its parameters without defaults are
  filled by name for a scratch run: a name containing `dir` or `folder` gets a copy of the
  workspace folder it names (`files_dir` -> `files/`) or a new empty one, a name containing
  `db`, `path` or `file` a scratch copy of the database (the challenge's `[seed] database`, else
  the workspace's first `*.db`), so the console never changes the candidate's files.

The app is candidate code, so it runs **in the sandbox**, as a candidate process of its own
`SandboxRun` (like the terminal pane), on copies made inside the run: the workspace (copied as
`init` copies a starter), the database and this file, started as a script (stdlib only below the
`_serve` line). The candidate's files are never changed; make_app's scratch copies live in the
run too. It serves HTTP on a unix socket in the run's area, which is how the console reaches it
across the sandbox's network namespace. Crashes, endless loops and fork storms in the
candidate's code stay there, under the challenge's limits. An exception that escapes the app
becomes a 500 whose body is the traceback, and what the app writes to stderr (logging, its own
tracebacks) is kept so the console can show what it printed while answering a request.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import sys
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODULE_NAMES = ("app", "api", "main", "server", "service")
TRACEBACK_HEADER = "X-Tui-Assess-Traceback"
"""Set on the 500 the console makes of an exception that escaped the app."""
LOG_LINES = 400
URL_SAFE = "/?&=%:+,;@!$'()*[]~#"
"""Characters kept as typed in a path; anything else (a space, non-ASCII) is percent-encoded."""
APP_RE = re.compile(r"^(def make_app\(|def app\(|app\s*=)", re.MULTILINE)


def find_app_module(workspace: Path) -> str | None:
    """The first conventional module that defines `make_app` or `app` at top level."""
    for name in MODULE_NAMES:
        path = workspace / f"{name}.py"
        if path.is_file() and APP_RE.search(path.read_text(encoding="utf-8", errors="replace")):
            return name
    return None


@dataclass
class HttpResponse:
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""
    elapsed_ms: float = 0.0
    error: str = ""
    log: list[str] = field(default_factory=list)
    """What the app wrote to stderr while it answered (its logging, its tracebacks)."""

    @property
    def traceback(self) -> bool:
        """The app raised: the body is the traceback."""
        return any(k.lower() == TRACEBACK_HEADER.lower() for k, _ in self.headers)


READY = "tui-assess-http: ready"
"""The line the served app prints once it listens."""
SOCKET_NAME = "app.sock"


class AppServer:
    """The workspace's app served in the sandbox; start() blocks until it listens."""

    def __init__(
        self,
        workspace: Path,
        module: str,
        database: Path | None = None,
        limits: Any = None,
        mode: str = "auto",
    ) -> None:
        self.workspace = Path(workspace)
        self.module = module
        self.database = database
        self.limits = limits
        self.mode = mode
        self.run: Any = None
        self.proc: Any = None
        self.socket: Path | None = None
        """Where the console reaches the app (a unix socket, as the runner sees it)."""
        self.log: deque[str] = deque(maxlen=LOG_LINES)
        self.lines_logged = 0
        """Lines written to stderr so far (the log keeps the last LOG_LINES)."""
        self._partial = ""
        self._ready = threading.Event()
        self._lock = threading.Lock()

    @property
    def sandbox_mode(self) -> str:
        return str(self.run.mode) if self.run is not None else ""

    def start(self, timeout: float = 20.0) -> Path:
        """Start the app; the socket it listens on. RuntimeError (one sentence) if it cannot."""
        from tui_assess.sandbox import CandidateSpec, SandboxError, SandboxRun
        from tui_assess.ui.shell import shell_limits

        try:
            self.run = SandboxRun(shell_limits(self.limits), self.mode, on_event=self._event)
        except SandboxError as exc:
            raise RuntimeError(f"the sandbox could not start: {exc}") from None
        from tui_assess.errors import UserError

        console = self.run.area / "console"
        try:
            self._stage_copies()
        except (UserError, OSError) as exc:
            self.stop()
            raise RuntimeError(f"the app could not be copied into the sandbox: {exc}") from None
        sock = console / SOCKET_NAME
        work = console / "ws"
        argv = ["python", "-I", "-B", str(console / "serve.py"), self.module, str(work)]
        if self.database is not None:
            argv += ["--database", str(console / "data" / self.database.name)]
        argv += ["--unix", str(sock)]
        spec = CandidateSpec(
            name="http",
            argv=argv,
            cwd=work,
            env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"},
            rw=[console],
        )
        try:
            self.proc = self.run.spawn(spec)
        except SandboxError as exc:
            self.stop()
            raise RuntimeError(f"the app did not start: {exc}") from None
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                # Its last words are handed over every 100 ms: they may arrive after its end.
                drain = time.monotonic() + 1.0
                while not any(ln.strip() for ln in self.log) and time.monotonic() < drain:
                    time.sleep(0.05)
                last = [ln for ln in list(self.log) if ln.strip()][-1:] or ["no output"]
                self.stop()
                raise RuntimeError(f"the app did not start: {last[0].strip()}")
        self.socket = self.run.host_path(sock)
        return self.socket

    def _stage_copies(self) -> None:
        """The app runs on copies inside the run: the workspace (as `init` copies a starter:
        links only inside it, the challenge's disk cap), the database, and this file."""
        import tempfile

        from tui_assess.safecopy import copy_tree
        from tui_assess.snapshot import not_workspace

        disk_mb = getattr(self.limits, "disk_mb", None) or 256
        with tempfile.TemporaryDirectory(prefix="tui-assess-http-") as tmp:
            stage = Path(tmp)
            copy_tree(self.workspace, stage / "ws", skip=not_workspace,
                      max_bytes=disk_mb * 2**20, cap_name="[limits] disk_mb")
            shutil.copy(Path(__file__), stage / "serve.py")
            if self.database is not None and self.database.is_file():
                (stage / "data").mkdir()
                shutil.copyfile(self.database, stage / "data" / self.database.name)
            self.run.copy_in(stage, "area/console")

    def _event(self, event: Any) -> None:
        from tui_assess.sandbox import CandidateOutput

        if not isinstance(event, CandidateOutput) or event.name != "http":
            return
        with self._lock:
            text = self._partial + event.text
            lines = text.split("\n")
            self._partial = lines.pop()
            for line in lines:
                if line == READY and not self._ready.is_set():
                    self._ready.set()
                    continue
                self.log.append(line)
                self.lines_logged += 1

    def log_since(self, mark: int) -> list[str]:
        """Lines logged after `mark` (a value of lines_logged)."""
        new = self.lines_logged - mark
        return list(self.log)[-new:] if new > 0 else []

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: str = ""
    ) -> HttpResponse:
        """send_request to this server, with what the app logged meanwhile."""
        assert self.socket is not None
        mark = self.lines_logged
        response = send_request(self.socket, method, path, headers, body)
        time.sleep(0.15)  # the sandbox hands output over every 100 ms: a log line written
        # just before the answer arrives a little after it
        response.log = self.log_since(mark)
        return response

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Stop the app and everything it started; remove its run."""
        if self.proc is not None:
            self.proc.kill()
        if self.run is not None:
            self.run.close()
        self.proc = None
        self.run = None
        self.socket = None


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket: how the console reaches an app inside the sandbox."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("127.0.0.1", 80, timeout=timeout)
        self.unix_path = str(path)

    def connect(self) -> None:
        import socket

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def send_request(
    target: int | Path,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: str = "",
    timeout: float = 10.0,
) -> HttpResponse:
    """One request to 127.0.0.1:`target` (a port) or over a unix socket (a path); errors land
    in .error, never raise."""
    result = HttpResponse()
    path = urllib.parse.quote(path.strip(), safe=URL_SAFE)
    if not path.startswith("/"):
        path = "/" + path
    start = time.perf_counter()
    try:
        conn: http.client.HTTPConnection
        if isinstance(target, int):
            conn = http.client.HTTPConnection("127.0.0.1", target, timeout=timeout)
        else:
            conn = _UnixHTTPConnection(target, timeout)
        payload = body.encode() if body else None
        conn.request(method.upper(), path, body=payload, headers=headers or {})
        resp = conn.getresponse()
        raw = resp.read()
        result.status, result.reason = resp.status, resp.reason
        result.headers = list(resp.getheaders())
        result.body = raw.decode("utf-8", errors="replace")
        conn.close()
    except (OSError, http.client.HTTPException) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.elapsed_ms = (time.perf_counter() - start) * 1000
    return result


def parse_headers(text: str) -> dict[str, str]:
    """'Name: value' lines into a dict (blank and malformed lines ignored)."""
    headers: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers[name.strip()] = value.strip()
    return headers


def _scratch_arguments(
    factory: Callable[..., object], workspace: Path, database: Path | None = None
) -> dict[str, str]:
    """Values for make_app's required parameters, by name, in a scratch folder."""
    import inspect
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="tui-assess-http-"))
    databases = [p for p in sorted(workspace.rglob("*")) if p.suffix in (".db", ".sqlite")]
    if database is not None and database.is_file():
        databases.insert(0, database)
    values: dict[str, str] = {}
    for name, param in inspect.signature(factory).parameters.items():
        if param.default is not inspect.Parameter.empty or param.kind in (
            param.VAR_POSITIONAL, param.VAR_KEYWORD
        ):
            continue
        lowered = name.lower()
        if "dir" in lowered or "folder" in lowered:
            folder = scratch / name
            # files_dir -> the workspace's files/ (say, made by the seed), copied
            stem = re.sub(r"_?(dir|directory|folder)$", "", lowered)
            source = workspace / stem
            if stem and source.is_dir():
                shutil.copytree(source, folder, symlinks=True)
            else:
                folder.mkdir()
            values[name] = str(folder)
        elif "db" in lowered or "path" in lowered or "file" in lowered:
            target = scratch / f"{name}.sqlite"
            if databases:
                shutil.copyfile(databases[0], target)
            values[name] = str(target)
        else:
            raise SystemExit(f"make_app() needs {name!r}: the HTTP console cannot guess it")
    return values


def show_tracebacks(application: Callable[..., Iterable[bytes]]) -> Callable[..., Any]:
    """WSGI middleware: an exception escaping the app (or its body) answers 500 with the
    traceback as a plain-text body (and on stderr, like any server log)."""
    import traceback

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        try:
            result = application(environ, start_response)
            try:
                return list(result)  # the body's own errors surface here too
            finally:
                close = getattr(result, "close", None)
                if callable(close):
                    close()
        except Exception:
            text = traceback.format_exc()
            print(text, file=sys.stderr, flush=True)
            headers = [("Content-Type", "text/plain; charset=utf-8"), (TRACEBACK_HEADER, "1")]
            start_response("500 Internal Server Error", headers, sys.exc_info())
            return [text.encode("utf-8", "replace")]

    return wrapped


def _serve(  # pragma: no cover - runs in the sandbox
    module_name: str, workspace: str, database: str | None, unix_path: str
) -> None:
    import importlib
    import socket
    import socketserver
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    sys.path.insert(0, workspace)
    os.chdir(workspace)
    module = importlib.import_module(module_name)
    factory = getattr(module, "make_app", None)
    if callable(factory):
        db = Path(database) if database else None
        application = factory(**_scratch_arguments(factory, Path(workspace), db))
    else:
        application = getattr(module, "app", None)
    if not callable(application):
        print(f"{module_name}.py has neither make_app() nor a WSGI `app`", file=sys.stderr)
        sys.exit(1)

    class UnixWSGIServer(WSGIServer):
        address_family = socket.AF_UNIX

        def server_bind(self) -> None:
            socketserver.TCPServer.server_bind(self)
            self.server_name, self.server_port = "127.0.0.1", 80
            self.setup_environ()

    class QuietHandler(WSGIRequestHandler):
        def setup(self) -> None:
            self.client_address = ("127.0.0.1", 0)  # a unix peer has no address
            super().setup()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = UnixWSGIServer(unix_path, QuietHandler)  # type: ignore[arg-type]  # AF_UNIX
    server.set_app(show_tracebacks(application))
    print(READY, flush=True)
    server.serve_forever()


def _main(argv: list[str]) -> None:  # pragma: no cover - runs in the sandbox
    import argparse

    parser = argparse.ArgumentParser(description="Serve a workspace's WSGI app (HTTP console).")
    parser.add_argument("module")
    parser.add_argument("workspace")
    parser.add_argument("--database")
    parser.add_argument("--unix", required=True)
    args = parser.parse_args(argv)
    _serve(args.module, args.workspace, args.database, args.unix)


if __name__ == "__main__":  # pragma: no cover
    _main(sys.argv[1:])
