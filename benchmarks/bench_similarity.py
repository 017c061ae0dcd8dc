"""Similarity benchmark: a synthetic cohort of 1,000 submissions with planted copies.

Run from the repository root:

    .venv/bin/python benchmarks/bench_similarity.py              # Markdown table
    .venv/bin/python benchmarks/bench_similarity.py --json       # one JSON document
    .venv/bin/python benchmarks/bench_similarity.py -n 300       # a smaller cohort

Target (issue 13): 1,000 submissions compared in under 30 s on a 2-core machine.

The cohort comes from ``tests/test_similarity_support.py``: independent submissions drawn from
a grammar of Python functions (about 60 lines, 2,000 tokens each: the size of the bundled
challenges' reference solutions), plus disguised copies (identifiers renamed, numbers changed,
comments added, functions reordered). The baseline, in the same run and on the same
fingerprints, compares every pair of submissions (what copydetect does): the ratio is the
inverted index's saving, whatever the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_similarity_support import cohort  # noqa: E402

from tui_assess.report import similarity  # noqa: E402


def timed(fn: Any) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def all_pairs(subs: dict[str, dict[str, str]]) -> int:
    """The quadratic baseline: fingerprint everything, intersect every pair's sets."""
    vocab = similarity.Vocabulary()
    prints = {sid: set(similarity.fingerprint_files(f, vocab)) for sid, f in subs.items()}
    flagged = 0
    for a, b in combinations(prints, 2):
        shared = len(prints[a] & prints[b])
        if shared >= similarity.MIN_SHARED and shared >= similarity.THRESHOLD * min(
                len(prints[a]), len(prints[b])):
            flagged += 1
    return flagged


def run(n: int, planted: int, baseline: bool) -> dict[str, Any]:
    (subs, pairs), gen_s, _ = timed(lambda: cohort(n, planted))
    result, wall, cpu = timed(lambda: similarity.compare_cohort(subs))
    found = {(p.a, p.b) for p in result.pairs}
    out: dict[str, Any] = {
        "submissions": n, "planted": len(pairs), "found": len(found & pairs),
        "false_positives": len(found - pairs), "candidate_pairs": result.candidates,
        "all_pairs": n * (n - 1) // 2, "ignored_common": result.ignored_common,
        "lines": sum(f["solution.py"].count("\n") for f in subs.values()),
        "generate_s": round(gen_s, 2), "index_wall_s": round(wall, 2),
        "index_cpu_s": round(cpu, 2),
    }
    if baseline:
        _, bwall, bcpu = timed(lambda: all_pairs(subs))
        out.update(all_pairs_wall_s=round(bwall, 2), all_pairs_cpu_s=round(bcpu, 2),
                   ratio_cpu=round(bcpu / cpu, 2) if cpu else None)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000, help="submissions (default 1000)")
    ap.add_argument("--planted", type=int, default=20, help="planted copies (default 20)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the all-pairs baseline")
    ap.add_argument("--json", action="store_true", help="print one JSON document")
    args = ap.parse_args()
    figures = run(args.n, args.planted, not args.no_baseline)
    figures["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "load_avg": os.getloadavg()}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"| {figures['submissions']} submissions ({figures['lines']} lines) | figure |")
    print("|---|---|")
    print(f"| planted copies found | {figures['found']} of {figures['planted']} |")
    print(f"| other pairs flagged | {figures['false_positives']} |")
    print(f"| pairs the index counted / all pairs | {figures['candidate_pairs']} / "
          f"{figures['all_pairs']} |")
    print(f"| inverted index: wall / CPU | {figures['index_wall_s']} s / "
          f"{figures['index_cpu_s']} s |")
    if "all_pairs_cpu_s" in figures:
        print(f"| all-pairs baseline: wall / CPU | {figures['all_pairs_wall_s']} s / "
              f"{figures['all_pairs_cpu_s']} s |")
        print(f"| ratio (baseline CPU / index CPU) | {figures['ratio_cpu']}x |")
    print(f"\nload average during the run: {figures['machine']['load_avg']}")


if __name__ == "__main__":
    main()
