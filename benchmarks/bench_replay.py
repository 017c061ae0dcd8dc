"""Replay speed on the 2-hour session: open time to an interactive screen, and how long a step,
a seek (a click on the timeline bar) and a drag step take to reach the screen.

Everything is measured on the real command in a pseudo-terminal (120x40), the way a terminal
sees it: the clock starts when the process is spawned (or the key or mouse event is written)
and stops when the expected text has been written back (escape sequences stripped): the
header's "event N of M". A minimal Textual app is started in the same run, interleaved, as
this machine's baseline. The session is bench_session.py's synthetic two hours (21,895 events).

    PYTHONPATH=. python benchmarks/bench_replay.py [--runs 5] [--moves 60]

Prints a Markdown table (the figures in BENCHMARKS.md, section "Replay", come from it).
Targets (issue 12): open < 1 s; step, seek and drag p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import select
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_tui  # noqa: E402
from bench_session import simulate_session  # noqa: E402
from bench_tui import ANSI, MINIMAL_APP, Pty, base_env, tui_assess_argv  # noqa: E402

from tui_assess.session import Timeline  # noqa: E402

COLS, ROWS = 120, 40
BAR_ROW = 2  # 1-based terminal row of the bar's activity cells (row 1 is the header)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def ms(values: list[float], q: float | None = None) -> str:
    v = statistics.median(values) if q is None else percentile(values, q)
    return f"{v * 1000:.0f}"


def header(seq: int, last: int) -> bytes:
    return f"event {seq} of {last}".encode()


class ReplayPty(Pty):
    """bench_tui's Pty, un-escaping only what arrived: stripping the whole buffer on every
    read costs the reader more per read as the output grows (megabytes after a few hundred
    moves), which a latency measurement must not include."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        super().__init__(argv, env)
        self._pending = b""

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            return
        self.raw += chunk
        done, self._pending = split_unfinished(self._pending + chunk)
        self.text += ANSI.sub(b"", done)

    def wait_for(self, needle: bytes, timeout: float = 60.0, since: int = 0) -> float:
        deadline = time.perf_counter() + timeout
        while self.text.find(needle, since) < 0:  # no copy of the text so far per read
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{needle!r} did not appear")
            self._read(0.05)
        return time.perf_counter()


CSI_UNFINISHED = re.compile(rb"[0-9;?<>=]*[ -/]*")


def split_unfinished(data: bytes) -> tuple[bytes, bytes]:
    """``data`` cut before an escape sequence the next read may still finish."""
    last = data.rfind(b"\x1b")
    # Only the last sequence can be unfinished (or a string one the last ESC belongs to).
    for found in ANSI.finditer(data, max(data.rfind(b"\x1b", 0, max(last, 0)), 0)):
        start = found.start()
        if found.end() - start == 2:  # ANSI's catch-all: maybe the start of a longer one
            kind, tail = data[start + 1:start + 2], data[start + 2:]
            if kind == b"[" and CSI_UNFINISHED.fullmatch(tail) or (
                    kind in (b"]", b"P", b"_", b"^") and b"\x07" not in tail
                    and b"\x1b\\" not in tail):
                return data[:start], data[start:]
    if data.endswith(b"\x1b") and not data.endswith(b"\x1b\x1b"):
        return data[:-1], data[-1:]
    return data, b""


def open_replay(session: Path, home: Path) -> Pty:
    return ReplayPty([*tui_assess_argv(), "replay", str(session)], base_env(home))


def cold_start(session: Path, last: int, runs: int, tmp: Path) -> dict[str, list[float]]:
    minimal_py = tmp / "minimal_app.py"
    minimal_py.write_text(MINIMAL_APP)
    out: dict[str, list[float]] = {"replay": [], "first_key": [], "minimal": []}
    for i in range(runs):
        p = open_replay(session, tmp / f"home-{i}")
        try:
            out["replay"].append(p.wait_for(header(last, last)) - p.started)
            # Interactive: the first key is answered while verify and the indexes still run.
            since = len(p.text)
            t0 = time.perf_counter()
            p.write(b"\x1b[H")  # home
            out["first_key"].append(p.wait_for(header(1, last), since=since) - t0)
        finally:
            p.close()
        p = Pty([sys.executable, str(minimal_py)], base_env(tmp / f"home-{i}"))
        try:
            out["minimal"].append(p.wait_for(b"minimal app ready") - p.started)
        finally:
            p.close()
    return out


def mouse(kind: str, col: int, row: int = BAR_ROW) -> bytes:
    """An SGR mouse event (1-based column and row): press, drag (motion with button 1), up."""
    code, end = {"press": (0, "M"), "drag": (32, "M"), "release": (0, "m")}[kind]
    return f"\x1b[<{code};{col};{row}{end}".encode()


