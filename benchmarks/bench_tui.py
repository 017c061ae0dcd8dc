"""TUI speed: cold start to the first interactive screen, and keystroke-to-screen latency.

Both are measured on the real command in a pseudo-terminal (100x32), the way a terminal sees
it: the clock starts when the process is spawned (or the key is written) and stops when the
expected text has been written to the terminal. A minimal Textual app is measured in the same
run, interleaved, as the baseline for this machine.

    PYTHONPATH=. python benchmarks/bench_tui.py [--runs 7] [--keys 60]

Prints a Markdown table (the figures in BENCHMARKS.md, section "TUI", come from it).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "challenges" / "fix-sum"
ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[\]P_^][^\x1b\x07]*(?:\x07|\x1b\\)|\x1b.")
COLS, ROWS = 100, 32

MINIMAL_APP = textwrap.dedent(
    """
    from textual.app import App
    from textual.widgets import Footer, Label

    class Minimal(App):
        def compose(self):
            yield Label("minimal app ready")
            yield Footer()

    Minimal().run()
    """
)

PLAIN_TEXTAREA_APP = textwrap.dedent(
    """
    import sys
    from textual.app import App
    from textual.widgets import TextArea

    class Plain(App):
        BINDINGS = [("ctrl+q", "quit", "Quit")]
        def compose(self):
            yield TextArea(open(sys.argv[1]).read(), show_line_numbers=True)
        def on_mount(self):
            self.query_one(TextArea).focus()

    Plain().run()
    """
)


class Pty:
    """A child process on a pseudo-terminal; output is read and un-escaped as it arrives."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.raw = b""
        self.text = b""
        self._done = 0  # raw[:_done] is un-escaped into _done_text and never looked at again
        self._done_text = b""

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            self.raw += chunk
            # Answer nothing; strip escapes. A sequence may straddle reads, so the tail from
            # the last CSI start is un-escaped again on every read; what precedes it is
            # complete (no sequence contains an ESC [) and done once. Un-escaping the whole
            # buffer on every read cost the harness ~10 ms a read after a minute of typing,
            # which the keystroke rows counted as the app's latency.
            cut = self.raw.rfind(b"\x1b[", self._done)
            if cut > self._done:
                self._done_text += ANSI.sub(b"", self.raw[self._done : cut])
                self._done = cut
            self.text = self._done_text + ANSI.sub(b"", self.raw[self._done :])

    def wait_for(self, needle: bytes, timeout: float = 60.0, since: int = 0) -> float:
        """Seconds (perf_counter) when needle appeared in the un-escaped output after `since`."""
        deadline = time.perf_counter() + timeout
        while needle not in self.text[since:]:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{needle!r} did not appear")
            self._read(0.05)
        return time.perf_counter()

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        try:
            self.write(b"\x11")  # ctrl+q
        except OSError:
            pass
        deadline = time.perf_counter() + 5
        while self.proc.poll() is None and time.perf_counter() < deadline:
            self._read(0.05)  # keep reading: an app blocked writing to a full pty never exits
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)


def base_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TUI_ASSESS_HOME=str(home),
        PYTHONPATH=str(REPO),
        TERM="xterm-256color",
        COLUMNS=str(COLS),
        LINES=str(ROWS),
    )
    env.pop("TEXTUAL", None)
    return env


def tui_assess_argv() -> list[str]:
    script = Path(sys.executable).parent / "tui-assess"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui_assess"]


def cold_start(runs: int, tmp: Path) -> tuple[list[float], list[float]]:
    minimal_py = tmp / "minimal_app.py"
    minimal_py.write_text(MINIMAL_APP)
    ours, minimal = [], []
    for i in range(runs):
        home = tmp / f"home-{i}"
        shutil.rmtree(home, ignore_errors=True)
        p = Pty([*tui_assess_argv(), "practice", str(FIXTURE)], base_env(home))
        try:
            ours.append(p.wait_for(b"def add(a, b):") - p.started)
        finally:
            p.close()
        p = Pty([sys.executable, str(minimal_py)], base_env(home))
        try:
            minimal.append(p.wait_for(b"minimal app ready") - p.started)
        finally:
            p.close()
    return ours, minimal


