"""What the sandbox costs, measured against bare processes in the same run on this machine.

    python benchmarks/bench_sandbox.py [--rounds 15] [--modes namespaces,landlock,rlimits]

1. Starting a candidate: `run.spawn(python -c pass)` to its exit, inside an open run, against a
   bare `subprocess.run([python, "-c", "pass"])` of the same interpreter, alternated; medians.
2. A run's fixed cost: SandboxRun() + close(), with and without one candidate.
3. The monitor: CPU the runner spends watching a run of 8 sleeping candidate processes (20 Hz),
   and of one, against walking every process's /proc/PID/stat at the same rate (the old way).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tui_assess.sandbox import CandidateSpec, Limits, SandboxRun  # noqa: E402
from tui_assess.sandbox.modes import MODES, unavailable  # noqa: E402
from tui_assess.sandbox.run import base_python  # noqa: E402

LIMITS = Limits(timeout_seconds=120, memory_mb=512, processes=64, output_kb=256)


def spec(run: SandboxRun, name: str, code: str) -> CandidateSpec:
    return CandidateSpec(name, ["python", "-c", code], run.area / "work", {}, rw=[run.area / "work"])


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def candidate_start(mode: str, rounds: int) -> tuple[float, float]:
    python = base_python()
    bare, boxed = [], []
    with SandboxRun(LIMITS, mode) as run:
        assert run.mode == mode, run.mode_note
        for i in range(rounds):
            name = f"c{i}"
            bare.append(timed(lambda: subprocess.run([python, "-c", "pass"], check=True)))
            boxed.append(timed(lambda: run.spawn(spec(run, name, "pass")).wait(30)))  # noqa: B023
    return statistics.median(bare), statistics.median(boxed)


def run_cost(mode: str, rounds: int) -> tuple[float, float]:
    empty, one = [], []
    for _ in range(rounds):
        empty.append(timed(lambda: SandboxRun(LIMITS, mode).close()))

        def with_candidate() -> None:
            run = SandboxRun(LIMITS, mode)
            run.spawn(spec(run, "c", "pass")).wait(30)
            run.close()

        one.append(timed(with_candidate))
    return statistics.median(empty), statistics.median(one)


def cpu_of_this_process() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def monitor_cost(mode: str, seconds: float, procs: int = 8) -> float:
    """% of one core the runner spends while a run of `procs` sleeping processes is watched."""
    code = (
        "import os, time\n"
        f"for _ in range({procs - 1}):\n"
        "    if os.fork() == 0:\n"
        "        break\n"
        f"time.sleep({seconds + 5})\n"
    )
    with SandboxRun(LIMITS, mode) as run:
        run.spawn(spec(run, "sleepers", code))
        time.sleep(1.0)  # let the tree form
        cpu0, t0 = cpu_of_this_process(), time.monotonic()
        time.sleep(seconds)
        cpu1, t1 = cpu_of_this_process(), time.monotonic()
    return (cpu1 - cpu0) / (t1 - t0) * 100


def full_walk_cost(seconds: float) -> float:
    """% of one core for reading every process's stat at 20 Hz (the monitor before)."""
    sys.path.append(str(ROOT / "tui_assess" / "sandbox"))
    import _isolate  # noqa: E402

    cpu0, t0 = cpu_of_this_process(), time.monotonic()
    end = t0 + seconds
    while time.monotonic() < end:
        _isolate.parents()
        time.sleep(0.05)
    return (cpu_of_this_process() - cpu0) / (time.monotonic() - t0) * 100


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--monitor-seconds", type=float, default=5.0)
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if not unavailable(m)]
    procs = len([p for p in os.listdir("/proc") if p.isdigit()])
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, uid {os.getuid()}, "
        f"{procs} processes, load {os.getloadavg()[0]:.2f}, modes {modes}"
    )
    print(f"\ncandidate start (python -c pass to its exit), medians of {args.rounds}:")
    print(f"  {'mode':<11} {'bare':>8} {'sandboxed':>10} {'ratio':>7} {'extra':>9}")
    for mode in modes:
        bare, boxed = candidate_start(mode, args.rounds)
        print(f"  {mode:<11} {bare * 1000:6.1f}ms {boxed * 1000:8.1f}ms {boxed / bare:6.2f}x "
              f"{(boxed - bare) * 1000:+7.1f}ms")
    print(f"\na run's fixed cost (SandboxRun() + close()), medians of {max(3, args.rounds // 3)}:")
    for mode in modes:
        empty, one = run_cost(mode, max(3, args.rounds // 3))
        print(f"  {mode:<11} empty {empty * 1000:6.1f}ms   with one candidate {one * 1000:6.1f}ms")
    print(f"\nmonitor, % of one core over {args.monitor_seconds:g} s (8 candidate processes, 20 Hz):")
    walk = full_walk_cost(args.monitor_seconds)
    print(f"  every process's /proc stat at 20 Hz (the old way): {walk:5.2f} %")
    for mode in modes:
        cost = monitor_cost(mode, args.monitor_seconds)
        one = monitor_cost(mode, args.monitor_seconds, procs=1)
        print(f"  {mode:<11} the runner while watching: {cost:5.2f} %  ({cost / walk:.2f}x the old walk); "
              f"one process (PSS and shared memory at every sample): {one:5.2f} %")


if __name__ == "__main__":
    main()
