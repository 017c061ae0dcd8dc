"""HTTP console back end (headless): serve the candidate's app on 127.0.0.1 and call it.

Convention (documented in the README and the help screen): the workspace has a module
`app.py` (or `api.py`, `main.py`, `server.py`, `service.py`) that exposes either

- `app`: a WSGI callable, or
- `make_app(...)`: a function returning a WSGI callable. Its parameters without defaults are
  filled by name for a scratch run: a name containing `dir` or `folder` gets a copy of the
  workspace folder it names (`files_dir` -> `files/`) or a new empty one, a name containing
  `db`, `path` or `file` a scratch copy of the database (the challenge's `[seed] database`, else
  the workspace's first `*.db`), so the console never changes the candidate's files.

The app runs in a child process (`python -m tui_assess.ui.http_service MODULE WORKSPACE
[DATABASE]`), with the workspace as current directory and first on sys.path, on an ephemeral
loopback port it prints on its first line. Crashes and endless loops in the candidate's code
stay there. An exception that escapes the app becomes a 500 whose body is the traceback, and
what the app writes to stderr (logging, its own tracebacks) is kept so the console can show
what it printed while answering a request.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
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


class AppServer:
    """A child process serving the workspace's app; start() blocks until it listens."""

    def __init__(self, workspace: Path, module: str, database: Path | None = None) -> None:
        self.workspace = workspace
        self.module = module
        self.database = database
        self.proc: subprocess.Popen[str] | None = None
        self.port: int | None = None
        self.log: deque[str] = deque(maxlen=LOG_LINES)
        self.lines_logged = 0
        """Lines written to stderr so far (the log keeps the last LOG_LINES)."""

    def start(self, timeout: float = 10.0) -> int:
        env = dict(os.environ)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        argv = [sys.executable, "-m", "tui_assess.ui.http_service"]
        argv += [self.module, str(self.workspace)]
        if self.database is not None:
            argv.append(str(self.database))
        self.proc = subprocess.Popen(
            argv,
            cwd=self.workspace,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            err = ""
            try:
                _out, err = self.proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stop()
            last = (err or line or "no output").strip().splitlines()[-1:]
            raise RuntimeError(f"the app did not start: {' '.join(last)}")
        self.port = int(line)
        threading.Thread(target=self._read_log, args=(self.proc,), daemon=True).start()
        return self.port

    def _read_log(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        try:
            for line in proc.stderr:
                self.log.append(line.rstrip("\n"))
                self.lines_logged += 1
        except (OSError, ValueError):
            pass

    def log_since(self, mark: int) -> list[str]:
        """Lines logged after `mark` (a value of lines_logged)."""
        new = self.lines_logged - mark
        return list(self.log)[-new:] if new > 0 else []

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: str = ""
    ) -> HttpResponse:
        """send_request to this server, with what the app logged meanwhile."""
        assert self.port is not None
        mark = self.lines_logged
        response = send_request(self.port, method, path, headers, body)
        time.sleep(0.05)  # a log line written just before the answer reaches the pipe late
        response.log = self.log_since(mark)
        return response

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None
        self.port = None


def send_request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: str = "",
    timeout: float = 10.0,
) -> HttpResponse:
    """One request to 127.0.0.1:port; errors land in .error, never raise."""
    result = HttpResponse()
    path = urllib.parse.quote(path.strip(), safe=URL_SAFE)
    if not path.startswith("/"):
        path = "/" + path
    start = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
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
    import shutil
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


def _serve(  # pragma: no cover - child process
    module_name: str, workspace: str, database: str | None = None
) -> None:
    import importlib
    from wsgiref.simple_server import WSGIRequestHandler, make_server

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

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = make_server(
        "127.0.0.1", 0, show_tracebacks(application), handler_class=QuietHandler
    )
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    _serve(*sys.argv[1:4])
