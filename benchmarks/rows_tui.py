"""Rows measured on the real command in a pseudo-terminal, against minimal Textual apps."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.bench_tui import (
    FIXTURE,
    PLAIN_TEXTAREA_APP,
    Pty,
    base_env,
    keystrokes,
    make_big_challenge,
    tui_assess_argv,
)
from benchmarks.harness import Row, Size, alternate, median, row, skipped
from tui_assess.sandbox._isolate import parents, tree

READY = b"def add(a, b):"  # a line of fix-sum's calc.py, drawn by the editor
# The keystroke baseline: a TextArea set up like the editor (line numbers, no soft wrap: wrapping
# 10,000 lines on every key would flatter the editor), without highlighting or hooks.
UNWRAPPED_TEXTAREA_APP = PLAIN_TEXTAREA_APP.replace("show_line_numbers=True",
                                                    "show_line_numbers=True, soft_wrap=False")
assert "soft_wrap=False" in UNWRAPPED_TEXTAREA_APP


def app_env(home: Path) -> dict[str, str]:
    """bench_tui's environment, with bytecode caching on whatever this shell says: an
    installed copy runs from cached bytecode, so the apps measured here do too."""
    env = base_env(home)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def tree_cpu_ns(pid: int) -> int:
    """CPU time (ns, every thread) of a process and all its descendants."""
    total = 0
    for p in [pid, *tree([pid], parents())]:
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{p}/task/{tid}/schedstat", "rb") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Apps:
    """The command and its baselines, each started fresh in a pty with its own data folder."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.n = 0
        self.plain = tmp / "plain_textarea.py"
        self.plain.write_text(PLAIN_TEXTAREA_APP)
        self.unwrapped = tmp / "unwrapped_textarea.py"
        self.unwrapped.write_text(UNWRAPPED_TEXTAREA_APP)

    def home(self) -> Path:
        self.n += 1
        return self.tmp / f"home-{self.n}"

    def practice(self, challenge: Path = FIXTURE) -> Pty:
        return Pty([*tui_assess_argv(), "practice", str(challenge)], app_env(self.home()))

    def catalog(self) -> Pty:
        return Pty([*tui_assess_argv(), "practice"], app_env(self.home()))

    def textarea(self, file: Path = FIXTURE / "starter" / "calc.py", wrap: bool = True) -> Pty:
        app = self.plain if wrap else self.unwrapped
        return Pty([sys.executable, str(app), str(file)], app_env(self.home()))


def _start(open_app: Callable[[], Pty], needle: bytes) -> float:
    p = open_app()
    try:
        return p.wait_for(needle) - p.started
    finally:
        p.close()


def startup_rows(size: Size, apps: Apps) -> list[Row]:
    from tui_assess.challenge.catalog import list_challenges

    ours, base = alternate(size.pairs, lambda: _start(apps.practice, READY),
                           lambda: _start(apps.textarea, READY))
    first_title = sorted(c.title for c in list_challenges())[0].encode()
    cat, base2 = alternate(size.pairs, lambda: _start(apps.catalog, first_title[:20]),
                           lambda: _start(apps.textarea, READY))
    return [
        row("startup", median(ours) * 1000, "ms", median(base) * 1000, "<= 1.5x",
            "`tui-assess practice fix-sum` spawned to its editor drawn on the terminal; "
            "baseline: a minimal Textual app with a TextArea showing the same file"),
        row("catalog_startup", median(cat) * 1000, "ms", median(base2) * 1000, "-",
            "`tui-assess practice` (the catalog) to its first challenge drawn; same baseline"),
    ]


def _idle(open_app: Callable[[], Pty], seconds: float, settle: float) -> tuple[float, float]:
    """(% of a core over `seconds` once drawn and settled, peak RSS MB of the app process)."""
    p = open_app()
    try:
        p.wait_for(READY)
        # What follows the first frame (highlighting, panes mounted after it, the session's
        # first commit) is start-up, not idle: on a loaded machine it lasts past a second.
        end = time.monotonic() + settle
        while time.monotonic() < end:
            p._read(0.05)
        cpu0, t0 = tree_cpu_ns(p.proc.pid), time.monotonic()
        end = t0 + seconds
        while time.monotonic() < end:  # keep draining the terminal, as a terminal would
            p._read(0.05)
        cpu1, t1 = tree_cpu_ns(p.proc.pid), time.monotonic()
        return (cpu1 - cpu0) / 1e9 / (t1 - t0) * 100, peak_rss_mb(p.proc.pid)
    finally:
        p.close()


