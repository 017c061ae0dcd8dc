"""The exam's runtime, headless: the clock, resumes, refused codes, hand-ins, the policy as
recorded, and hidden tests that never stay on disk. Real packs, real sessions, real runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from test_exam_support import (
    FIX_SUM,
    TINY_SUM,
    events,
    fix_workspace,
    kinds,
    of_kind,
    opened_exam,
    sealed_pack,
)

from tui_assess.challenge.catalog import resolve
from tui_assess.challenge.check import run_check
from tui_assess.exam import runtime as runtime_module
from tui_assess.exam.feedback import HiddenFeedback, apply_policy
from tui_assess.exam.pack import WrongCode
from tui_assess.exam.receipt import check_receipt
from tui_assess.exam.runtime import Exam
from tui_assess.exam.watch import ExamWatch
from tui_assess.judge.types import Resources
from tui_assess.session.verify import verify


def test_the_deadline_is_written_when_the_code_opens_the_pack(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path, time_minutes=45, ai_assistants=True)
    exam = Exam.load(pack)
    assert exam.status == "new"
    before = time.time()
    exam.unlock(code)
    exam.start("Ada Lovelace", sample_interval=None)
    part = exam.parts[0]
    assert part.hooks.recorder is not None and part.hooks.recorder.flush()
    # On disk at once, before anything else happens.
    start = events(part.session)[0]
    assert start.kind == "session_start" and start.payload["mode"] == "exam"
    assert before + 45 * 60 - 1 <= start.payload["deadline"] <= time.time() + 45 * 60
    assert start.payload["candidate"] == "Ada Lovelace"
    facts = start.payload["exam"]
    assert facts["pack_id"] == exam.pack_id and facts["ai_assistants"] == "allowed"
    assert facts["policy"]["time_minutes"] == 45 and facts["policy"]["solutions"] == "never"
    assert start.payload["challenge_hash"] == part.packed.content_hash
    assert 45 * 60 - 5 < exam.seconds_left() <= 45 * 60
    assert part.session.name == "ada-lovelace-fix-sum.tasession"
    assert exam.status == "in progress"
    exam.close()


def test_what_lands_on_disk_is_only_what_the_candidate_may_see(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path)
    exam = opened_exam(pack, code)
    folder = exam.parts[0].challenge.path
    assert folder.is_relative_to(exam.root)
    assert (folder / "brief.md").read_bytes() == (FIX_SUM / "brief.md").read_bytes()
    assert not any((folder / "tests" / "hidden").iterdir())
    assert not any((folder / "solution").iterdir())
    assert "hints" not in (folder / "challenge.toml").read_text()
    assert exam.parts[0].challenge.hints == ()
    assert oct(exam.root.stat().st_mode & 0o777) == "0o700"
    exam.close()
    hidden = [line.strip() for p in (FIX_SUM / "tests" / "hidden").glob("*.py")
              for line in p.read_text().splitlines() if len(line.strip()) > 12]
    for p in exam.root.rglob("*"):
        if p.is_file():
            text = p.read_bytes().decode("latin-1")
            assert not [h for h in hidden if h in text], f"hidden test text in {p}"


def test_hints_only_when_the_policy_has_them(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path, hints=True)
    exam = opened_exam(pack, code)
    assert exam.parts[0].challenge.hints == ("Look at the operator in add().",
                                            "Addition uses +, not -.")
    exam.close()


def test_refused_codes_are_recorded_once_the_exam_opens(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path)
    for wrong in ("AAAA-BBBB-CCCC-DDDD", "ZZZZ-ZZZZ-ZZZZ-ZZZZ"):
        with pytest.raises(WrongCode):
            Exam.load(pack).unlock(wrong)
    exam = Exam.load(pack)
    assert not exam.sessions_on_disk()  # nothing opened, nothing decrypted
    exam.unlock(code)
    exam.start("ada", sample_interval=None)
    exam.close()
    [refused] = of_kind(exam.parts[0].session, "start_code_refused")
    assert refused.payload["count"] == 2 and len(refused.payload["walls"]) == 2
    assert not (exam.root / runtime_module.REFUSED_CODES).exists()  # recorded once only


def test_quit_and_reopen_keeps_the_deadline(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path)
    first = opened_exam(pack, code)
    deadline = first.deadline
    first.close()
    again = Exam.load(pack)
    assert again.status == "in progress" and again.recorded_candidate() == "Ada Lovelace"
    again.unlock(code)
    again.start("someone else", sample_interval=None)
    assert again.deadline == deadline and again.resumed
    assert again.candidate == "Ada Lovelace"  # the name on record, not a new one
    again.close()
    assert kinds(again.parts[0].session).count("resumed") == 1


KILLED = """
import sys, time
from tui_assess.exam.runtime import Exam
exam = Exam.load(sys.argv[1])
exam.unlock(sys.argv[2])
exam.start("ada", sample_interval=None)
rec = exam.parts[0].hooks.recorder
rec.file_open("calc.py")
rec.edit("calc.py", 55, 1, "+")
assert rec.flush()
print(exam.deadline, flush=True)
time.sleep(120)
"""


def test_kill_9_and_resume_keeps_the_deadline(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(pack), code],
                            stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        deadline = float(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    exam = Exam.load(pack)
    assert exam.status == "in progress"
    exam.unlock(code)
    exam.start("ada", sample_interval=None)
    assert exam.deadline == deadline
    exam.close()
    path = exam.parts[0].session
    ks = kinds(path)
    assert "edit" in ks and ks.count("resumed") == 1
    assert ks.index("resumed") > ks.index("edit")
    assert verify(path).ok
    starts = of_kind(path, "session_start")
    assert len(starts) == 1 and starts[0].payload["deadline"] == deadline


def test_a_clock_set_back_while_closed_gains_nothing(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pack, code = sealed_pack(tmp_path, time_minutes=10)
    first = opened_exam(pack, code)
    last_left = first.seconds_left()
    first.close()
    real = time.time
    monkeypatch.setattr(runtime_module.time, "time", lambda: real() - 3600)
    again = opened_exam(pack, code)
    # Counted from the last recorded event, not from the (earlier) wall clock.
    assert again.seconds_left() <= last_left
    again.close()
    [jump] = of_kind(again.parts[0].session, "clock_jump")
    assert jump.payload["across_resume"] is True and jump.payload["jump_s"] < -3500


def test_wall_clock_jumps_and_program_names_are_recorded() -> None:
    recorded: list[tuple[str, dict[str, object]]] = []
    watch = ExamWatch(lambda kind, **p: recorded.append((kind, p)), processes=True)
    watch._seen = {key for key, _ in watch._list()}
    watch._offset -= 30  # as if the wall clock jumped 30 s forward since the last look
    watch.check_clock()
    assert recorded[0][0] == "clock_jump" and 29 < float(recorded[0][1]["jump_s"]) < 31
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        watch.check_processes()
    finally:
        sleeper.kill()
        sleeper.wait()
    started = [p for k, p in recorded if k == "processes_started"]
    # Other programs of this user may start meanwhile (the machine is shared): look for ours.
    assert started and started[0]["counts"].get("sleep", 0) >= 1  # type: ignore[attr-defined]
    assert "sleep" in started[0]["first_seen"]  # type: ignore[operator]
    assert set(started[0]) == {"counts", "first_seen"}  # names only: no pids, no arguments


def test_program_names_only_when_the_policy_says_so(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path)
    exam = opened_exam(pack, code)
    assert exam._watch is not None and not exam._watch.processes
    exam.close()
    pack, code = sealed_pack(tmp_path, record_processes=True)
    exam = opened_exam(pack, code, home=tmp_path / "home2")
    assert exam._watch is not None and exam._watch.processes
    exam.close()


@pytest.fixture(scope="module")
def hidden_result(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One real hidden run of a half-fixed tiny-sum, through the exam's checker."""
    folder = tmp_path_factory.mktemp("exam")
    pack, code = sealed_pack(folder, [TINY_SUM], feedback="names")
    exam = opened_exam(pack, code, home=folder / "home")
    part = exam.parts[0]
    result = exam.check(part.challenge, part.workspace, "hidden")
    # The suite's private folder is gone with the run (other test suites share /tmp: only
    # this run's own kind of folder is looked at).
    assert not list(Path(tempfile.gettempdir()).glob("tui-assess-exam-*"))
    full = run_check(resolve(str(TINY_SUM)), part.workspace, "hidden")
    exam.close()
    return full, result


