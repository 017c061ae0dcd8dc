"""What a trusted process inside a run (the judge) uses to start candidate processes.

    run = current_run()
    if run is None:  # not inside a SandboxRun: the dev/test path, unsandboxed (say so)
        ...
    host = run.spawn(CandidateSpec("host", ["python", "-I", "-S", host_py], cwd, env, rw=[...]))
    run.forward_tcp(port)  # a server the judge runs on 127.0.0.1:port, reachable by candidates
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path
from typing import Any

from tui_assess.sandbox._channel import Channel
from tui_assess.sandbox.spec import CandidateProc, CandidateSpec, ExitBook, SandboxError

ENV_CTL = "TUI_ASSESS_SANDBOX_CTL"

_lock = threading.Lock()
_current: RunClient | None = None


class RunClient:
    """A trusted process's connection to its run's supervisor. Thread-safe."""

    def __init__(self, sock: socket.socket) -> None:
        self._book = ExitBook()
        self._channel = Channel(sock, self._on_message, self._on_close)
        info = self._channel.request({"op": "hello"}, timeout=10.0)
        self.mode: str = info["mode"]
        """"namespaces" | "landlock" | "rlimits": what the candidates get."""
        self.area = Path(info["area"])
        """The run's area: what candidates may see (work/, scratch/, their own folders)."""
        self.run_dir = Path(info["run_dir"])
        self.ports: tuple[int, ...] = tuple(info.get("ports", ()))
        """landlock mode: the run's loopback port pool. Servers the judge starts for candidates
        bind one of these (the only TCP ports candidates may connect to); elsewhere empty."""

    def spawn(self, spec: CandidateSpec) -> CandidateProc:
        """Start a candidate; `.pid` is its pid as this process and the runner see it."""
        fds = ([spec.tty] if spec.tty is not None else []) + list(spec.pass_fds)
        reply = self._channel.request({"op": "spawn", "spec": spec.to_wire()}, fds)
        proc = CandidateProc(spec.name, int(reply["pid"]), self._kill)
        self._book.file(proc)
        return proc

    def forward_tcp(self, port: int) -> None:
        """Make this process's 127.0.0.1:port reachable at 127.0.0.1:port in every candidate.

        namespaces: a relay into each candidate's network namespace (now and later ones);
        landlock: the port must be one of `ports`; rlimits: nothing to do (shared network).
        """
        self._channel.request({"op": "forward", "port": int(port)})

    def _kill(self, pid: int) -> None:
        self._channel.request({"op": "kill", "pid": pid}, timeout=10.0)

    def _on_message(self, msg: dict[str, Any], fds: list[int]) -> None:
        for fd in fds:
            os.close(fd)
        if msg.get("ev") == "exited":
            self._book.exited(int(msg["pid"]), int(msg["returncode"]))

    def _on_close(self) -> None:
        self._book.end_all(-signal.SIGKILL)


def current_run() -> RunClient | None:
    """The run this process was started in by SandboxRun.start_trusted, or None outside one."""
    global _current
    with _lock:
        if _current is not None:
            return _current
        value = os.environ.get(ENV_CTL, "")
        if not value.isdigit():
            return None
        fd = int(value)
        try:
            sock = socket.socket(fileno=fd)
        except OSError as exc:
            raise SandboxError(f"{ENV_CTL}={value} is not an open socket ({exc})") from exc
        os.set_inheritable(fd, False)
        _current = RunClient(sock)
        return _current