def idle_rows(size: Size, apps: Apps) -> list[Row]:
    pairs = max(1, size.pairs // 3)
    ours, base = alternate(pairs, lambda: _idle(apps.practice, size.idle_s, size.settle_s),
                           lambda: _idle(apps.textarea, size.idle_s, size.settle_s))
    o = [x for x, _ in ours]
    b = [x for x, _ in base]
    return [
        row("idle_cpu", median(o), "% of a core", median(b), "<= 1.5x",
            f"the practice screen drawn, left alone {size.settle_s:g} s, then measured "
            f"{size.idle_s:g} s x {pairs}: CPU of the app and its children; baseline: the "
            "minimal TextArea app"),
        row("tui_peak_rss_mb", max(m for _, m in ours), "MB", max(m for _, m in base), "-",
            "peak resident memory (VmHWM) of the practice screen's process; baseline: the "
            "minimal TextArea app"),
    ]


def keystroke_row(size: Size, apps: Apps) -> Row:
    challenge = make_big_challenge(apps.tmp / "big", lines=10_000)
    big = challenge / "starter" / "calc.py"

    def session(open_app: Callable[[], Pty]) -> list[float]:
        p = open_app()
        try:
            p.wait_for(b"# MARK")
            # Typing starts once the app is idle: the editor's first highlighting pass (a
            # worker lexing all 10,000 lines) runs for a second or more on a loaded machine,
            # and keys typed meanwhile measured the start-up, not the keystroke.
            settle(p)
            return keystrokes(p, size.keys, b"# MARK")
        finally:
            p.close()

    # Short sessions, alternated (ours first, then the baseline first): the load of a
    # shared machine drifts within a minute, and each side gets the same share of it.
    ours: list[float] = []
    base: list[float] = []
    for i in range(size.key_sessions):
        pair = [(ours, lambda: apps.practice(challenge)), (base, lambda: apps.textarea(big, wrap=False))]
        for out, open_app in pair[:: 1 if i % 2 == 0 else -1]:
            out.extend(session(open_app))
    lines = len(big.read_text().splitlines())
    return row("keystroke_10k", median(ours) * 1000, "ms", median(base) * 1000, "<= 1.1x",
               f"a key written to the terminal until its line is redrawn, {len(ours)} keys at "
               f"~30/s ({size.key_sessions} alternating sessions of each app, typing once the "
               f"app is idle) at the end of line 1 of a {lines:,}-line Python file; baseline: a "
               "plain TextArea (line numbers, no soft wrap, no highlighting) showing the same file")


def settle(p: Pty, busy_pct: float = 5.0, window_s: float = 0.25, timeout_s: float = 15.0) -> None:
    """Wait (draining the terminal) until the app uses under busy_pct of a core over a window."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        cpu0, t0 = tree_cpu_ns(p.proc.pid), time.monotonic()
        while time.monotonic() < t0 + window_s:
            p._read(0.05)
        used = (tree_cpu_ns(p.proc.pid) - cpu0) / 1e9 / (time.monotonic() - t0) * 100
        if used < busy_pct:
            return


def cast_row(size: Size, apps: Apps) -> Row:
    """The session log against asciinema recording the same typing, in the same run."""
    name = "log_vs_asciicast"
    asciinema = shutil.which("asciinema")
    if asciinema is None:
        return skipped(name, "bytes", "asciinema is not installed")
    home = apps.home()
    cast = apps.tmp / "typing.cast"
    env = app_env(home)
    command = " ".join([*tui_assess_argv(), "practice", str(FIXTURE)])
    # asciinema passes the app's screen and keys through its controlling terminal only:
    # make the pty that (setsid --ctty)
    p = Pty(["setsid", "--ctty", "--wait", asciinema, "rec", "-q", "--overwrite", "-c", command,
             str(cast)], env)
    try:
        p.wait_for(READY)
        time.sleep(1.0)
        p.write(b"\x1b[F")  # end of the first line, then type
        time.sleep(0.3)
        for i in range(size.cast_keys):  # a fast typist, ~20 keys a second
            p.write(b"abcdefghijklmnopqrstuvwxyz"[i % 26 : i % 26 + 1])
            p._read(0.05)
        p.write(b"\x13")  # ctrl+s: saved, so ctrl+q quits without asking and closes the log
        p._read(0.5)
    finally:
        p.close()
        deadline = time.monotonic() + 5
        while p.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    sessions = list((home / "sessions").glob("*.tasession*"))  # with a -wal not yet folded in
    if p.proc.returncode != 0 or not sessions or not cast.exists():
        return skipped(name, "bytes", f"the recorded app did not quit cleanly "
                       f"(exit {p.proc.returncode})")
    ours = sum(s.stat().st_size for s in sessions)
    return row(name, ours, "bytes", cast.stat().st_size, "-",
               f"`tui-assess practice fix-sum` with {size.cast_keys} keys typed, under "
               "`asciinema rec`: the session file against asciinema's cast of the same run")


def groups() -> dict[str, Callable[[Size, Path], list[Row]]]:
    """Named groups of rows (`--only`), each given the run size and a scratch folder."""
    return {
        "startup": lambda size, tmp: startup_rows(size, Apps(tmp)),
        "idle": lambda size, tmp: idle_rows(size, Apps(tmp)),
        "keys": lambda size, tmp: [keystroke_row(size, Apps(tmp))],
        "cast": lambda size, tmp: [cast_row(size, Apps(tmp))],
    }
