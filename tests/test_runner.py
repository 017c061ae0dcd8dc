"""Runner outcomes and challenge scoring, over real sandboxed pytest runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tui_assess.challenge.check import run_check, score_tests
from tui_assess.challenge.model import load_challenge
from tui_assess.challenge.workspace import init_workspace
from tui_assess.judge.run import run_suite as run_tests
from tui_assess.judge.types import (
    Limits,
    OutputChunk,
    ResourceSample,
    RunSpec,
    TestFinished,
    TestOutcome,
    TestStarted,
)
from tui_assess.snapshot import digest_tree


def make_run(tmp_path: Path, module: str, tests: dict[str, str]) -> tuple[Path, Path]:
    ws, td = tmp_path / "ws", tmp_path / "tests"
    ws.mkdir()
    td.mkdir()
    (ws / "mod.py").write_text(module)
    for name, code in tests.items():
        (td / name).write_text(code)
    return ws, td


OUTCOMES = """
import pytest, mod
def test_passes(): assert mod.VALUE == 1
def test_fails(): assert mod.VALUE == 2, "value is wrong"
@pytest.mark.skip(reason="not on Tuesdays")
def test_skipped(): pass
@pytest.fixture
def broken(): raise RuntimeError("fixture exploded")
def test_errors(broken): pass
"""


def test_pass_fail_skip_error_outcomes(tmp_path: Path) -> None:
    ws, td = make_run(tmp_path, "VALUE = 1\n", {"test_outcomes.py": OUTCOMES})
    result = run_tests(RunSpec(ws, td, Limits(timeout_seconds=60)))
    by_name = {t.name: t for t in result.tests}
    assert {n: t.status for n, t in by_name.items()} == {
        "test_passes": "pass",
        "test_fails": "fail",
        "test_skipped": "skip",
        "test_errors": "error",
    }
    assert "value is wrong" in by_name["test_fails"].message
    assert by_name["test_skipped"].message == "not on Tuesdays"
    assert "fixture exploded" in by_name["test_errors"].message
    assert result.status == "fail"
    assert result.resources.wall_s > 0 and result.resources.peak_rss_mb > 5
    assert result.resources.max_procs >= 1
    assert result.snapshot == digest_tree(ws)


def test_syntax_error_in_candidate_code_fails_every_test_that_imports_it(tmp_path: Path) -> None:
    ws, td = make_run(
        tmp_path,
        "def broken(:\n    pass\n",
        {"test_a.py": "import mod\ndef test_a(): pass\ndef test_b(): assert mod.X\n"},
    )
    result = run_tests(RunSpec(ws, td))
    assert result.status == "fail"
    assert [t.name for t in result.tests] == ["test_a", "test_b"]  # the judge knows both
    for t in result.tests:
        assert t.status == "fail"
        assert t.message.startswith("mod.py, line 1: SyntaxError"), t.message
    assert "could not be imported" in result.reason


def test_no_tests_is_an_error(tmp_path: Path) -> None:
    ws, td = make_run(tmp_path, "VALUE = 1\n", {"helper.py": "X = 1\n"})
    result = run_tests(RunSpec(ws, td))
    assert result.status == "error" and "No tests ran" in result.reason


def test_workspace_is_never_modified(tmp_path: Path) -> None:
    code = "import os\ndef test_writes():\n    open('mod.py', 'w').write('gone')\n    os.mkdir('new')\n"
    ws, td = make_run(tmp_path, "VALUE = 1\n", {"test_w.py": code})
    before = digest_tree(ws)
    result = run_tests(RunSpec(ws, td))
    assert result.status == "pass"
    assert digest_tree(ws) == before
    assert sorted(p.name for p in ws.iterdir()) == ["mod.py"]


def test_candidate_conftest_and_ini_are_ignored(tmp_path: Path) -> None:
    ws, td = make_run(tmp_path, "VALUE = 1\n", {"test_a.py": "def test_a(): assert True\n"})
    (ws / "conftest.py").write_text("import pytest\ndef pytest_runtest_call(item):\n    raise SystemExit(3)\n")
    (ws / "pytest.ini").write_text("[pytest]\naddopts = --collect-only\n")
    result = run_tests(RunSpec(ws, td))
    assert result.status == "pass" and [t.status for t in result.tests] == ["pass"]


def test_events_stream_while_running(tmp_path: Path) -> None:
    code = "import time\ndef test_one():\n    time.sleep(0.6)\ndef test_two(): pass\n"
    ws, td = make_run(tmp_path, "VALUE = 1\n", {"test_s.py": code})
    events: list[object] = []
    result = run_tests(RunSpec(ws, td), on_event=events.append)
    kinds = [type(e) for e in events]
    assert TestStarted in kinds and TestFinished in kinds and ResourceSample in kinds
    assert OutputChunk in kinds
    finished = [e.outcome.name for e in events if isinstance(e, TestFinished)]
    assert finished == ["test_one", "test_two"]
    assert result.status == "pass"


def test_cancel_kills_the_run_promptly(tmp_path: Path) -> None:
    code = "import time\ndef test_slow():\n    time.sleep(120)\n"
    ws, td = make_run(tmp_path, "VALUE = 1\n", {"test_c.py": code})
    cancel = threading.Event()
    threading.Timer(1.5, cancel.set).start()
    start = time.monotonic()
    result = run_tests(RunSpec(ws, td, Limits(timeout_seconds=120)), cancel=cancel)
    assert result.status == "cancelled"
    assert time.monotonic() - start < 10
    assert "cancelled" in result.reason


def test_hidden_suite_messages_do_not_show_test_source(tmp_path: Path) -> None:
    code = "SECRET_EXPECTED = 41\ndef test_h():\n    assert 1 + 1 == SECRET_EXPECTED\n"
    ws, td = make_run(tmp_path, "VALUE = 1\n", {"test_h.py": code})
    result = run_tests(RunSpec(ws, td, show_details=False))
    assert result.status == "fail"
    assert "SECRET_EXPECTED" not in result.tests[0].message
    assert "SECRET_EXPECTED" not in result.output
    assert "== 41" in result.tests[0].message


# ---------------------------------------------------------------------------- scoring


def outcome(file: str, status: str) -> TestOutcome:
    return TestOutcome(f"{file}::t", "t", file, status)  # type: ignore[arg-type]


def test_scores_by_group(tiny_challenge: Path) -> None:
    ch = load_challenge(tiny_challenge)
    res = score_tests(
        ch,
        "hidden",
        [
            outcome("test_correctness.py", "pass"),
            outcome("test_correctness.py", "fail"),
            outcome("test_edge_cases.py", "pass"),
            outcome("test_edge_cases.py", "pass"),
        ],
    )
    assert res.groups == {"correctness": (35.0, 70.0), "edge-cases": (30.0, 30.0)}
    assert (res.score, res.max_score) == (65.0, 100.0)
    assert {t.weight for t in res.tests} == {35.0, 15.0}


def test_missing_group_still_counts_in_max_score(tiny_challenge: Path) -> None:
    ch = load_challenge(tiny_challenge)
    res = score_tests(ch, "hidden", [outcome("test_edge_cases.py", "pass")])
    assert (res.score, res.max_score) == (30.0, 100.0)
    assert res.groups["correctness"] == (0.0, 70.0)


def test_collection_error_counts_as_failed_test_of_its_group(tiny_challenge: Path) -> None:
    ch = load_challenge(tiny_challenge)
    res = score_tests(
        ch, "hidden", [outcome("test_correctness.py", "error"), outcome("test_edge_cases.py", "pass")]
    )
    assert res.score == 30.0


def test_visible_suite_scores_equally_out_of_100(tiny_challenge: Path) -> None:
    ch = load_challenge(tiny_challenge)
    res = score_tests(ch, "visible", [outcome("test_a.py", "pass"), outcome("test_b.py", "fail")])
    assert (res.score, res.max_score) == (50.0, 100.0)


def test_run_check_on_solution_and_starter(tiny_challenge: Path, tmp_path: Path) -> None:
    ch = load_challenge(tiny_challenge)
    sol = init_workspace(ch, tmp_path / "sol", ch.solution_dir)
    good = run_check(ch, sol, "hidden")
    assert good.status == "pass" and good.score == good.max_score == 100
    start = init_workspace(ch, tmp_path / "start")
    bad = run_check(ch, start, "hidden")
    assert bad.status == "fail" and bad.score == 15.0


# ---------------------------------------------------------------------------- CLI


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui_assess", *args], capture_output=True, text=True)


def test_check_json_contract(tiny_challenge: Path, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert cli("init", str(tiny_challenge), str(ws)).returncode == 0
    proc = cli("check", str(tiny_challenge), "--workspace", str(ws), "--hidden", "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) >= {"challenge", "suite", "status", "tests", "score", "max_score",
                        "resources", "snapshot"}
    assert doc["challenge"] == "tiny-sum" and doc["suite"] == "hidden" and doc["status"] == "fail"
    assert set(doc["tests"][0]) == {"name", "group", "status", "duration_s", "message", "weight"}
    assert set(doc["resources"]) == {
        "wall_s", "cpu_s", "peak_rss_mb", "max_procs", "limit_hit", "disk_mb"
    }
    assert doc["judge"] == "isolated" and "outside the candidate's" in doc["guarantees"]["verdicts"]
    assert doc["score"] == 15 and doc["max_score"] == 100
    shutil.copytree(tiny_challenge / "solution", ws, dirs_exist_ok=True)
    ok = cli("check", str(tiny_challenge), "--workspace", str(ws), "--hidden", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["status"] == "pass"


def test_check_text_output_and_bad_workspace(tiny_challenge: Path, tmp_path: Path) -> None:
    proc = cli("check", str(tiny_challenge), "--workspace", str(tmp_path / "nope"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "workspace folder does not exist" in proc.stderr
    ws = tmp_path / "ws"
    cli("init", str(tiny_challenge), str(ws))
    proc = cli("check", str(tiny_challenge), "--workspace", str(ws))
    assert proc.returncode == 1
    assert "visible tests: fail; score 0/100" in proc.stdout


def test_init_refuses_non_empty_folder(tiny_challenge: Path, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    proc = cli("init", str(tiny_challenge), str(tmp_path / "busy"))
    assert proc.returncode == 2 and "not empty" in proc.stderr


def test_validate_reports_a_mutant_that_slips_through(tiny_challenge: Path) -> None:
    # Make the "ignores-negatives" mutant correct: validation must flag it as not caught.
    shutil.copy(tiny_challenge / "solution/orders.py", tiny_challenge / "mutants/ignores-negatives")
    proc = cli("challenge", "validate", str(tiny_challenge), "--json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    rows = {r["check"]: r for r in doc["checks"]}
    assert rows["mutant ignores-negatives caught"]["ok"] is False
    assert rows["mutant off-by-one caught"]["ok"] is True
    assert rows["solution passes hidden"]["ok"] is True
    assert rows["starter fails hidden"]["ok"] is True


def test_validate_fixture_passes_with_repeats(tiny_challenge: Path) -> None:
    proc = cli("challenge", "validate", str(tiny_challenge), "--repeat", "2")
    assert proc.returncode == 0, proc.stdout
    assert "solution hidden x2 (flakiness)" in proc.stdout


def test_validate_flags_shared_test_names(tiny_challenge: Path) -> None:
    (tiny_challenge / "tests/visible/test_dup.py").write_text("def test_empty(): pass\n")
    proc = cli("challenge", "validate", str(tiny_challenge), "--json")
    rows = {r["check"]: r for r in json.loads(proc.stdout)["checks"]}
    assert rows["test names"]["ok"] is False and "test_empty" in rows["test names"]["detail"]


def test_validate_advice_does_not_fail_an_original_format_challenge(tiny_challenge: Path) -> None:
    """tiny-sum is written to the original format: bare asserts in its hidden tests. That is
    advice (reported), not a failure, unless --strict asks for every check."""
    proc = cli("challenge", "validate", str(tiny_challenge), "--json")
    doc = json.loads(proc.stdout)
    advice = [r for r in doc["checks"] if r["level"] == "advice" and not r["ok"]]
    assert advice, "tiny-sum's bare asserts should be reported"
    assert proc.returncode == 0 and doc["ok"] is True
    strict = cli("challenge", "validate", str(tiny_challenge), "--strict")
    assert strict.returncode == 1
    assert "advice" in strict.stdout
