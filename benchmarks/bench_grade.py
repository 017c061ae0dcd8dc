"""Grading throughput: sessions regraded per minute with `tui-assess grade --jobs N`.

Run from the repository root:

    .venv/bin/python benchmarks/bench_grade.py                       # 24 sessions, tiny-sum
    .venv/bin/python benchmarks/bench_grade.py --challenge slow-query -n 12
    .venv/bin/python benchmarks/bench_grade.py --json

Each session is recorded by the real recorder (the challenge's reference solution with a
line that makes every snapshot distinct, so nothing is graded twice), then the installed
command grades the folder from scratch at ``--jobs 1`` and at ``--jobs 2``. The baseline, in
the same run, is ``tui-assess check --hidden`` of the same workspace, one after the other:
the ratio says what regrading adds to a plain hidden run (reading and verifying the session,
rebuilding the files, the results file).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_report_support import record_session  # noqa: E402

from tui_assess.challenge.catalog import resolve  # noqa: E402
from tui_assess.challenge.check import run_check  # noqa: E402
from tui_assess.challenge.workspace import init_workspace  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "challenges"
CLI = [sys.executable, "-m", "tui_assess"]


def make_sessions(folder: Path, challenge_name: str, n: int) -> tuple[Any, Path]:
    fixture = FIXTURES / challenge_name
    ch = resolve(str(fixture) if fixture.is_dir() else challenge_name)
    work = folder / "solution-ws"
    init_workspace(ch, work, layer=ch.solution_dir)
    result = run_check(ch, work, "hidden")  # recorded once, reused: grading runs each anew
    main = next(iter(ch.files), None) or sorted(
        p.relative_to(work).as_posix() for p in work.rglob("*.py"))[0]
    text = (work / main).read_text()
    for i in range(n):
        record_session(folder / "cohort" / f"c{i:03d}.tasession", ch,
                       {main: text + f"\n# candidate {i}\n"}, candidate=f"c{i}", result=result)
    return ch, work


def grade(folder: Path, jobs: int, challenge_dirs: list[str]) -> float:
    results = folder / f"grades-{jobs}.sqlite"
    results.unlink(missing_ok=True)
    sessions = sorted(str(p) for p in (folder / "cohort").glob("*.tasession"))
    t0 = time.perf_counter()
    proc = subprocess.run([*CLI, "grade", *sessions, "--jobs", str(jobs), "--results",
                           str(results), *challenge_dirs], capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"grade failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def baseline(ch: Any, work: Path, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        proc = subprocess.run([*CLI, "check", str(ch.path), "--workspace", str(work),
                               "--hidden"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"check failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=24, help="sessions (default 24)")
    ap.add_argument("--challenge", default="tiny-sum",
                    help="a fixture challenge, a bundled slug or a folder (default tiny-sum)")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    try:
        ch, work = make_sessions(folder, args.challenge, args.n)
        dirs = ["--challenges", str(ch.path.parent)]
        figures: dict[str, Any] = {"challenge": ch.id, "sessions": args.n}
        for jobs in (1, 2):
            s = grade(folder, jobs, dirs)
            figures[f"jobs{jobs}_s"] = round(s, 2)
            figures[f"jobs{jobs}_per_min"] = round(args.n / s * 60, 1)
        b = baseline(ch, work, args.n)
        figures["check_hidden_s"] = round(b, 2)
        figures["check_hidden_per_min"] = round(args.n / b * 60, 1)
        figures["ratio_jobs1_vs_check"] = round(figures["jobs1_s"] / b, 2)
        figures["ratio_jobs2_vs_jobs1"] = round(figures["jobs2_s"] / figures["jobs1_s"], 2)
        figures["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                              "load_avg": os.getloadavg()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"| {figures['sessions']} sessions of {figures['challenge']} | time | sessions/min |")
    print("|---|---|---|")
    print(f"| `grade --jobs 1` | {figures['jobs1_s']} s | {figures['jobs1_per_min']} |")
    print(f"| `grade --jobs 2` | {figures['jobs2_s']} s | {figures['jobs2_per_min']} |")
    print(f"| baseline: `check --hidden`, one after the other | {figures['check_hidden_s']} s | "
          f"{figures['check_hidden_per_min']} |")
    print(f"\nratios: jobs 1 / baseline {figures['ratio_jobs1_vs_check']}x, jobs 2 / jobs 1 "
          f"{figures['ratio_jobs2_vs_jobs1']}x; load average {figures['machine']['load_avg']}")


if __name__ == "__main__":
    main()
