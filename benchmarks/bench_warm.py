"""Where a visible run's time goes, cold and warm, next to a bare pytest run of the same files.

    python benchmarks/bench_warm.py [--rounds 7] [--challenge PATH]

Each round: a cold run (`run_check`: sandbox, judge and host started for it), a warm run (a
run prepared ahead, as the TUI's ctrl+r gets it, taken once it is ready) and a bare
`python -m pytest` (plugin autoload off), in turn; medians. For the runs, the time from the
call to each step: the judge ready (cold only), the tests collected, the last result, the
judge gone, the run closed. `python -m benchmarks` has the same comparison as its
`check_latency` and `check_cold_latency` rows; this script says where the time goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.rows_core import CHECK_CHALLENGE, _check_workspace, _timed  # noqa: E402
from tui_assess.judge import run as judge_run  # noqa: E402
from tui_assess.sandbox import run as sandbox_run  # noqa: E402

STEPS = ("ready", "collected", "finished", "judge gone", "closed", "returned")


class Steps:
    """Times (ms from the call) of the steps of the run going on, by patching the runner's own
    functions: nothing is added inside the judge or the sandbox."""

    def __init__(self) -> None:
        self.t0 = 0.0
        self.seen: dict[str, float] = {}
        take, wait, close = judge_run._take, judge_run.PreparedRun._wait, sandbox_run.SandboxRun.close

        def timed_take(state: Any, event: dict[str, Any]) -> None:
            self.mark(str(event.get("event")))
            take(state, event)

        def timed_wait(prepared: Any, cancel: Any) -> Any:
            code = wait(prepared, cancel)
            self.mark("judge gone")
            return code

        def timed_close(run: Any, *args: Any, **kwargs: Any) -> Any:
            report = close(run, *args, **kwargs)
            self.mark("closed")
            return report

        judge_run._take = timed_take  # type: ignore[assignment]
        judge_run.PreparedRun._wait = timed_wait  # type: ignore[method-assign]
        sandbox_run.SandboxRun.close = timed_close  # type: ignore[method-assign]

    def mark(self, step: str) -> None:
        if self.t0 and step not in self.seen:
            self.seen[step] = (time.monotonic() - self.t0) * 1000

    def run(self, call: Callable[[], Any]) -> dict[str, float]:
        self.seen, self.t0 = {}, time.monotonic()
        call()
        self.mark("returned")
        self.t0 = 0.0
        return self.seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--challenge", type=Path, default=CHECK_CHALLENGE)
    args = parser.parse_args()
    from tui_assess.challenge.catalog import resolve
    from tui_assess.challenge.check import Checks, run_check

    steps = Steps()
    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp:
        ws, _tests, bare_cmd, env = _check_workspace(Path(tmp))
        challenge = resolve(str(args.challenge))
        run_check(challenge, ws)  # the page cache
        cold: list[dict[str, float]] = []
        warm: list[dict[str, float]] = []
        bare: list[float] = []
        with Checks() as checks:
            checks.keep_ready(challenge)
            for _ in range(args.rounds):
                cold.append(steps.run(lambda: run_check(challenge, ws)))
                assert checks.runs.wait_ready(60)
                warm.append(steps.run(lambda: checks(challenge, ws)))
                assert checks.runs.wait_ready(60)
                bare.append(_timed(bare_cmd, ws, env) * 1000)
    print(f"{args.challenge.name} visible suite, median of {args.rounds} rounds, "
          f"load {os.getloadavg()[0]:.1f}: ms from the call")
    print(f"  {'step':<12}{'cold':>8}{'warm':>8}")
    for step in STEPS:
        c = [r[step] for r in cold if step in r]
        w = [r[step] for r in warm if step in r]
        show = [f"{statistics.median(x):8.0f}" if x else "       -" for x in (c, w)]
        print(f"  {step:<12}{show[0]}{show[1]}")
    b = statistics.median(bare)
    print(f"  bare `python -m pytest` {b:.0f} ms; warm / bare "
          f"{statistics.median(r['returned'] for r in warm) / b:.2f}x, cold / bare "
          f"{statistics.median(r['returned'] for r in cold) / b:.2f}x")


if __name__ == "__main__":
    main()
