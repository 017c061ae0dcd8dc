"""`python -m benchmarks [--quick | --smoke] [--json] [--only NAME,...]`: every speed row.

Each row is `{name, value, unit, baseline, ratio}` (plus the target and what was measured),
value and baseline measured side by side in the same run. The full run rewrites the summary
section of BENCHMARKS.md with the figures and the machine; --quick (the CI-sized run, under
90 s) and --smoke (every row once with tiny sizes, for the test suite) only print. A figure
never fails the run; a crash does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks import rows_core, rows_tui
from benchmarks.harness import (
    FULL,
    QUICK,
    SMOKE,
    Clock,
    Row,
    Size,
    machine,
    markdown,
    rewrite_benchmarks_md,
)

GROUPS: dict[str, Callable[[Size, Path], list[Row]]] = {**rows_core.groups(), **rows_tui.groups()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    size_group = parser.add_mutually_exclusive_group()
    size_group.add_argument("--quick", action="store_true", help="the CI-sized run (<= 90 s)")
    size_group.add_argument("--smoke", action="store_true",
                            help="every row once with tiny sizes: checks the harness, not speed")
    parser.add_argument("--json", action="store_true", help="print one JSON list of rows")
    parser.add_argument("--only", default="", metavar="GROUPS",
                        help=f"comma-separated groups of rows to run ({', '.join(GROUPS)}); default all")
    parser.add_argument("--no-write", action="store_true",
                        help="a full run prints only, without rewriting BENCHMARKS.md")
    args = parser.parse_args(argv)
    size = SMOKE if args.smoke else QUICK if args.quick else FULL
    groups = [g for g in args.only.split(",") if g] or list(GROUPS)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        print(f"benchmarks: unknown group {unknown[0]!r}; choose from {', '.join(GROUPS)}.",
              file=sys.stderr)
        return 2
    facts = machine()
    clock = Clock()
    rows: list[Row] = []
    for g in groups:
        with tempfile.TemporaryDirectory(prefix=f"bench-{g}-") as tmp:
            rows += GROUPS[g](size, Path(tmp))
    facts["load_end"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps([r.to_json() for r in rows], indent=1))
    else:
        print(markdown(rows, facts, size.name, clock.elapsed()))
    if size is FULL and not args.no_write and groups == list(GROUPS):
        rewrite_benchmarks_md(markdown(rows, facts, size.name, clock.elapsed()))
        print("BENCHMARKS.md rewritten.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
