"""Runner overhead and containment times, measured in one run on this machine.

    python benchmarks/bench_runner.py [--rounds 7] [--challenge PATH]

1. `tui-assess check` (sandbox, copy, monitor, plugin) against a bare `python -m pytest` of the
   same tests on the same files, alternating, median of each and their ratio.
2. Time from start to a contained, reported end for each hostile case (tests/sandbox_cases.py),
   in every sandbox mode available here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def overhead(challenge: Path, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws, tests = Path(tmp, "ws"), Path(tmp, "tests")
        shutil.copytree(challenge / "starter", ws)
        shutil.copytree(challenge / "solution", ws, dirs_exist_ok=True)
        shutil.copytree(challenge / "tests" / "visible", tests)
        (tests / "pytest.ini").write_text("[pytest]\n")
        env = {**os.environ, "PYTHONPATH": str(ws), "PYTHONDONTWRITEBYTECODE": "1"}
        bare_cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-s",
                    "-c", str(tests / "pytest.ini"), str(tests)]
        check_cmd = [sys.executable, "-m", "tui_assess", "check", str(challenge),
                     "--workspace", str(ws), "--json"]
        lean = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        bare, lean_bare, check = [], [], []
        timed(bare_cmd, ws, env)  # warm the page cache
        for _ in range(rounds):
            bare.append(timed(bare_cmd, ws, env))
            lean_bare.append(timed(bare_cmd, ws, lean))
            check.append(timed(check_cmd, ws))
        b, lb, c = statistics.median(bare), statistics.median(lean_bare), statistics.median(check)
        print(f"overhead on {challenge.name} visible tests, median of {rounds}:")
        print(f"  bare python -m pytest (installed plugins autoloaded)  {b:6.2f} s")
        print(f"  bare python -m pytest, no plugin autoload (as the runner)  {lb:6.2f} s")
        print(f"  tui-assess check (CLI start, copy, sandbox, monitor)  {c:6.2f} s")
        print(f"  ratio against the like-for-like bare run  {c / lb:6.2f}x  (+{c - lb:.2f} s)")
        print(f"  ratio against the default bare run        {c / b:6.2f}x  ({c - b:+.2f} s)")


def containment() -> None:
    import socket

    from sandbox_cases import CASES, network_case, run_case

    from tui_assess.sandbox.modes import MODES, unavailable

    modes = [m for m in MODES if not unavailable(m)]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    print("containment (start to contained, reported end):")
    for case in [*CASES, network_case(listener.getsockname()[1])]:
        cells = []
        for mode in modes:
            result, elapsed, left = run_case(case, mode)
            cells.append(f"{mode} {elapsed:5.2f} s ({result.status}, "
                         f"{result.resources.limit_hit or '-'}, {len(left)} left)")
        print(f"  {case.name:<18} " + " | ".join(cells))
    listener.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--challenge", type=Path, default=ROOT / "tests/fixtures/challenges/tiny-sum")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, uid {os.getuid()}")
    overhead(args.challenge, args.rounds)
    containment()


if __name__ == "__main__":
    main()