def interactions(session: Path, tl: Timeline, moves: int, tmp: Path) -> dict[str, list[float]]:
    """Step (right arrow), seek (click on the bar) and drag-step latencies, once settled."""
    last = tl.seqs[-1]
    steps = tl.steps()
    duration = tl.duration

    def seq_at_column(col0: int) -> int:  # the bar's own arithmetic (TimelineBar.seconds_at)
        seconds = min(duration, max(0.0, (col0 + 0.5) / COLS * duration))
        return max(tl.seq_at(seconds), tl.seqs[0])

    out: dict[str, list[float]] = {"step": [], "seek": [], "drag": []}
    p = open_replay(session, tmp / "home-moves")
    try:
        p.wait_for(header(last, last))
        time.sleep(3.0)  # verify, the origin index and the panels are in
        rnd = random.Random(3)

        def timed(data: bytes, seq: int) -> float:
            since = len(p.text)
            t0 = time.perf_counter()
            p.write(data)
            return p.wait_for(header(seq, last), since=since) - t0

        # Seek: clicks at random columns (press + release), each to a new event.
        shown = last
        for _ in range(moves):
            col = rnd.randrange(COLS)
            seq = seq_at_column(col)
            if seq == shown:
                continue
            out["seek"].append(timed(mouse("press", col + 1) + mouse("release", col + 1), seq))
            shown = seq
            time.sleep(0.05)
        # Step: right arrow from the start of the busiest stretch.
        start = steps[len(steps) // 3]
        col = next(c for c in range(COLS) if seq_at_column(c) >= start)
        timed(mouse("press", col + 1) + mouse("release", col + 1), seq_at_column(col))
        i = steps.index(next(s for s in steps if s > seq_at_column(col)))
        for k in range(moves):
            out["step"].append(timed(b"\x1b[C", steps[i + k]))
            time.sleep(0.03)
        # Drag: button down, then one column at a time (each motion waits for its redraw).
        col = 5
        p.write(mouse("press", col + 1))
        shown = -1
        for _ in range(min(moves, COLS - 10)):
            col += 1
            seq = seq_at_column(col)
            if seq == shown:
                continue
            out["drag"].append(timed(mouse("drag", col + 1), seq))
            shown = seq
        p.write(mouse("release", col + 1))
    finally:
        p.close()
    return out


def headless(tl: Timeline, n: int = 300) -> dict[str, list[float]]:
    """What a seek costs below the screen: state, origins of 40 visible lines."""
    rnd = random.Random(4)
    out: dict[str, list[float]] = {"state_at": [], "lines_at": []}
    origin_of = tl.origin_index().origin_of
    for _ in range(n):
        seq = rnd.randint(1, tl.seqs[-1])
        t0 = time.perf_counter()
        tl.state_at(seq=seq)
        t1 = time.perf_counter()
        chars = tl.lines_at("report.py", seq)
        if chars is not None:
            at = chars.reader(origin_of)
            [at(i) for i in range(min(40, chars.text.count("\n") + 1))]
        t2 = time.perf_counter()
        out["state_at"].append(t1 - t0)
        out["lines_at"].append(t2 - t1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold starts of each app")
    parser.add_argument("--moves", type=int, default=60, help="steps, seeks and drag steps")
    args = parser.parse_args()
    bench_tui.COLS, bench_tui.ROWS = COLS, ROWS  # the pty's size
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        session = tmp / "two-hours.tasession"
        simulate_session(session)
        t0 = time.perf_counter()
        tl = Timeline.open(session)
        open_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        tl.origin_index()
        index_s = time.perf_counter() - t0
        below = headless(tl)
        starts = cold_start(session, tl.seqs[-1], args.runs, tmp)
        moves = interactions(session, tl, args.moves, tmp)
        events = tl.event_count
        tl.close()
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f}; Python "
          f"{sys.version.split()[0]}; terminal {COLS}x{ROWS} (pty); session: {events} events\n")
    print("| measurement | median ms | p99 ms | n |")
    print("|---|---|---|---|")
    rows = [
        ("cold start: `tui-assess replay` to the screen drawn (2-hour session)",
         starts["replay"]),
        ("cold start: minimal Textual app (Label + Footer), same run", starts["minimal"]),
        ("first key after the screen is drawn (home), workers still busy",
         starts["first_key"]),
        ("step: → to the next event on the screen", moves["step"]),
        ("seek: a click on the timeline bar to the screen", moves["seek"]),
        ("drag: one column of a drag on the bar to the screen", moves["drag"]),
        ("below the screen: `state_at` (every file), random moments", below["state_at"]),
        ("below the screen: `lines_at` + 40 lines' origins, random moments",
         below["lines_at"]),
    ]
    for what, values in rows:
        print(f"| {what} | {ms(values)} | {ms(values, 99)} | {len(values)} |")
    ratio = statistics.median(starts["replay"]) / statistics.median(starts["minimal"])
    print(f"\nOpen time against the minimal app: {ratio:.2f}x. `Timeline.open`: "
          f"{open_s * 1000:.0f} ms; the origin index (built in a worker after the screen is "
          f"drawn): {index_s * 1000:.0f} ms.")


if __name__ == "__main__":
    main()
