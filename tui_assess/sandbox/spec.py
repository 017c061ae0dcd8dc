"""What a caller asks the sandbox to start, and the handle it gets back."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CandidateSpec:
    """One candidate process: untrusted code, started inside the run's sandbox."""

    name: str
    """Unique within a run: "host", "reference", "shell"."""
    argv: list[str]
    """argv[0] may be "python" (or "python3"): the interpreter candidates get."""
    cwd: Path
    env: dict[str, str]
    """Merged over a minimal safe environment (PATH, HOME, TMPDIR, LANG)."""
    rw: list[Path]
    """Folders writable for it, visible at the same absolute paths."""
    ro: list[Path] = field(default_factory=list)
    """Extra read-only paths (e.g. the host runtime folder)."""
    tty: int | None = None
    """A pty slave fd that becomes its controlling terminal and its stdin/stdout/stderr."""
    pass_fds: tuple[int, ...] = ()
    """File descriptors it inherits, at the same numbers."""

    def to_wire(self) -> dict[str, object]:
        return {
            "name": self.name,
            "argv": list(self.argv),
            "cwd": str(self.cwd),
            "env": dict(self.env),
            "rw": [str(p) for p in self.rw],
            "ro": [str(p) for p in self.ro],
            "tty": self.tty is not None,
            "pass_fds": list(self.pass_fds),
        }


class SandboxError(Exception):
    """The sandbox could not do what was asked; the message is one plain sentence."""


class ProcessHandle:
    """A process the sandbox started: its pid as the caller sees it, and its exit.

    The supervisor is the parent, so the exit status arrives as a message; `wait` blocks on
    it (no polling). `returncode` follows subprocess: the exit code, or -N for signal N.
    """

    def __init__(self, name: str, pid: int, kill: object) -> None:
        self.name = name
        self.pid = pid
        self.returncode: int | None = None
        self._done = threading.Event()
        self._kill = kill

    def _exited(self, returncode: int) -> None:
        self.returncode = returncode
        self._done.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """The return code, or None if it is still running after `timeout` seconds."""
        self._done.wait(timeout)
        return self.returncode

    def kill(self) -> None:
        """SIGKILL it (and, for a candidate, everything it started)."""
        if self.returncode is None and callable(self._kill):
            self._kill(self.pid)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} pid={self.pid} rc={self.returncode}>"


class CandidateProc(ProcessHandle):
    """A candidate process (untrusted)."""


class TrustedProc(ProcessHandle):
    """The trusted process of a run (the judge): not sandboxed, inside the run's namespaces."""

    stdout: object = None
    """A binary file of its stdout+stderr when the caller gave none (like Popen.stdout)."""


class ExitBook:
    """Handles waiting for their exit; exits that arrive before their handle is filed.

    The supervisor reports an exit as soon as it reaps the process, which can be before the
    spawn reply has been turned into a handle; the book keeps that exit for the handle.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handles: dict[int, ProcessHandle] = {}
        self._early: dict[int, int] = {}

    def file(self, proc: ProcessHandle) -> None:
        with self._lock:
            early = self._early.pop(proc.pid, None)
            if early is None:
                self._handles[proc.pid] = proc
        if early is not None:
            proc._exited(early)

    def exited(self, pid: int, returncode: int) -> None:
        with self._lock:
            handle = self._handles.pop(pid, None)
            if handle is None:
                self._early[pid] = returncode
        if handle is not None:
            handle._exited(returncode)

    def open_handles(self) -> list[ProcessHandle]:
        with self._lock:
            return list(self._handles.values())

    def end_all(self, returncode: int) -> None:
        """The supervisor is gone: whoever is still waiting learns the processes were killed."""
        with self._lock:
            handles, self._handles = list(self._handles.values()), {}
        for handle in handles:
            handle._exited(returncode)
