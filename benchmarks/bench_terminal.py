"""The terminal pane's shell: start, keystroke echo and flood drain, against a bare pty bash.

The pane runs bash inside the sandbox (ShellSession: a SandboxRun, its supervisor, the
isolation steps); the baseline is the same bash on a plain pseudo-terminal, started and read
the same way, in the same run, interleaved. Ratios, not absolute times, are what to compare.

    PYTHONPATH=. python benchmarks/bench_terminal.py [--runs 7] [--keys 40]

Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tui_assess.sandbox import Limits
from tui_assess.ui.shell import SHELL_ENV, ShellSession, shell_argv

FLOOD = b"yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 20000000; echo flood-$((1+1))done\r"


class BarePty:
    """bash on a plain pty: the baseline (no sandbox)."""

    def __init__(self, cwd: Path) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            os.chdir(cwd)
            os.execvpe(shell_argv()[0], shell_argv(), {**os.environ, **SHELL_ENV})
        os.set_blocking(self.fd, False)

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def take_output(self) -> str:
        chunks = []
        while select.select([self.fd], [], [], 0)[0]:
            try:
                chunk = os.read(self.fd, 65536)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")

    def close(self) -> None:
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def wait_for(shell: BarePty | ShellSession, text: str, timeout: float = 60.0) -> str:
    seen, end = "", time.monotonic() + timeout
    while text not in seen:
        seen = (seen + shell.take_output())[-200_000:]
        if time.monotonic() > end:
            raise RuntimeError(f"{text!r} never came")
        time.sleep(0.001)
    return seen


def start(kind: str, cwd: Path) -> BarePty | ShellSession:
    if kind == "bare":
        return BarePty(cwd)
    session = ShellSession(cwd, Limits())
    session.start()
    return session


def measure(kind: str, cwd: Path, keys: int) -> dict[str, float]:
    t0 = time.perf_counter()
    shell = start(kind, cwd)
    try:
        wait_for(shell, "\x1b]133;B\x07")
        started = time.perf_counter() - t0
        echoes = []
        for _ in range(keys):
            t = time.perf_counter()
            shell.write(b"x")
            wait_for(shell, "x")
            echoes.append(time.perf_counter() - t)
            shell.write(b"\x7f")
            wait_for(shell, "\x08")
        t = time.perf_counter()
        shell.write(FLOOD)
        wait_for(shell, "flood-2done\r\n", timeout=300)
        flood = time.perf_counter() - t
    finally:
        shell.close()
    return {"start": started, "echo": statistics.median(echoes), "flood": flood}


def results_mode(cwd: Path) -> str:
    cwd.mkdir(exist_ok=True)
    session = ShellSession(cwd, Limits())
    session.start()
    try:
        return session.sandbox_mode
    finally:
        session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    cwd = Path(tempfile.mkdtemp(prefix="bench-terminal-"))
    results: dict[str, list[dict[str, float]]] = {"bare": [], "pane": []}
    try:
        for _ in range(args.runs):
            for kind in results:
                results[kind].append(measure(kind, cwd, args.keys))
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    def med(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in results[kind])

    print(f"runs {args.runs}, {args.keys} keys each; sandbox {results_mode(cwd)}; "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| measure | bare pty bash | terminal pane (sandboxed) | ratio |")
    print("|---|---|---|---|")
    for key, words, unit, scale in (
        ("start", "start to the first prompt", "ms", 1000),
        ("echo", "key to its echo (median)", "ms", 1000),
        ("flood", "20 MB of `yes` drained", "s", 1),
    ):
        bare, pane = med("bare", key), med("pane", key)
        print(f"| {words} | {bare * scale:.1f} {unit} | {pane * scale:.1f} {unit} "
              f"| {pane / bare:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
