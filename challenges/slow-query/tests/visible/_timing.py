"""Timing for the visible performance check: best wall-clock time of a few interleaved rounds."""

import time


def best_seconds(*calls, rounds=3):
    """Best time of each zero-argument call over `rounds` interleaved rounds, after a warm-up.

    Wall-clock time around the call, not this process's CPU time: it measures the report
    wherever its code runs.
    """
    # judge: under the trusted judge (tui_assess.judge on main) the candidate's code runs in a
    # host process; wall-clock time around the call still measures it (candidate.cpu_seconds()
    # would add its CPU time).
    for call in calls:
        call()
    best = [float("inf")] * len(calls)
    for _ in range(rounds):
        for i, call in enumerate(calls):
            start = time.perf_counter()
            call()
            best[i] = min(best[i], time.perf_counter() - start)
    return best