def test_feedback_names_shows_names_never_messages(hidden_result) -> None:  # type: ignore[no-untyped-def]
    full, names = hidden_result
    assert [t.name for t in names.tests] == [t.name for t in full.tests]
    assert any(t.message for t in full.tests) and not any(t.message for t in names.tests)
    doc = names.to_json()
    assert doc["status"] == full.status and doc["passed"] == names.passed
    assert all(set(t) == {"name", "group", "status", "duration_s", "weight"} for t in doc["tests"])


@pytest.mark.parametrize("feedback, shown", [
    ("none", {"feedback", "resources", "snapshot", "sandbox", "guarantees", "withheld"}),
    ("counts", {"feedback", "resources", "snapshot", "sandbox", "guarantees", "withheld",
                "passed", "total"}),
])
def test_feedback_none_and_counts_record_no_outcome_per_test(
    hidden_result, feedback: str, shown: set[str],  # type: ignore[no-untyped-def]
) -> None:
    full, _ = hidden_result
    cut = apply_policy(full, feedback)  # type: ignore[arg-type]
    doc = cut.to_json()
    assert set(doc) == shown
    assert not cut.tests and "status" not in doc
    if feedback == "counts":
        assert doc["total"] == len(full.tests)
        assert doc["passed"] == sum(t.status == "pass" for t in full.tests)
        assert f"{doc['passed']} of {doc['total']}" in cut.summary()
    else:
        assert "pass" not in cut.summary() and cut.passed is None


