"""`python -m benchmarks` runs every row and reports it in the documented shape.

CI checks the harness, never the figures (speed is compared in BENCHMARKS.md, not asserted):
`--smoke` runs each row once with tiny sizes, on the real command and the real sandbox.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROWS = {
    "check_latency", "check_cli_latency", "log_bytes_per_hour", "replay_seek_p99_ms",
    "replay_state_at_p99_ms",
    "recorder_event_p99_ms", "sampler_overhead_pct", "sampler_overhead_pct_crowded",
    "startup", "catalog_startup", "idle_cpu", "tui_peak_rss_mb", "keystroke_10k",
    "log_vs_asciicast",
}


def test_smoke_run_reports_every_row_with_its_baseline() -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke", "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(proc.stdout)
    assert isinstance(rows, list)
    assert {r["name"] for r in rows} == ROWS
    for r in rows:
        assert set(r) == {"name", "value", "unit", "baseline", "ratio", "target", "note"}, r
        assert r["unit"] and r["note"], r
        if r["value"] is None:  # a capability this machine lacks, said as such
            assert r["note"].startswith("skipped: "), r
            continue
        assert isinstance(r["value"], int | float) and math.isfinite(r["value"]), r
        assert r["value"] >= 0, r
        if r["baseline"]:
            assert r["ratio"] == round(r["value"] / r["baseline"], 3), r

