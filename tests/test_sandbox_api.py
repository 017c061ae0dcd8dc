"""The sandbox API, checked in every mode this machine has (tests/sandbox_checks.py holds the
checks; tests/test_sandbox_unprivileged.py runs the same ones as an ordinary user)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from sandbox_checks import CHECKS

from tui_assess.sandbox import CandidateSpec, Limits, SandboxError, SandboxRun
from tui_assess.sandbox.modes import MODES, unavailable


def mode_params() -> list[object]:
    return [
        pytest.param(m, marks=pytest.mark.skipif(bool(unavailable(m)), reason=f"{m}: {unavailable(m)}"))
        for m in MODES
    ]


@pytest.mark.parametrize("mode", mode_params())
@pytest.mark.parametrize("name", list(CHECKS))
def test_sandbox_check(name: str, mode: str) -> None:
    problems, facts = CHECKS[name](mode)
    assert not problems, f"{name} in {mode}: {problems} ({facts})"


def test_forced_mode_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUI_ASSESS_SANDBOX", "rlimits")
    with SandboxRun(Limits()) as run:
        assert run.mode == "rlimits"
        assert set(run.guarantees) >= {"file_system", "network", "signals", "disk", "open_files"}


def test_unknown_forced_mode_is_ignored_and_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUI_ASSESS_SANDBOX", "chroot")
    with SandboxRun(Limits()) as run:
        assert "'chroot' is not a mode" in run.mode_note


def test_duplicate_candidate_names_are_refused() -> None:
    with SandboxRun(Limits(), "rlimits") as run:
        spec = CandidateSpec("same", ["python", "-c", "import time; time.sleep(30)"],
                             run.area / "work", {}, rw=[run.area / "work"])
        run.spawn(spec)
        with pytest.raises(SandboxError, match="already running"):
            run.spawn(spec)


def test_missing_program_is_one_sentence() -> None:
    with SandboxRun(Limits(), "rlimits") as run, pytest.raises(SandboxError, match="not found"):
        run.spawn(CandidateSpec("x", ["no-such-program-here"], run.area / "work", {}, rw=[]))


def test_copy_in_stays_inside_the_run(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A")
    with SandboxRun(Limits(), "rlimits") as run:
        run.copy_in(tmp_path, "area/work")
        assert (run.area / "work" / "a.txt").read_text() == "A"
        for bad in ("../elsewhere", "/etc", "stage/x", "area/../../x"):
            with pytest.raises(SandboxError):
                run.copy_in(tmp_path / "a.txt", bad)


def test_run_folder_is_private_to_the_user() -> None:
    with SandboxRun(Limits(), "rlimits") as run:
        assert run.run_dir.name.startswith("tui-assess-run-")
        assert (run.run_dir.stat().st_mode & 0o777) == 0o700
        assert (run.private.stat().st_mode & 0o777) == 0o700
    assert not run.run_dir.exists()


def test_runner_types_reexport_the_sandbox_limits() -> None:
    from tui_assess.judge.types import Limits as RunnerLimits

    assert RunnerLimits is Limits
    assert Limits().disk_mb == 256 and Limits().open_files == 1024


def test_supervisor_is_stdlib_only() -> None:
    """The supervisor runs with -I -S: it must import nothing outside the standard library."""
    import subprocess

    sandbox = Path(__file__).parents[1] / "tui_assess" / "sandbox"
    code = (
        f"import sys; sys.path.append({str(sandbox)!r}); import _supervisor, _isolate; "
        "print(sorted(m for m in sys.modules if m.startswith('tui_assess')))"
    )
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True,
                         env={"PATH": os.environ.get("PATH", "")})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_readme_table_says_what_guarantees_say() -> None:
    """The README's sandbox table is exactly the sentences the code reports, every case."""
    from tui_assess.sandbox.modes import ROWS, all_sentences, guarantee_table

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert guarantee_table() in readme
    for mode in MODES:
        assert set(all_sentences(mode)) == set(ROWS)
    # And a live run's sentences are among them.
    with SandboxRun(Limits(), "rlimits") as run:
        for row, text in run.guarantees.items():
            assert text in all_sentences(run.mode)[row]
