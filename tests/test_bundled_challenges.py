"""Every bundled challenge validates: its first run shows the problem (a visible test fails on the
starter), the solution passes (repeatedly), every mutant (a patch) is caught, hidden failures
speak plain words, its seed makes its data.

This is the slowest test of the default run: it runs each challenge's suites in the sandbox.
TUI_ASSESS_VALIDATE_REPEAT sets how many extra times each solution's hidden suite runs
(default 5 here; authors use --repeat 20 before adding a challenge).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_assess.challenge.catalog import bundled_dir, list_challenges
from tui_assess.challenge.mutants import mutants

CHALLENGES = [c.path for c in list_challenges()]


@pytest.mark.skipif(not CHALLENGES, reason="no bundled challenges")
def test_bundled_challenges_validate() -> None:
    repeat = os.environ.get("TUI_ASSESS_VALIDATE_REPEAT", "5")
    proc = subprocess.run(
        [sys.executable, "-m", "tui_assess", "challenge", "validate", *map(str, CHALLENGES),
         "--repeat", repeat, "--jobs", "2", "--strict", "--json"],
        capture_output=True,
        text=True,
        timeout=1500,
    )
    doc = json.loads(proc.stdout)
    failed = [f"{r['challenge']}: {r['check']}: {r['detail']}" for r in doc["checks"] if not r["ok"]]
    assert not failed, "\n".join(failed)
    assert proc.returncode == 0
    mutants = [r for r in doc["checks"] if r["check"].startswith("mutant ")]
    for ch in CHALLENGES:
        assert sum(r["challenge"] == ch.name for r in mutants) >= 4, f"{ch.name} has < 4 mutants"


def test_bundled_mutants_are_patches_saying_what_is_wrong() -> None:
    for ch in list_challenges():
        for m in mutants(ch):
            assert m.is_patch, f"{ch.id}: mutant {m.name} is a folder; write it as a patch"
            assert len(m.description().split()) >= 4, f"{ch.id}: {m.name} says too little"


def test_catalog_lists_every_bundled_folder() -> None:
    folders = sorted(p.name for p in Path(bundled_dir()).iterdir() if (p / "challenge.toml").exists())
    assert [c.id for c in list_challenges()] == folders
