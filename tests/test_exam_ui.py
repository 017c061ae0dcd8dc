"""Pilot tests of the exam app: consent, start code, the policy's rules at the keyboard,
submissions, time-up, several challenges, quitting and resuming. Real packs, real sessions and
real (sandboxed) test runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fixtures.ui_support import async_test, wait_until
from test_exam_support import FIX_SUM, TINY_SUM, events, kinds, of_kind, sealed_pack
from textual.widgets import Input, Label, Static

from tui_assess.exam.receipt import check_receipt
from tui_assess.exam.runtime import Exam
from tui_assess.session.verify import verify
from tui_assess.ui.screens.dialogs import ConfirmScreen, SubmitScreen
from tui_assess.ui.screens.exam import ExamApp
from tui_assess.ui.screens.exam_end import ExamOverviewScreen, FeedbackScreen, ReceiptScreen
from tui_assess.ui.screens.exam_start import ConsentScreen, StartCodeScreen
from tui_assess.ui.screens.exam_workspace import ExamWorkspaceScreen
from tui_assess.ui.widgets.big_code import BigCode
from tui_assess.ui.widgets.code_editor import CodeEditor

SIZE = (110, 36)
RUN_TIMEOUT = 60.0


def text_of(screen: Any) -> str:
    """The words on a screen; a code in large type counts as its code."""
    return "\n".join(w.code if isinstance(w, BigCode) else str(w.render())
                     for w in screen.query("Static, Label"))


def exam_app(pack: Path, code: str) -> tuple[Exam, ExamApp]:
    """The app as `tui-assess exam PACK --code CODE` starts it (the code already checked)."""
    exam = Exam.load(pack)
    exam.check_code(code)
    return exam, ExamApp(exam, code_checked=code)


async def open_exam(pilot: Any, app: ExamApp, name: str = "Ada Lovelace") -> None:
    """Consent, then name (code given on the command line), until the exam is open."""
    await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen))
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, StartCodeScreen))
    field = app.screen.query_one("#candidate", Input)
    if not field.disabled and not field.value:
        field.value = name
    app.screen.query_one("#start").press()
    await wait_until(pilot, lambda: app.started and not isinstance(app.screen, StartCodeScreen),
                     timeout=30)
    await pilot.pause(0.2)


def workspace(app: ExamApp) -> ExamWorkspaceScreen:
    for screen in reversed(app.screen_stack):
        if isinstance(screen, ExamWorkspaceScreen):
            return screen
    raise AssertionError(f"no workspace: {app.screen_stack}")


async def submit(pilot: Any, app: ExamApp) -> None:
    await pilot.press("ctrl+g")
    await wait_until(pilot, lambda: isinstance(app.screen, SubmitScreen))
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, FeedbackScreen | ReceiptScreen)
                     and bool(text_of(app.screen).strip()), timeout=RUN_TIMEOUT)
    await pilot.pause(0.2)


@async_test
async def test_consent_wrong_code_then_the_right_one(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path, ai_assistants=False, record_processes=True)
    exam = Exam.load(pack)
    app = ExamApp(exam)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen))
        consent = text_of(app.screen)
        for words in ("What is recorded", "every change you make in the editor",
                      "the names (only the names) of programs", "No camera",
                      "AI assistants", "Not allowed", "Never shown", "30 minutes"):
            assert words in consent, words
        assert not exam.sessions_on_disk()  # nothing starts before consent and code
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, StartCodeScreen))
        screen = app.screen
        screen.query_one("#candidate", Input).value = "Ada Lovelace"
        screen.query_one("#code", Input).value = "AAAA-BBBB-CCCC-DDDD"
        screen.query_one("#start").press()
        await wait_until(pilot, lambda: "does not open this exam" in str(
            screen.query_one("#code-message", Static).render()), timeout=20)
        assert exam.opened is None and not exam.sessions_on_disk()
        assert screen.query_one("#code", Input).value == ""
        screen.query_one("#code", Input).value = code.lower()
        screen.query_one("#start").press()
        await wait_until(pilot, lambda: isinstance(app.screen, ExamWorkspaceScreen), timeout=30)
        ws = workspace(app)
        assert ws.mode == "exam" and ws.timed
        assert abs(ws.deadline - exam.deadline_monotonic) < 1e-6
        assert 29 * 60 < exam.seconds_left() <= 30 * 60
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")
    path = exam.parts[0].session
    [refused] = of_kind(path, "start_code_refused")
    assert refused.payload["count"] == 1
    assert events(path)[-1].kind == "session_end"
    assert events(path)[-1].payload["reason"] == "closed"  # quitting is not handing in


@async_test
async def test_one_minute_exam_hands_in_at_time_up_saving_unsaved_buffers_first(
    tmp_path: Path,
) -> None:
    pack, code = sealed_pack(tmp_path, time_minutes=1, feedback="counts")
    exam, app = exam_app(pack, code)
    async with app.run_test(size=SIZE) as pilot:
        await open_exam(pilot, app)
        ws = workspace(app)
        assert 50 < exam.seconds_left() <= 60
        editor = ws.editors["calc.py"]
        editor.focus()
        editor.replace("+", editor.document.get_location_from_index(
            editor.text.index("a - b") + 2), editor.document.get_location_from_index(
            editor.text.index("a - b") + 3))
        await pilot.pause(0.1)
        assert ws.dirty_files == ["calc.py"]  # typed, never saved
        real = time.monotonic
        exam.clock = lambda: real() + 61  # a minute passes
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen)
                         and "hidden tests pass" in text_of(app.screen), timeout=RUN_TIMEOUT)
        receipt_text = text_of(app.screen)
    part = exam.parts[0]
    assert part.finished and part.receipt and part.receipt in receipt_text
    assert "3 of 3 hidden tests pass" in receipt_text
    ks = kinds(part.session)
    assert ks.index("time_up") < ks.index("save") < ks.index("submit")
    assert ks[-1] == "session_end" and events(part.session)[-1].payload["reason"] == "submitted"
    assert "return a + b" in (part.workspace / "calc.py").read_text()
    from tui_assess.session.timeline import Timeline

    with Timeline.open(part.session) as tl:
        submitted = tl.state_at(seq=of_kind(part.session, "submit")[0].seq)
    assert "return a + b" in submitted["calc.py"]
    assert verify(part.session).ok and check_receipt(part.session, part.receipt).ok


@async_test
async def test_hints_solution_reset_and_catalog_are_not_in_the_exam(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path)  # hints off
    exam, app = exam_app(pack, code)
    async with app.run_test(size=SIZE) as pilot:
        await open_exam(pilot, app)
        ws = workspace(app)
        for key in ("f2", "f7", "f8", "f9"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is ws, key  # no dialog, no solution screen
        for action in ("hint", "show_solution", "reset", "give_up", "back"):
            assert not ws.check_action(action, ()), action
        commands = [c.title for c in app.get_system_commands(ws)]
        assert not [c for c in commands if c.startswith(("Hint", "Solution", "Reset", "Give up",
                                                         "Catalog"))]
        assert ws.challenge.hints == ()
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, ExamOverviewScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is ws)
        app.exit()
    ks = kinds(exam.parts[0].session)
    assert "hint_shown" not in ks and "solution_shown" not in ks


@async_test
async def test_hints_when_the_policy_has_them_are_recorded(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path, hints=True)
    exam, app = exam_app(pack, code)
    async with app.run_test(size=SIZE) as pilot:
        await open_exam(pilot, app)
        await pilot.press("f2")
        await pilot.pause(0.2)
        app.exit()
    [shown] = of_kind(exam.parts[0].session, "hint_shown")
    assert shown.payload["index"] == 0


@async_test
async def test_feedback_none_shows_and_records_no_outcome(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path, feedback="none")
    exam, app = exam_app(pack, code)
    async with app.run_test(size=SIZE) as pilot:
        await open_exam(pilot, app)
        await submit(pilot, app)
        assert isinstance(app.screen, ReceiptScreen)  # one submission: final, and the only one
        shown = text_of(app.screen)
        summary = str(app.workspaces["fix-sum"].query_one("#run-summary", Label).render())
    assert "results go to the hiring team" in shown
    assert "pass" not in shown.replace("Read your receipt", "") and "FAIL" not in shown
    assert "pass" not in summary and "fail" not in summary
    path = exam.parts[0].session
    run_end = of_kind(path, "run_end")[-1].payload
    assert run_end["withheld"] == "outcome" and "tests" not in run_end and "status" not in run_end
    submit_event = of_kind(path, "submit")[0].payload
    assert set(submit_event) == {"feedback", "snapshot"}


@async_test
async def test_the_first_visible_run_after_an_edit_starts_warm_and_preparing_shows_nothing(
    tmp_path: Path,
) -> None:
    pack, code = sealed_pack(tmp_path, feedback="none")
    exam, app = exam_app(pack, code)
    checker: Any = app.checker
    async with app.run_test(size=SIZE) as pilot:
        await open_exam(pilot, app)
        path = exam.parts[0].session
        ws = workspace(app)
        await wait_until(pilot, lambda: bool(ws.query("#brief")))
        await pilot.pause(0.5)
        assert checker._runs is None, "an exam screen left alone prepared a run"
        ws.editors["calc.py"].focus()
        await pilot.press("end", "space")
        await wait_until(pilot, lambda: checker.runs is not None and checker.runs.wait_ready(0),
                         timeout=RUN_TIMEOUT)
        spare = checker.runs.spare
        assert spare is not None and not spare.key.hidden  # the visible suite, never the hidden
        # Preparing is not a run: nothing recorded, nothing shown.
        assert not of_kind(path, "run_start") and not of_kind(path, "run_end")
        summary = ws.query_one("#run-summary", Label)
        assert str(summary.render()) == "Press ctrl+r to run the visible tests."
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: ws.last_result is not None, timeout=RUN_TIMEOUT)
        assert ws.last_result.run.start == "warm", ws.last_result.reason
        await submit(pilot, app)
        assert checker.runs.spare is None or not checker.runs.spare.key.hidden
    ends = [e.payload for e in of_kind(path, "run_end")]
    assert [(e["suite"], e.get("start")) for e in ends][0] == ("visible", "warm")
    assert [e["suite"] for e in ends] == ["visible", "hidden"]
    assert ends[1]["withheld"] == "outcome"  # the policy still cuts the hidden run


@async_test
async def test_one_run_kept_prepared_follows_the_challenge_being_worked_on(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path, [FIX_SUM, TINY_SUM])
    exam, app = exam_app(pack, code)
    checker: Any = app.checker

    def prepared_for() -> str | None:
        spare = checker.runs.spare if checker.runs is not None else None
        return spare.key.tests.parent.parent.name if spare is not None else None

    async def work_on(keys: tuple[str, ...], challenge: str, edit: bool) -> None:
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, ExamOverviewScreen))
        await pilot.press(*keys)
        await wait_until(pilot, lambda: isinstance(app.screen, ExamWorkspaceScreen)
                         and workspace(app).challenge.id == challenge)
        if edit:
            await pilot.press("end", "space")
        await wait_until(pilot, lambda: prepared_for() == challenge and checker.runs.wait_ready(0),
                         timeout=RUN_TIMEOUT)

    async with app.run_test(size=SIZE) as pilot:
        await open_exam(pilot, app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExamWorkspaceScreen))
        await pilot.press("end", "space")
        await wait_until(pilot, lambda: prepared_for() == "fix-sum", timeout=RUN_TIMEOUT)
        first = checker.runs.spare
        await work_on(("down", "enter"), "tiny-sum", edit=True)
        await wait_until(pilot, lambda: not first.sandbox.run_dir.exists())  # one spare a time
        await work_on(("up", "enter"), "fix-sum", edit=False)  # back: prepared again
        await pilot.press("ctrl+r")
        ws = workspace(app)
        await wait_until(pilot, lambda: ws.last_result is not None, timeout=RUN_TIMEOUT)
        assert ws.challenge.id == "fix-sum" and ws.last_result.run.start == "warm"
        app.exit()


@async_test
async def test_feedback_names_with_two_submissions(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path, feedback="names", submissions=2)
    exam, app = exam_app(pack, code)
    async with app.run_test(size=SIZE) as pilot:
        await open_exam(pilot, app)
        await submit(pilot, app)  # the starter: some hidden tests fail
        assert isinstance(app.screen, FeedbackScreen)
        first = text_of(app.screen)
        assert "test_total_of_three" in first and "FAIL" in first
        assert "assert" not in first  # names, never messages
        assert "1 more time" in first
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExamWorkspaceScreen))
        ws = workspace(app)
        ws.editors["calc.py"].text = ws.editors["calc.py"].text.replace("a - b", "a + b")
        await submit(pilot, app)  # the last one allowed: final
        assert isinstance(app.screen, ReceiptScreen)
        assert "3 of 3 hidden tests pass" in text_of(app.screen)
    path = exam.parts[0].session
    ends = [e.payload for e in of_kind(path, "run_end") if e.payload.get("suite") == "hidden"]
    assert [e["status"] for e in ends] == ["fail", "pass"]
    assert all("message" not in t for e in ends for t in e["tests"])
    assert len(of_kind(path, "submit")) == 2
    assert check_receipt(path, exam.parts[0].receipt or "").ok


@async_test
async def test_two_challenges_overview_and_finishing_the_exam(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path, [FIX_SUM, TINY_SUM])
    exam, app = exam_app(pack, code)
    async with app.run_test(size=SIZE) as pilot:
        await open_exam(pilot, app)
        assert isinstance(app.screen, ExamOverviewScreen)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExamWorkspaceScreen))
        assert workspace(app).challenge.id == "tiny-sum"
        assert isinstance(app.focused, CodeEditor)
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, ExamOverviewScreen))
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")
        # The screen first, then its words (composed a moment later on a loaded machine).
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen)
                         and all(p.receipt and p.receipt in text_of(app.screen)
                                 for p in exam.parts),
                         timeout=2 * RUN_TIMEOUT)
        shown = text_of(app.screen)
    assert exam.over and len({p.receipt for p in exam.parts}) == 2
    for part in exam.parts:
        assert part.receipt and part.receipt in shown
        assert check_receipt(part.session, part.receipt).ok
        assert "time_up" not in kinds(part.session)


@async_test
async def test_quit_then_resume_with_the_same_deadline(tmp_path: Path) -> None:
    pack, code = sealed_pack(tmp_path)
    exam, app = exam_app(pack, code)
    async with app.run_test(size=SIZE) as pilot:
        await open_exam(pilot, app)
        deadline = exam.deadline
        await pilot.press("ctrl+q", "enter")
    again = Exam.load(pack)
    assert again.status == "in progress"
    again.check_code(code)
    app = ExamApp(again, code_checked=code)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen))
        assert "in progress" in text_of(app.screen)
        await open_exam(pilot, app)
        assert isinstance(app.screen, ExamWorkspaceScreen)
        assert again.deadline == deadline
        app.exit()
    assert kinds(again.parts[0].session).count("resumed") == 1
