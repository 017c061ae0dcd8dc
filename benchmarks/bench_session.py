"""Session log benchmarks: per-event cost, bytes per hour, seek time.

Run from the repository root:

    python benchmarks/bench_session.py            # prints a Markdown table
    python benchmarks/bench_session.py --json     # one JSON document
    python benchmarks/bench_session.py --format-version 1   # the same, session format 1

Targets (issue 5): record() p99 < 1 ms; a 2-hour session with typical typing and 100 test
runs < 5 MB; state_at at any moment < 50 ms.

The 2-hour session is simulated with a fake clock (so it takes seconds, not hours) but goes
through the real recorder, writer thread, SQLite file and default keyframe settings:
typing bursts of 3 edits/s (40 s of every minute, with backspaces, newlines and indentation,
typing real Python source), a save every 30 s, a focus change every 10 minutes, 100 test runs
(each a keyframe of the workspace, 12 per-test results and 20 run samples), and one
resource_sample per second.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tui_assess.session import SessionRecorder, Timeline, verify  # noqa: E402
from tui_assess.session.export import export_asciicast  # noqa: E402

HOURS = 2.0
RUNS = 100


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def bench_record_cost(folder: Path, n: int = 20_000) -> dict[str, float]:
    """Wall time of each record() call, with the writer thread busy committing meanwhile."""
    rec = SessionRecorder.create(folder / "cost.tasession", challenge_id="bench",
                                 challenge_hash="0" * 64, mode="practice",
                                 files={"a.py": "x" * 4000})
    costs: list[float] = []
    perf = time.perf_counter_ns
    for i in range(n):
        t0 = perf()
        rec.edit("a.py", i, 0, "x")
        costs.append((perf() - t0) / 1e6)
        if i % 10 == 9:
            time.sleep(0.002)  # a fast typist's bursts; lets the writer run between them
    rec.close()
    return {"events": n, "p50_ms": percentile(costs, 50), "p99_ms": percentile(costs, 99),
            "max_ms": max(costs)}


def simulate_session(path: Path, hours: float = HOURS, runs: int = RUNS,
                     seed: int = 1, **options: Any) -> dict[str, Any]:
    """The scripted session; ``options`` go to the recorder (``format_version=1``)."""
    rnd = random.Random(seed)
    source = (ROOT / "tui_assess" / "session" / "recorder.py").read_text()
    workspace = {
        "report.py": "import sqlite3\n\n\ndef monthly_revenue(db):\n    pass\n",
        "schema.sql": (ROOT / "tui_assess" / "session" / "store.py").read_text()[:3000],
        "NOTES.md": "# notes\n",
    }
    rec = SessionRecorder.create(path, challenge_id="slow-query", challenge_hash="0" * 64,
                                 mode="exam", deadline=time.time() + hours * 3600,
                                 candidate="bench", files=workspace, **options)
    clock = [0.0]
    wall0 = time.time()
    rec._now = lambda: (clock[0], wall0 + clock[0])  # type: ignore[method-assign]
    total = int(hours * 3600)
    run_every = total // runs
    text = workspace["report.py"]
    cursor = len(text)
    src_i = 0
    counts = {"edit": 0, "run": 0, "sample": 0}
    rec.file_open("report.py")
    for second in range(total):
        in_burst = second % 60 < 40
        for k in range(3 if in_burst else 0):
            clock[0] = second + k / 3
            r = rnd.random()
            if r < 0.08 and cursor > 0:  # backspace
                rec.edit("report.py", cursor - 1, 1, "")
                text = text[: cursor - 1] + text[cursor:]
                cursor -= 1
            elif r < 0.10:  # click somewhere else
                cursor = rnd.randint(0, len(text))
                continue
            else:
                ch = source[src_i % len(source)]
                src_i += 1
                if ch == "\n":  # auto-indent arrives as part of the same edit
                    ch = "\n    "
                rec.edit("report.py", cursor, 0, ch)
                text = text[:cursor] + ch + text[cursor:]
                cursor += len(ch)
            counts["edit"] += 1
        clock[0] = second + 0.99
        rec.resource_sample(app_cpu=round(rnd.uniform(0, 15), 1),
                            app_rss_mb=round(rnd.uniform(80, 95), 1),
                            sys_cpu=round(rnd.uniform(2, 40), 1),
                            sys_mem=round(rnd.uniform(40, 60), 1))
        counts["sample"] += 1
        if second % 30 == 29:
            rec.save("report.py", text)
        if second % 600 == 300:
            rec.focus_lost()
            clock[0] = second + 0.995
            rec.focus_gained()
        if second % run_every == run_every - 1 and counts["run"] < runs:
            counts["run"] += 1
            files = {**workspace, "report.py": text}
            rec.run_start(counts["run"], "visible", files=files)
            tests = [{"nodeid": f"tests/test_report.py::test_case_{j}", "name": f"test_case_{j}",
                      "file": "tests/test_report.py",
                      "status": "pass" if rnd.random() < 0.7 else "fail",
                      "duration_s": round(rnd.uniform(0.01, 0.3), 3),
                      "message": "" if rnd.random() < 0.7 else "assert 41 == 42"}
                     for j in range(12)]
            rec.run_end(counts["run"], "visible", status="fail", tests=tests,
                        resources={"wall_s": 1.9, "cpu_s": 1.7, "peak_rss_mb": 61.0,
                                   "max_procs": 3, "limit_hit": None},
                        sandbox="namespaces", snapshot="0" * 64,
                        samples=[[round(j / 10, 3), 50.0, 40.0 + j, 2] for j in range(20)])
    rec.submit({**workspace, "report.py": text})
    rec.close()
    return {"expected_final": text, **counts}


def bench_size_and_seek(folder: Path, seeks: int = 200, **options: Any) -> dict[str, Any]:
    path = folder / "two-hours.tasession"
    t0 = time.perf_counter()
    sim = simulate_session(path, **options)
    simulate_s = time.perf_counter() - t0
    size = path.stat().st_size
    t0 = time.perf_counter()
    report = verify(path)
    verify_s = time.perf_counter() - t0
    assert report.ok, report.reason
    t0 = time.perf_counter()
    tl = Timeline.open(path)
    open_s = time.perf_counter() - t0
    assert tl.state_at()["report.py"] == sim["expected_final"]
    rnd = random.Random(2)
    times: list[float] = []
    for _ in range(seeks):
        moment = rnd.uniform(0, tl.duration)
        t0 = time.perf_counter()
        tl.state_at(seconds=moment)
        times.append((time.perf_counter() - t0) * 1000)
    cast = io.StringIO()
    t0 = time.perf_counter()
    export_asciicast(tl, cast)
    cast_s = time.perf_counter() - t0
    events = tl.event_count
    keyframes = tl.kind_counts().get("keyframe", 0)
    tl.close()
    return {
        "hours": HOURS, "events": events, "edits": sim["edit"], "runs": sim["run"],
        "resource_samples": sim["sample"], "keyframes": keyframes,
        "file_bytes": size, "mb_per_hour": size / HOURS / 1e6, "bytes_per_event": size / events,
        "seek_p50_ms": statistics.median(times), "seek_p99_ms": percentile(times, 99),
        "seek_max_ms": max(times), "verify_s": verify_s, "open_s": open_s,
        "simulate_s": simulate_s, "asciicast_bytes": len(cast.getvalue().encode()),
        "asciicast_s": cast_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--format-version", type=int, choices=(1, 2), default=2,
                        help="the session format the recorder writes (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cost = bench_record_cost(folder)
        size = bench_size_and_seek(folder, format_version=args.format_version)
    machine = {"python": platform.python_version(), "os": platform.platform(),
               "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps({"record": cost, "session": size, "machine": machine}, indent=2))
        return
    mb = size["file_bytes"] / 1e6
    print(f"Machine: {machine['os']}, Python {machine['python']}, {machine['cpus']} CPUs\n")
    print("| measure | figure | target |")
    print("|---|---|---|")
    print(f"| record() cost, p50 / p99 / max ({cost['events']} events) | "
          f"{cost['p50_ms'] * 1000:.1f} µs / {cost['p99_ms'] * 1000:.1f} µs / "
          f"{cost['max_ms']:.2f} ms | p99 < 1 ms |")
    print(f"| 2-hour session file ({size['events']} events: {size['edits']} edits, "
          f"{size['runs']} runs, {size['resource_samples']} resource samples, "
          f"{size['keyframes']} keyframes) | {mb:.2f} MB ({size['mb_per_hour']:.2f} MB/hour, "
          f"{size['bytes_per_event']:.0f} B/event) | < 5 MB |")
    print(f"| state_at at 200 random moments, p50 / p99 / max | {size['seek_p50_ms']:.1f} / "
          f"{size['seek_p99_ms']:.1f} / {size['seek_max_ms']:.1f} ms | < 50 ms |")
    print(f"| verify the 2-hour file | {size['verify_s']:.2f} s | - |")
    print(f"| Timeline.open the 2-hour file | {size['open_s'] * 1000:.0f} ms | - |")
    print(f"| asciicast export of the 2-hour file | {size['asciicast_bytes'] / 1e6:.2f} MB in "
          f"{size['asciicast_s']:.2f} s | - |")


if __name__ == "__main__":
    main()