def test_hand_in_records_the_submission_closes_the_file_and_gives_its_receipt(
    tmp_path: Path,
) -> None:
    pack, code = sealed_pack(tmp_path, feedback="counts")
    exam = opened_exam(pack, code)
    part = exam.parts[0]
    fix_workspace(part.workspace)
    result = exam.hand_in(part)
    assert result is not None and result.passed == result.total == 3
    assert part.finished and exam.over and part.receipt
    path = part.session
    ks = kinds(path)
    assert ks[-4:] == ["run_end", "keyframe", "submit", "session_end"]
    assert events(path)[-1].payload["reason"] == "submitted"
    submit = of_kind(path, "submit")[0].payload
    assert submit["passed"] == 3 and "score" not in submit and "status" not in submit
    run_end = of_kind(path, "run_end")[-1].payload
    assert "tests" not in run_end and run_end["withheld"] == "tests"
    assert check_receipt(path, part.receipt).ok
    # Opening the exam again changes nothing: it is finished.
    again = Exam.load(pack)
    assert again.status == "finished"
    assert [s.receipt for s in again.sessions_on_disk()] == [part.receipt]
    assert check_receipt(path, part.receipt).ok


def test_submissions_are_counted_and_the_last_allowed_is_final(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path, submissions=2)
    exam = opened_exam(pack, code)
    part = exam.parts[0]
    assert exam.submissions_left(part) == 2
    assert exam.submitted(part) is False and exam.submissions_left(part) == 1
    assert not part.finished
    assert exam.submitted(part) is True and part.finished
    assert exam.submissions_left(part) == 0


def test_a_final_submission_recorded_before_a_crash_is_closed_at_reopening(
    tmp_path: Path,
) -> None:
    pack, code = sealed_pack(tmp_path)
    exam = opened_exam(pack, code)
    part = exam.parts[0]
    assert part.hooks.recorder is not None
    part.hooks.submitted(HiddenFeedback("none", "submitted", Resources(), "", "none", {}))
    part.hooks.recorder.close(end=False)  # the app died before closing the file
    again = opened_exam(pack, code)
    assert again.parts[0].finished and again.over
    assert check_receipt(again.parts[0].session, again.parts[0].receipt or "").ok
    assert kinds(again.parts[0].session)[-1] == "session_end"


@pytest.mark.parametrize("module", ["tui_assess.exam.pack", "tui_assess.exam.runtime",
                                    "tui_assess.exam.receipt", "tui_assess.exam.watch"])
def test_the_exam_layer_never_imports_textual(module: str) -> None:
    code = (f"import importlib, sys; importlib.import_module({module!r}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == "[]"


def test_a_sandbox_forced_through_the_environment_is_ignored_and_flagged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The candidate controls the environment the exam starts in: TUI_ASSESS_SANDBOX=rlimits
    would put every run in a mode that does not isolate the file system. The exam drops it,
    records it, and reports flag it; a run that does end up in rlimits (a machine offering
    nothing better: simulated by setting the variable after the start) is flagged too."""
    from tui_assess.report.facts import SessionFacts
    from tui_assess.session.timeline import Timeline

    monkeypatch.setenv("TUI_ASSESS_SANDBOX", "rlimits")
    pack, code = sealed_pack(tmp_path, [TINY_SUM])
    exam = opened_exam(pack, code, home=tmp_path / "home")
    assert "TUI_ASSESS_SANDBOX" not in os.environ
    part = exam.parts[0]

    def visible_run() -> str:
        part.hooks.run_started("visible")
        result = exam.check(part.challenge, part.workspace, "visible")
        part.hooks.run_finished("visible", result)
        return str(result.run.sandbox)  # type: ignore[union-attr]

    best = visible_run()
    assert best != "rlimits"  # this machine has namespaces or landlock (the CI's does)
    monkeypatch.setenv("TUI_ASSESS_SANDBOX", "rlimits")
    assert visible_run() == "rlimits"
    exam.close()

    [ignored] = of_kind(part.session, "sandbox_env_ignored")
    assert ignored.payload == {"name": "TUI_ASSESS_SANDBOX", "value": "rlimits"}
    with Timeline.open(part.session) as tl:
        signals = {s["kind"]: s["detail"] for s in SessionFacts(tl).signals()}
    assert "TUI_ASSESS_SANDBOX='rlimits' was set" in signals["sandbox_env_ignored"]
    assert signals["weak_sandbox"].startswith("1 of 2 test runs ran in the rlimits mode")
