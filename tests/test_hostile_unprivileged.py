"""The hostile-code cases again, as an ordinary user: candidates are not root.

Runs tests/sandbox_cases.py as the user `tui-assess-ci` (created when the suite runs as root),
once with the default sandbox and once with namespaces forced off — the path a candidate gets on
a distribution that blocks unprivileged user namespaces (Ubuntu 24.04 and later).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

USER = "tui-assess-ci"
TESTS = Path(__file__).parent


def _as_user_command(*args: str) -> list[str]:
    return ["runuser", "-u", USER, "--", *args]


@pytest.fixture(scope="module")
def unprivileged_user() -> str:
    if os.geteuid() != 0:
        pytest.skip("the suite is not running as root, so it is already unprivileged")
    if shutil.which("runuser") is None:
        pytest.skip("runuser is not installed")
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        made = subprocess.run(["useradd", "--create-home", USER], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"cannot create the user {USER}: {made.stderr.strip()}")
    probe = subprocess.run(
        _as_user_command(sys.executable, "-c", "import tui_assess, psutil, pytest"),
        capture_output=True,
        text=True,
        cwd="/",
    )
    if probe.returncode != 0:
        pytest.skip(
            f"{USER} cannot run this interpreter or import the project "
            f"({probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else 'no access'}); "
            "build the venv from a system Python in a readable folder, as .ci/run does"
        )
    return USER


def _script_as_user(user: str, script: str, sandbox: str, tmp_path: Path) -> list[dict]:
    """Run tests/SCRIPT SANDBOX as `user` in a bare environment; its JSON lines."""
    tmp_path.chmod(0o777)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "PYTHONPATH": str(TESTS),
        "TUI_ASSESS_HOME": str(tmp_path / "home"),
    }
    proc = subprocess.run(
        ["runuser", "-u", user, "--", "env", "-i",
         *(f"{k}={v}" for k, v in env.items()),
         sys.executable, str(TESTS / script), sandbox],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=400,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("sandbox", ["auto", "rlimits"])
def test_hostile_cases_as_unprivileged_user(unprivileged_user: str, sandbox: str, tmp_path: Path) -> None:
    results = _script_as_user(unprivileged_user, "sandbox_cases.py", sandbox, tmp_path)
    assert len(results) == 7
    by_case = {r["case"]: r for r in results}
    for r in results:
        if r["case"] == "loopback_listener" and r["sandbox"] == "rlimits":
            # The fallback cannot isolate the network: it must say so, and the case shows it.
            assert r["guarantees"]["network"].startswith("NOT isolated")
            continue
        assert not r["problems"], f"{r['case']} ({r['sandbox']}): {r['problems']}\n{r['output_head']}"
    if sandbox == "rlimits":
        assert {r["sandbox"] for r in results} == {"rlimits"}
    else:
        net = by_case["loopback_listener"]
        if net["sandbox"] == "namespaces":
            assert "INTERFACES ['lo']" in net["output_head"]
            assert "CONNECT refused" in net["output_head"]
    # The process limit must come from the kernel for an ordinary user, not the monitor alone.
    assert "kernel" in by_case["fork_storm"]["guarantees"]["process_limit"]


@pytest.mark.parametrize("sandbox", ["namespaces", "landlock", "rlimits"])
def test_judge_hostile_corpus_as_unprivileged_user(
    unprivileged_user: str, sandbox: str, tmp_path: Path
) -> None:
    """tests/judge_hostile_cases.py as the ordinary user: no attack beats the starter."""
    results = _script_as_user(unprivileged_user, "judge_hostile_cases.py", sandbox, tmp_path)
    starter, attacks = results[0], results[1:]
    assert starter["attack"] == "starter" and starter["score"] > 0
    assert len(attacks) == len(list((TESTS / "hostile" / "attacks").glob("*.py")))
    for r in attacks:
        assert not r["problems"], f"{r['attack']} ({r['mode']}): {r['problems']}"
        assert r["score"] <= starter["score"]
        if r["attack"] == "leak_source" and r["mode"] == "namespaces":
            assert not r["found_tests"], "the hidden tests were visible to the candidate"
    if sandbox == "rlimits":
        assert {r["mode"] for r in results} == {"rlimits"}
    else:  # a mode this user cannot have falls back, and the result says which ran
        assert len({r["mode"] for r in results}) == 1
