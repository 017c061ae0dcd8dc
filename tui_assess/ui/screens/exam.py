"""ExamApp: ``tui-assess exam PACK`` -- consent, start code, the challenges, the receipts.

The flow: ConsentScreen (what is recorded, the rules) -> StartCodeScreen (name, start code;
the pack is decrypted in memory and the clock starts) -> the challenge's workspace (several
challenges: the overview first) -> submissions -> ReceiptScreen. Time-up, from any screen,
saves every unsaved buffer, hands in every challenge not yet submitted and shows the receipts.
The exam itself (sessions, deadline, policy, receipts) lives in ``tui_assess.exam.runtime``.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from textual import events, on, work
from textual.screen import Screen

from tui_assess.exam.runtime import Exam, ExamPart
from tui_assess.ui.app import AssessApp
from tui_assess.ui.hooks import SessionHooks
from tui_assess.ui.progress import ProgressStore
from tui_assess.ui.screens.dialogs import ConfirmScreen
from tui_assess.ui.screens.exam_end import (
    ExamOverviewScreen,
    FeedbackScreen,
    HandingInScreen,
    ReceiptScreen,
)
from tui_assess.ui.screens.exam_start import ConsentScreen, StartCodeScreen
from tui_assess.ui.screens.exam_workspace import ExamChecker, ExamWorkspaceScreen

TIME_CHECK_S = 0.5


class ExamWindowHooks(SessionHooks):
    """The app-wide events (focus, resize) go into every open session of the exam."""

    def __init__(self, exam: Exam) -> None:
        self.exam = exam

    def focus_changed(self, focused: bool) -> None:
        self.exam.record_all("focus_gained" if focused else "focus_lost")

    def resized(self, width: int, height: int) -> None:
        self.exam.record_all("resize", width=width, height=height)


class ExamApp(AssessApp):
    """A proctored exam from a sealed pack. See the module docstring."""

    CSS_PATH = ["../styles/app.tcss", "../styles/exam.tcss"]  # type: ignore[assignment]
    TITLE = "tui-assess exam"

    def __init__(self, exam: Exam, *, candidate: str | None = None,
                 code_checked: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("progress", ProgressStore(exam.root / "progress.sqlite"))
        kwargs.setdefault("checker", ExamChecker(exam))
        super().__init__(hooks=ExamWindowHooks(exam), **kwargs)
        self.exam = exam
        self.candidate = candidate
        self.code_checked = code_checked
        self.workspaces: dict[str, ExamWorkspaceScreen] = {}
        self.feedback: dict[str, Any] = {}
        """The last submission's feedback per challenge (shown again with the receipts)."""
        self.handing_in = False
        self.started = False

    # -- before the exam --------------------------------------------------------------------

    @on(events.Mount)
    def _start(self, event: events.Mount) -> None:
        event.prevent_default()  # not the practice app's catalog (AssessApp.on_mount)
        self.apply_user_settings()
        self.push_screen(ConsentScreen(self.exam), self._consented)

    def _consented(self, agreed: bool | None) -> None:
        if not agreed:
            self.exit()
            return
        self.push_screen(StartCodeScreen(self.exam, self.candidate, self.code_checked),
                         self._unlocked)

    def _unlocked(self, name: str | None) -> None:
        if not name:
            self.exit()
            return
        self._open(name)

    @work(thread=True, exclusive=True, group="exam-open")
    def _open(self, name: str) -> None:
        size = shutil.get_terminal_size()
        try:
            self.exam.on_error = self._recording_failed
            self.exam.start(name, terminal_size=(size.columns, size.lines))
        except Exception as exc:  # a folder we cannot write, a pack we cannot materialise
            self.call_from_thread(self._failed_to_open, str(exc))
            return
        self.call_from_thread(self._opened)

    def _recording_failed(self, message: str) -> None:
        try:
            self.call_from_thread(self.notify, message, title="Session recording",
                                  severity="error", timeout=30)
        except RuntimeError:
            self.notify(message, title="Session recording", severity="error", timeout=30)

    def _failed_to_open(self, message: str) -> None:
        self.exit(message=f"tui-assess: the exam cannot start: {message}")

    def _opened(self) -> None:
        self.started = True
        self.set_interval(TIME_CHECK_S, self._check_time)
        if self.exam.over:
            self.show_receipts("Your exam was already handed in.")
            return
        if self.exam.seconds_left() <= 0:
            self.time_up()
            return
        open_parts = self.exam.open_parts
        if len(self.exam.parts) == 1 and open_parts:
            self.open_part(open_parts[0])
        else:
            self.show_overview()
        if self.exam.resumed:
            self.notify("Exam resumed: the deadline is the one set when it started.",
                        timeout=6)

    # -- moving around ----------------------------------------------------------------------

    def _show(self, screen: Screen[Any], name: str) -> None:
        """One of the exam's screens (installed: they live until the exam ends), in place of
        the one shown."""
        if not self.is_screen_installed(name):
            self.install_screen(screen, name)
        while self.screen.is_modal:
            self.pop_screen()
        if isinstance(self.screen, ExamWorkspaceScreen | ExamOverviewScreen):
            self.switch_screen(name)
        else:
            self.push_screen(name)

    def open_part(self, part: ExamPart) -> None:
        screen = self.workspaces.get(part.id)
        if screen is None:
            screen = self.workspaces[part.id] = ExamWorkspaceScreen(self.exam, part, self.checker)
        self._show(screen, f"exam-{part.id}")

    def show_overview(self) -> None:
        name = "exam-overview"
        screen = self.get_screen(name) if self.is_screen_installed(name) else \
            ExamOverviewScreen(self.exam)
        self._show(screen, name)

    # -- submissions and the end --------------------------------------------------------------

    def after_submission(self, part: ExamPart, result: Any, final: bool) -> None:
        self.feedback[part.id] = result
        if self.exam.over:
            self.show_receipts("Exam submitted.")
            return
        if final:
            note = (f"This challenge is handed in. Its receipt is {part.receipt}; you will "
                    "see it again at the end. f10: the exam's other challenges.")
        else:
            left = self.exam.submissions_left(part)
            note = (f"You can submit this challenge {left} more time{'s' if left > 1 else ''}; "
                    "the last submission counts. f10 then ctrl+e finishes the exam.")
        self.push_screen(FeedbackScreen(part.title, result, note))

    def confirm_finish(self) -> None:
        left = [p.title for p in self.exam.open_parts]

        def answered(go: bool | None) -> None:
            if go:
                self.hand_in("Exam finished.", time_up=False)

        self.push_screen(ConfirmScreen(
            "Finish the exam now? " + ("Every challenge not yet submitted is handed in as it "
                                       f"is: {', '.join(left)}." if left else "")
            + " You cannot change anything afterwards.",
            confirm_label="Finish", title="Finish the exam"), answered)

    def _check_time(self) -> None:
        if self.started and not self.handing_in and not self.exam.over \
                and self.exam.seconds_left() <= 0:
            self.time_up()

    def time_up(self) -> None:
        if self.handing_in or self.exam.over:
            return
        self.hand_in("Time is up.", time_up=True)

    def hand_in(self, why: str, time_up: bool) -> None:
        """Hand in every challenge not yet submitted, then show the receipts."""
        if self.handing_in:
            return
        self.handing_in = True
        for part in self.exam.open_parts:
            if time_up:
                part.hooks.time_up()
            screen = self.workspaces.get(part.id)
            if screen is not None and screen.is_mounted:
                screen.hand_in_prepare()  # unsaved buffers saved first
        while self.screen.is_modal:
            self.pop_screen()
        progress = HandingInScreen(why)
        self.push_screen(progress)
        self._hand_in(why, progress)

    @work(exclusive=True, group="exam-hand-in")
    async def _hand_in(self, why: str, progress: HandingInScreen) -> None:
        for part in list(self.exam.open_parts):
            progress.progress(f"Running the hidden tests of {part.title}...")
            result = await asyncio.to_thread(self.exam.hand_in, part)
            if result is not None:
                self.feedback[part.id] = result
        self.show_receipts(why)

    def show_receipts(self, why: str) -> None:
        for screen in self.workspaces.values():
            if screen.is_mounted:
                screen.stop()
        self.handing_in = False
        receipt = ReceiptScreen(self.exam, self.feedback, why)
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(receipt)

    # -- quitting -----------------------------------------------------------------------------

    def action_request_quit(self) -> None:
        if isinstance(self.screen, ConfirmScreen) or self.handing_in:
            return
        if not self.started or self.exam.over:
            self._quit(None)
            return

        def answered(go: bool | None) -> None:
            if go:
                self._quit(None)

        self.push_screen(ConfirmScreen(
            "Quit the exam? Your work and its recording are kept, but the clock keeps running: "
            "run the same command again to continue.", confirm_label="Quit",
            title="Quit the exam"), answered)

    def _quit(self, ws: Any) -> None:
        for screen in self.workspaces.values():
            if screen.is_mounted:
                screen.stop()
        self.exam.close()
        self.exit()
