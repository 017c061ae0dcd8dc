"""The sandbox checks again as the ordinary user `tui-assess-ci`: candidates are not root.

Executes tests/sandbox_checks.py through runuser once per mode (the pattern of
tests/test_hostile_unprivileged.py), so every promise is proven for a user without privileges.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sandbox_checks import CHECKS

from tui_assess.sandbox.modes import MODES

TESTS = Path(__file__).parent


def run_checks_as(user: str, mode: str, tmp_path: Path) -> dict[str, dict[str, object]]:
    tmp_path.chmod(0o777)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "PYTHONPATH": str(TESTS),
        "TUI_ASSESS_HOME": str(tmp_path / "home"),
    }
    proc = subprocess.run(
        ["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()),
         sys.executable, str(TESTS / "sandbox_checks.py"), mode],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {r["check"]: r for r in lines}


@pytest.mark.parametrize("mode", MODES)
def test_sandbox_checks_as_ordinary_user(ordinary_user: str, mode: str, tmp_path: Path) -> None:
    results = run_checks_as(ordinary_user, mode, tmp_path)
    assert set(results) == set(CHECKS)
    ran = {r["facts"].get("mode") for r in results.values()}  # type: ignore[union-attr]
    if ran != {mode}:
        reasons = [p for r in results.values() for p in r["problems"]]  # type: ignore[union-attr]
        pytest.skip(f"{mode} does not run for {ordinary_user} here: {reasons[:1]}")
    failed = {name: r for name, r in results.items() if r["problems"]}
    assert not failed, json.dumps(failed, indent=1)
