"""Every bundled challenge validates: its first run shows the problem (a visible test fails on the
starter), the solution passes (repeatedly), every mutant (a patch) is caught, hidden failures
speak plain words, its seed makes its data.

This is the slowest test of the default run: it runs each challenge's suites in the sandbox.
TUI_ASSESS_VALIDATE_REPEAT sets how many extra times each solution's hidden suite runs
(default 1 here, so the default run stays within CI's time; `challenge validate --repeat 5` is
the release check in BENCHMARKS.md, and authors use --repeat 20 before adding a challenge).
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


def test_there_are_bundled_challenges() -> None:
    assert len(CHALLENGES) >= 12


@pytest.mark.parametrize("challenge", CHALLENGES, ids=lambda p: p.name)
def test_bundled_challenge_validates(challenge: Path) -> None:
    """One challenge per test, so a parallel run (pytest -n) spreads them over the workers."""
    repeat = os.environ.get("TUI_ASSESS_VALIDATE_REPEAT", "1")
    proc = subprocess.run(
        [sys.executable, "-m", "tui_assess", "challenge", "validate", str(challenge),
         "--repeat", repeat, "--strict", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    doc = json.loads(proc.stdout)
    failed = [f"{r['check']}: {r['detail']}" for r in doc["checks"] if not r["ok"]]
    assert not failed, "\n".join(failed)
    assert proc.returncode == 0
    mutants = [r for r in doc["checks"] if r["check"].startswith("mutant ")]
    assert len(mutants) >= 4, f"{challenge.name} has < 4 mutants"


def test_bundled_mutants_are_patches_saying_what_is_wrong() -> None:
    for ch in list_challenges():
        for m in mutants(ch):
            assert m.is_patch, f"{ch.id}: mutant {m.name} is a folder; write it as a patch"
            assert len(m.description().split()) >= 4, f"{ch.id}: {m.name} says too little"


def test_catalog_lists_every_bundled_folder() -> None:
    folders = sorted(p.name for p in Path(bundled_dir()).iterdir() if (p / "challenge.toml").exists())
    assert [c.id for c in list_challenges()] == folders