def make_big_challenge(tmp: Path, lines: int = 2000) -> Path:
    """fix-sum with a 2,000-line calc.py whose first line is a unique marker comment."""
    dest = tmp / "challenges" / "fix-sum"
    shutil.copytree(FIXTURE, dest)
    body = (FIXTURE / "starter" / "calc.py").read_text()
    filler = [f"def helper_{i}(x):\n    return x * {i}  # filler line {i}\n" for i in range(lines)]
    text = body + "".join(filler)
    text_lines = text.splitlines()[: lines - 1]
    text = "# MARK\n" + "\n".join(text_lines[1:]) + "\n"
    (dest / "starter" / "calc.py").write_text(text)
    return dest


def keystrokes(p: Pty, keys: int, prefix: bytes) -> list[float]:
    """Type letters at the end of the first line (the marker); one latency per key."""
    p.write(b"\x1b[F")  # end
    time.sleep(0.5)
    latencies = []
    typed = b""
    letters = b"abcdefghijklmnopqrstuvwxyz"
    for i in range(keys):
        ch = letters[i % 26 : i % 26 + 1]
        typed += ch
        since = len(p.text)
        t0 = time.perf_counter()
        p.write(ch)
        # the last 7 characters of the line: still on screen once the line scrolls sideways
        t1 = p.wait_for((prefix + typed)[-7:], since=since)
        latencies.append(t1 - t0)
        time.sleep(0.03)  # a fast typist: ~30 keys a second
    return latencies


def keystroke_latency(keys: int, tmp: Path) -> tuple[list[float], list[float]]:
    challenge = make_big_challenge(tmp)
    home = tmp / "home-keys"
    p = Pty([*tui_assess_argv(), "practice", str(challenge)], base_env(home))
    try:
        p.wait_for(b"def add(a, b):")
        time.sleep(1.0)
        ours = keystrokes(p, keys, b"# MARK")
    finally:
        p.close()
    plain_py = tmp / "plain_textarea.py"
    plain_py.write_text(PLAIN_TEXTAREA_APP)
    p = Pty([sys.executable, str(plain_py), str(challenge / "starter" / "calc.py")], base_env(home))
    try:
        p.wait_for(b"def add(a, b):")
        time.sleep(1.0)
        plain = keystrokes(p, keys, b"# MARK")
    finally:
        p.close()
    return ours, plain


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f}"


def p95(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="cold starts of each app")
    parser.add_argument("--keys", type=int, default=60, help="keystrokes typed in each editor")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        ours, minimal = cold_start(args.runs, tmp)
        typed, plain = keystroke_latency(args.keys, tmp)
    load = os.getloadavg()[0]
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load:.1f}; Python "
        f"{sys.version.split()[0]}; terminal {COLS}x{ROWS} (pty)\n"
    )
    print("| measurement | median ms | p95 ms | runs |")
    print("|---|---|---|---|")
    print(
        f"| cold start: `tui-assess practice` to the editor drawn | {ms(ours)} | {p95(ours)} "
        f"| {len(ours)} |"
    )
    print(
        f"| cold start: minimal Textual app (Label + Footer) | {ms(minimal)} | {p95(minimal)} "
        f"| {len(minimal)} |"
    )
    print(
        f"| keystroke to screen: tui-assess editor, 2,000-line file | {ms(typed)} | "
        f"{p95(typed)} | {len(typed)} |"
    )
    print(
        f"| keystroke to screen: plain TextArea, same file | {ms(plain)} | {p95(plain)} "
        f"| {len(plain)} |"
    )


if __name__ == "__main__":
    main()
