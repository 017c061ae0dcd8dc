"""The terminal pane's shell, headless: a real shell on a pseudo-terminal, inside the sandbox.

`ShellSession` starts `bash` (or `sh`) as a candidate process of its own `SandboxRun`, with the
candidate's real workspace as its only writable folder and the challenge's `[limits]` (memory,
processes, disk, open files, CPU per process), on a pty whose master end this class reads and
writes. It knows nothing of Textual: the pane (ui/widgets/terminal.py) pulls output with
`take_output()` on its own clock and pushes keys with `write()`.

- Output is read by a thread into a bounded buffer; when the pane falls behind, the thread
  stops reading, so a program flooding the terminal is slowed down by the kernel (as a real
  terminal does) instead of filling memory or starving the app.
- Input is queued and written by the same thread when the pty can take it: a shell that does
  not read its input (a long `sleep`) never blocks the app.
- The shell reports where its prompt ends, when it accepts a command line and each command's
  exit status with OSC 133 escape sequences (the "shell integration" marks terminals such as
  VS Code use), set up through the environment (PS1, PS0, PROMPT_COMMAND); the pane uses them
  to record each command line as the screen showed it when the shell took it.
- `close()` ends everything: the run's `close()` kills every process the shell started and
  verifies they are gone (also `nohup` and `setsid` ones, as far as the sandbox mode can).
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import fcntl
import os
import pty
import selectors
import shutil
import signal
import struct
import termios
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_assess.sandbox import CandidateExited, LimitReached, Limits, SandboxRun
from tui_assess.sandbox.spec import CandidateProc, CandidateSpec

MAX_PENDING_BYTES = 256 * 1024
"""Output read but not yet taken by the pane; past it the reader waits (back-pressure)."""
SHELL_WALL_SECONDS = 24 * 3600.0
"""The shell's run has no wall-clock limit worth the name; commands get the CPU limit."""
OSC_PROMPT_END = "\x1b]133;B\x07"
OSC_COMMAND_START = "\x1b]133;C\x07"
OSC_COMMAND_DONE = "\x1b]133;D;"
SHELL_ENV = {
    # The prompt: the folder's name and `$`, then the mark where the command line starts.
    "PS1": r"\[\e]133;A\a\]\W \$ \[\e]133;B\a\]",
    "PS0": r"\e]133;C\a",
    "PROMPT_COMMAND": r'printf "\033]133;D;%s\007" "$?"',
    "HISTFILE": "/dev/null",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def shell_limits(limits: Any) -> Limits:
    """The pane's limits from the challenge's `[limits]` (a test run's): the same memory,
    process, disk and open-file budgets, CPU time per process (so a runaway command is killed
    and said so), and no wall clock for the shell itself."""
    return Limits(
        timeout_seconds=SHELL_WALL_SECONDS,
        memory_mb=int(getattr(limits, "memory_mb", 1024)),
        processes=int(getattr(limits, "processes", 64)),
        output_kb=int(getattr(limits, "output_kb", 1024)),
        cpu_seconds=float(
            getattr(limits, "cpu_seconds", None) or getattr(limits, "timeout_seconds", None) or 60.0
        ),
        disk_mb=int(getattr(limits, "disk_mb", 256)),
        open_files=int(getattr(limits, "open_files", 1024)),
    )


def shell_argv() -> list[str]:
    """bash without the user's rc files (the sandbox would not show them anyway), else sh."""
    bash = shutil.which("bash")
    if bash:
        return [bash, "--noprofile", "--norc", "-i"]
    return [shutil.which("sh") or "/bin/sh", "-i"]


@dataclass(frozen=True)
class ShellEnded:
    """The shell is gone: `returncode` as subprocess spells it; `reason` in plain words."""

    returncode: int | None
    reason: str


class ShellSession:
    """One shell in the sandbox. Thread-safe: the pane calls from the UI thread, callbacks
    (`on_limit`, `on_exit`) come from background threads."""

    def __init__(
        self,
        workspace: Path,
        limits: Any,
        *,
        rows: int = 24,
        cols: int = 80,
        on_limit: Callable[[str], None] | None = None,
        on_exit: Callable[[ShellEnded], None] | None = None,
        mode: str = "auto",
    ) -> None:
        self.workspace = workspace
        self.limits = shell_limits(limits)
        self.rows, self.cols = rows, cols
        self.on_limit = on_limit
        self.on_exit = on_exit
        self.mode = mode
        self.run: SandboxRun | None = None
        self.proc: CandidateProc | None = None
        self.argv = shell_argv()
        self._master = -1
        self._lock = threading.Condition()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._input = bytearray()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._thread: threading.Thread | None = None
        self._closed = False
        self._run_closed = False
        self._shell_exited = False
        self.limit_words = ""
        """Why the sandbox stopped the shell, when a limit did."""
        self.ended: ShellEnded | None = None

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Make the run and start the shell; raises SandboxError (one sentence) if it cannot."""
        self.run = SandboxRun(self.limits, self.mode, on_event=self._sandbox_event)
        master, slave = pty.openpty()
        try:
            self._master = master
            self._set_size(self.rows, self.cols)
            os.set_blocking(master, False)
            spec = CandidateSpec(
                name="shell",
                argv=self.argv,
                cwd=self.workspace,
                env=dict(SHELL_ENV),
                rw=[self.workspace],
                tty=slave,
            )
            self.proc = self.run.spawn(spec)
        except BaseException:
            os.close(master)
            self._master = -1
            self.run.close()
            raise
        finally:
            os.close(slave)
        self._thread = threading.Thread(target=self._pump, name="terminal-pane", daemon=True)
        self._thread.start()

    @property
    def sandbox_mode(self) -> str:
        return self.run.mode if self.run is not None else ""

    @property
    def guarantees(self) -> dict[str, str]:
        return dict(self.run.guarantees) if self.run is not None else {}

    @property
    def alive(self) -> bool:
        return self.ended is None and self.proc is not None

    def close(self) -> None:
        """Kill the shell and everything it started; remove the run. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._lock.notify_all()
        self._wake()
        if self.proc is not None:
            self.proc.kill()
        self._close_run()
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(OSError):
            os.close(self._wake_r)
        with contextlib.suppress(OSError):
            os.close(self._wake_w)
        self._finish(None, "closed", notify=False)  # the caller knows: no callback

    def _close_run(self) -> None:
        with self._lock:
            if self._run_closed or self.run is None:
                return
            self._run_closed = True
        self.run.close()

    def _finish(self, returncode: int | None, reason: str, notify: bool = True) -> None:
        with self._lock:
            if self.ended is not None:
                return
            if self._closed:  # the reader saw the kill that close() sent: it was closed
                returncode, reason, notify = None, "closed", False
            self.ended = ShellEnded(returncode, reason)
        if notify and self.on_exit is not None:
            self.on_exit(self.ended)

    def _sandbox_event(self, event: object) -> None:
        if isinstance(event, LimitReached):
            self.limit_words = event.words
            if self.on_limit is not None:
                self.on_limit(event.words)
        elif isinstance(event, CandidateExited) and event.name == "shell":
            # Its jobs may still hold the terminal open: end the pane's run all the same.
            self._shell_exited = True
            self._wake()

    def explain_exit(self, status: int | None) -> str | None:
        """Plain words when a command's exit status says a limit stopped it: the shell's
        children are not the sandbox's candidates, so their end reaches us only as a status."""
        if status == 128 + signal.SIGXCPU:
            return (
                f"the command used more than {self.limits.cpu_limit_seconds:g} seconds of CPU "
                "time and was stopped (the per-process CPU limit)."
            )
        if status == 128 + signal.SIGKILL:
            return (
                "the command was killed (SIGKILL): it went past the "
                f"{self.limits.memory_mb} MB memory limit, or something killed it."
            )
        return None

    # -- the terminal ---------------------------------------------------------------------------

    def _set_size(self, rows: int, cols: int) -> None:
        fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def resize(self, rows: int, cols: int) -> None:
        """Tell the shell the pane's size (the kernel sends SIGWINCH to what runs in it)."""
        rows, cols = max(rows, 2), max(cols, 10)
        if (rows, cols) == (self.rows, self.cols) or self._master < 0 or self.ended:
            return
        self.rows, self.cols = rows, cols
        with contextlib.suppress(OSError):
            self._set_size(rows, cols)

    def write(self, data: bytes) -> None:
        """Queue keys for the shell; the reader thread writes them as the pty takes them."""
        if not data or self.ended is not None:
            return
        with self._lock:
            self._input.extend(data)
        self._wake()

    def take_output(self) -> str:
        """Everything read since the last call, decoded (UTF-8, split characters kept)."""
        with self._lock:
            chunks, self._pending = self._pending, []
            self._pending_bytes = 0
            self._lock.notify_all()
        return self._decoder.decode(b"".join(chunks)) if chunks else ""

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _pump(self) -> None:
        """Read the pty into the pending buffer, write queued input into it, until it closes."""
        master = self._master
        sel = selectors.DefaultSelector()
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        sel.register(master, selectors.EVENT_READ, "pty")
        try:
            while True:
                with self._lock:
                    while self._pending_bytes >= MAX_PENDING_BYTES and not self._closed:
                        self._lock.wait(0.5)  # the pane is behind: stop reading for now
                    if self._closed:
                        return
                    want_write = bool(self._input)
                sel.modify(
                    master,
                    selectors.EVENT_READ | (selectors.EVENT_WRITE if want_write else 0),
                    "pty",
                )
                for key, events in sel.select(0.5):
                    if key.data == "wake":
                        with contextlib.suppress(BlockingIOError):
                            os.read(self._wake_r, 4096)
                        continue
                    if events & selectors.EVENT_WRITE:
                        self._write_some(master)
                    if events & selectors.EVENT_READ and not self._read_some(master):
                        self._pty_closed()
                        return
                if self._shell_exited:
                    while self._read_some(master, drain=True):
                        pass  # what the shell printed last
                    self._pty_closed()
                    return
        finally:
            sel.close()
            with contextlib.suppress(OSError):
                os.close(master)
            self._master = -1

    def _read_some(self, master: int, drain: bool = False) -> bool:
        """Read one chunk; False once the terminal is closed (or, draining, when empty)."""
        try:
            chunk = os.read(master, 65536)
        except BlockingIOError:
            return not drain
        except OSError as exc:  # EIO: every process holding the terminal is gone
            return exc.errno not in (errno.EIO, errno.EBADF)
        if not chunk:
            return False
        with self._lock:
            self._pending.append(chunk)
            self._pending_bytes += len(chunk)
        return True

    def _write_some(self, master: int) -> None:
        with self._lock:
            data = bytes(self._input[:4096])
        try:
            n = os.write(master, data)
        except BlockingIOError:
            return
        except OSError:
            n = len(data)  # the terminal is going away: drop what it cannot take
        with self._lock:
            del self._input[:n]

    def _pty_closed(self) -> None:
        rc = self.proc.wait(2) if self.proc is not None else None
        if self.limit_words:
            reason = self.limit_words
        elif rc is not None and rc < 0:
            reason = f"the shell was killed (signal {-rc})"
        else:
            reason = f"the shell exited (status {rc})"
        self._close_run()  # nothing it started outlives it
        self._finish(rc, reason)
