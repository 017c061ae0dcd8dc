"""The trusted judge's costs, measured in one run on this machine.

    python benchmarks/bench_judge.py [--calls 3000] [--rounds 3] [--base REV] [--skip-check]
                                     [--boundary-only]

1. The boundary: microseconds per call (p50 / p99) for a plain call, a call carrying 10 kB,
   and a callback round trip (the candidate's code calling a lent function of the test),
   against the same calls made in-process in the same run. Measured twice: a host started
   directly (the dev path: the boundary alone) and inside a real sandboxed run (a suite whose
   test times the calls: what challenge tests pay).
2. `tui-assess check --hidden` wall time on three bundled challenges' starters, with the code
   of this tree ("judge") and of a base revision from before the judge ("before": tests and
   candidate code in one pytest process), alternating, median of each and their ratio.
3. Every bundled challenge's hidden score on its starter, before and after (they should not
   move, except where a test moved to outside-in measurement: see docs/authoring.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK_CHALLENGES = ("data-api", "login-system", "schema-design")

CANDIDATE = textwrap.dedent(
    """
    def add(a, b):
        return a + b

    def echo(value):
        return value

    def call(fn):
        return fn()
    """
)

TIMING = textwrap.dedent(
    """
    import json
    import time

    def timings(module, calls, payload):
        def one(fn):
            out = []
            for _ in range(calls):
                t = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t) * 1e6)
            out.sort()
            return [round(out[len(out) // 2], 1), round(out[int(len(out) * 0.99)], 1)]

        nothing = lambda: None
        # The functions first: reading a module's attribute is a round trip of its own.
        add, echo, call = module.add, module.echo, module.call
        one(lambda: add(1, 2))  # warm up
        return {
            "plain call": one(lambda: add(1, 2)),
            "10 kB payload": one(lambda: echo(payload)),
            "callback round trip": one(lambda: call(nothing)),
        }
    """
)


def _timings_in_process(calls: int) -> dict[str, list[float]]:
    ns: dict[str, object] = {}
    exec(CANDIDATE + TIMING, ns)  # noqa: S102 - our own benchmark code
    module = type(sys)("inproc")
    exec(CANDIDATE, module.__dict__)  # noqa: S102
    return ns["timings"](module, calls, "x" * 10240)  # type: ignore[operator, no-any-return]


def _timings_direct_host(calls: int) -> dict[str, list[float]]:
    """A host started as a plain subprocess: the boundary alone, no sandbox."""
    from tui_assess.judge.proxy import HostConnection

    host_py = ROOT / "tui_assess" / "judge" / "_host.py"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "cand.py").write_text(CANDIDATE)
        procs: list[subprocess.Popen[bytes]] = []

        def spawn(fd: int) -> int:
            p = subprocess.Popen(
                [sys.executable, "-I", "-S", str(host_py), str(fd)], cwd=tmp, pass_fds=(fd,)
            )
            procs.append(p)
            return p.pid

        conn = HostConnection.start(spawn)
        try:
            ns: dict[str, object] = {}
            exec(TIMING, ns)  # noqa: S102
            return ns["timings"](conn.module("cand"), calls, "x" * 10240)  # type: ignore[operator, no-any-return]
        finally:
            conn.close()
            procs[0].wait(10)


def _timings_in_sandbox(calls: int) -> tuple[str, dict[str, list[float]]]:
    """A suite run through run_suite whose one test times the calls and prints them."""
    from tui_assess.judge.run import run_suite
    from tui_assess.judge.types import Limits, RunSpec

    with tempfile.TemporaryDirectory() as tmp:
        ws, tests = Path(tmp, "ws"), Path(tmp, "tests")
        ws.mkdir()
        tests.mkdir()
        (ws / "cand.py").write_text(CANDIDATE)
        (tests / "_timing.py").write_text(TIMING)
        (tests / "test_timing.py").write_text(
            "import json\nimport cand\nimport _timing\n\n\ndef test_timing():\n"
            f"    print('TIMINGS', json.dumps(_timing.timings(cand, {calls}, 'x' * 10240)))\n"
        )
        result = run_suite(RunSpec(ws, tests, Limits(timeout_seconds=300)))
    for line in result.output.splitlines():
        if line.startswith("TIMINGS "):
            return result.sandbox, json.loads(line[len("TIMINGS "):])
    raise SystemExit(f"the timing suite did not report: {result.status} {result.reason}")


def boundary(calls: int) -> None:
    print(f"1. boundary cost per call, {calls} calls each, µs p50 / p99:")
    rows = [("in-process (baseline)", _timings_in_process(calls))]
    rows.append(("judge -> host, direct subprocess", _timings_direct_host(calls)))
    mode, sandboxed = _timings_in_sandbox(calls)
    rows.append((f"judge -> host, in a {mode} run", sandboxed))
    kinds = list(rows[0][1])
    print(f"  {'':36}" + "".join(f"{k:>24}" for k in kinds))
    for label, t in rows:
        print(f"  {label:36}" + "".join(f"{t[k][0]:>12.1f} / {t[k][1]:<9.1f}" for k in kinds))


def _base_tree(rev: str | None, dest: Path) -> str:
    """The source tree of `rev` (default: the last revision with the old in-process runner)."""
    if rev is None:
        last = subprocess.run(
            ["git", "rev-list", "-1", "HEAD", "--", "tui_assess/runner/_plugin.py"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()
        rev = f"{last}^"
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _check(tree: Path, challenge: str, ws: Path) -> tuple[float, dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tui_assess", "check", str(tree / "challenges" / challenge),
         "--workspace", str(ws), "--hidden", "--json"],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )
    took = time.perf_counter() - start
    try:
        return took, json.loads(proc.stdout)
    except ValueError:
        return took, {"status": "crashed", "score": None, "reason": proc.stderr[-300:]}


def _workspace(tree: Path, challenge: str, dest: Path) -> Path:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run(
        [sys.executable, "-m", "tui_assess", "init", str(tree / "challenges" / challenge),
         str(dest)],
        cwd=tree, env=env, capture_output=True, check=True,
    )
    return dest


def check_times_and_scores(base: str | None, rounds: int, skip_check: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp, "before")
        before.mkdir()
        rev = _base_tree(base, before)
        trees = {"before": before, "judge": ROOT}
        if not skip_check:
            print(f"\n2. `check --hidden` on the starter, median of {rounds} (before = {rev}):")
            for challenge in CHECK_CHALLENGES:
                times: dict[str, list[float]] = {"before": [], "judge": []}
                for _ in range(rounds):
                    for name, tree in trees.items():
                        with tempfile.TemporaryDirectory() as w:
                            ws = _workspace(tree, challenge, Path(w, "ws"))
                            times[name].append(_check(tree, challenge, ws)[0])
                b, j = statistics.median(times["before"]), statistics.median(times["judge"])
                print(f"  {challenge:16} before {b:6.2f} s   judge {j:6.2f} s   ratio {j / b:5.2f}x")
        print(f"\n3. hidden score of each bundled challenge's starter (before = {rev}):")
        for path in sorted((ROOT / "challenges").iterdir()):
            if not (path / "challenge.toml").is_file():
                continue
            scores = {}
            for name, tree in trees.items():
                if not (tree / "challenges" / path.name).is_dir():
                    scores[name] = "-"
                    continue
                with tempfile.TemporaryDirectory() as w:
                    ws = _workspace(tree, path.name, Path(w, "ws"))
                    doc = _check(tree, path.name, ws)[1]
                scores[name] = f"{doc.get('score')} ({doc.get('status')})"
            same = "" if scores["before"] == scores["judge"] else "   <- moved"
            print(f"  {path.name:22} before {scores['before']:18} judge {scores['judge']:18}{same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", default=None, help="revision to compare with (default: "
                        "the last one with the in-process runner)")
    parser.add_argument("--skip-check", action="store_true", help="only the boundary and scores")
    parser.add_argument("--boundary-only", action="store_true", help="only the boundary")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    boundary(args.calls)
    if not args.boundary_only:
        check_times_and_scores(args.base, args.rounds, args.skip_check)


if __name__ == "__main__":
    main()
