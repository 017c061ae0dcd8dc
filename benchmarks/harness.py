"""The harness's shared parts: a row, the run sizes, pairing, the machine and BENCHMARKS.md."""

from __future__ import annotations

import datetime
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = REPO / "BENCHMARKS.md"
BEGIN, END = "<!-- python -m benchmarks: begin -->", "<!-- python -m benchmarks: end -->"


@dataclass
class Row:
    """One figure and its baseline, measured in the same run.

    ``ratio`` is value / baseline (None when there is no baseline, or the row was skipped);
    ``target`` is the issue's target in words; ``note`` says what was measured, or why the
    row was skipped (then ``value`` is None).
    """

    name: str
    value: float | None
    unit: str
    baseline: float | None
    ratio: float | None
    target: str = ""
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def row(name: str, value: float, unit: str, baseline: float | None, target: str = "",
        note: str = "") -> Row:
    value = float(f"{value:.5g}")
    base = None if baseline is None else float(f"{baseline:.5g}")
    ratio = round(value / base, 3) if base else None
    return Row(name, value, unit, base, ratio, target, note)


def skipped(name: str, unit: str, reason: str, target: str = "") -> Row:
    return Row(name, None, unit, None, None, target, f"skipped: {reason}")


@dataclass(frozen=True)
class Size:
    """How much of each measurement a run does (smoke: shape only; quick: CI; full: the file)."""

    name: str
    pairs: int  # alternating (ours, baseline) pairs for start-up and check rows
    key_sessions: int  # editor sessions of each kind for the keystroke row
    keys: int  # keys typed per editor session
    idle_s: float  # seconds of idle CPU measured per app
    settle_s: float  # seconds an app is left alone after it is drawn, before idle is measured
    sampler_s: float  # seconds of sampler CPU measured per side
    background_procs: int  # unrelated sleeping processes for the sampler's crowded row
    record_events: int  # record() calls timed for the recorder's p99
    session_hours: float  # simulated session length for the log-size rows
    seeks: int  # random seeks into the simulated session
    cast_keys: int  # keys typed into the TUI recorded by asciinema
    replay_moves: int  # clicks, steps and drags in the replay screen (bench_replay)


SMOKE = Size("smoke", 1, 1, 3, 0.3, 0.3, 0.3, 20, 300, 0.02, 5, 3, 3)
QUICK = Size("quick", 3, 1, 15, 2.0, 2.0, 2.0, 500, 5000, 2.0, 100, 20, 20)
FULL = Size("full", 9, 6, 40, 10.0, 3.0, 10.0, 500, 20000, 2.0, 200, 120, 60)


def alternate(pairs: int, ours: Callable[[], T], base: Callable[[], T]
              ) -> tuple[list[T], list[T]]:
    """Run ours and the baseline in alternating pairs (order flipped every pair)."""
    a: list[T] = []
    b: list[T] = []
    for i in range(pairs):
        if i % 2:
            b.append(base())
            a.append(ours())
        else:
            a.append(ours())
            b.append(base())
    return a, b


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def process_count() -> int:
    return sum(1 for p in os.listdir("/proc") if p.isdigit())


def machine() -> dict[str, Any]:
    """What the figures came from: enough to tell this machine from another."""
    import textual

    try:
        from tui_assess.sandbox.modes import MODES, unavailable
        mode = next((m for m in MODES if not unavailable(m)), "none")
    except Exception as exc:  # noqa: BLE001 - a description, never a failure
        mode = f"unknown ({type(exc).__name__})"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "textual": getattr(textual, "__version__", "?"),
        "cpus": os.cpu_count(),
        "uid": os.getuid(),
        "sandbox": mode,
        "processes": process_count(),
        "load": round(os.getloadavg()[0], 2),
    }


class Clock:
    """Wall seconds since creation (for the run's own duration)."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("bytes", "B"):
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def markdown(rows: list[Row], facts: dict[str, Any], size: str, seconds: float) -> str:
    lines = [
        BEGIN,
        "## Summary: `python -m benchmarks`",
        "",
        "Command (from the repository root, with the project installed in `.venv`):",
        "",
        "```",
        ".venv/bin/python -m benchmarks            # --quick: the CI-sized run; --json: one JSON list",
        "```",
        "",
        f"Measured {facts['date']} on {facts['os']}, Python {facts['python']}, Textual "
        f"{facts['textual']}, {facts['cpus']} CPUs, uid {facts['uid']} (sandbox mode "
        f"{facts['sandbox']}), {facts['processes']} processes, load average {facts['load']} at "
        f"the start and {facts.get('load_end', '?')} at the end; {size} run, {seconds:.0f} s. "
        "Each value is measured side by side with its baseline in the same run (alternating "
        "pairs, medians); the ratio is value / baseline. This section is rewritten by every "
        "full run; the sections below it come from the individual `bench_*.py` scripts.",
        "",
        "| row | value | baseline | ratio | target | what |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        lines.append(
            f"| `{r.name}` | {fmt(r.value, r.unit)} {r.unit} | {fmt(r.baseline, r.unit)} {r.unit} "
            f"| {ratio} | {r.target or '-'} | {r.note} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def rewrite_benchmarks_md(section: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the harness's section (or put it after the title), keep every other section."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text, count=1)
    else:
        head, sep, rest = text.partition("\n## ")
        text = f"{head.rstrip()}\n\n{section}\n\n{sep.lstrip()}{rest}" if sep else \
            f"{text.rstrip()}\n\n{section}\n"
    path.write_text(text)
