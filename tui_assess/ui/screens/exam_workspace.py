"""One challenge of an exam: the practice workspace under the exam's rules.

What differs from practice, all of it from the policy sealed in the pack: the countdown is the
exam's (one deadline for every challenge, counted from decryption); submissions are counted and
the last one allowed is final; a submission shows only the feedback the policy allows (the
checker has already cut it); hints only when the policy has them; no solution, reset, give-up
or catalog (f10 is the exam's overview instead); time-up hands everything in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.binding import Binding, BindingType
from textual.widgets import Label

from tui_assess.ui.checking import CheckRequest, SessionChecker
from tui_assess.ui.hooks import GuardedHooks
from tui_assess.ui.messages import RunFinished
from tui_assess.ui.screens.workspace import WorkspaceScreen
from tui_assess.ui.widgets.countdown import Countdown
from tui_assess.ui.widgets.test_panel import TestPanel

if TYPE_CHECKING:
    from tui_assess.exam.runtime import Exam, ExamPart

#: Practice actions that do not exist in an exam.
NOT_IN_EXAMS = frozenset({"show_solution", "give_up", "reset", "back"})


class ExamChecker(SessionChecker):
    """The exam's runs, one checker for all its challenges: visible runs as in practice (one
    run kept prepared, for the challenge last edited or run), hidden runs through
    `Exam.check` (from the pack, cut to the policy). A run kept prepared shows nothing: it
    is the visible suite's sandbox, judge and host, waiting for the candidate's files."""

    def __init__(self, exam: Exam) -> None:
        super().__init__()
        self.exam = exam

    def run(self, request: CheckRequest) -> Any:
        return self.exam.check(request.challenge, request.workspace, request.suite,
                               request.on_event, request.cancel, runs=self.runs)


class ExamWorkspaceScreen(WorkspaceScreen):
    """A challenge's workspace during an exam (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f10", "exam_overview", "Exam", priority=True, id="exam.overview",
                tooltip="The exam: its challenges, time left, submissions, finishing."),
    ]

    def __init__(self, exam: Exam, part: ExamPart, checker: SessionChecker) -> None:
        self.exam = exam
        self.part = part
        hooks = GuardedHooks(part.hooks, self._recording_failed)
        super().__init__(part.challenge, part.workspace, checker=checker,
                         hooks=hooks, progress=None, mode="exam", timed=True)  # type: ignore[arg-type]
        self.deadline = exam.deadline_monotonic

    @on(events.ScreenResume)
    def _prepare_again(self) -> None:
        """Back on a challenge already edited (the exam's one prepared run may be another
        challenge's): prepare this one's again."""
        if self.edited:
            self.checker.prepare(self.challenge)

    def _recording_failed(self, message: str) -> None:
        self.notify(message, severity="error", timeout=10)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in NOT_IN_EXAMS:
            return False
        if action == "hint" and not self.exam.policy.hints:
            return False
        if action == "submit" and self.exam.submissions_left(self.part) == 0:
            return False
        return super().check_action(action, parameters)

    def action_exam_overview(self) -> None:
        self.app.show_overview()  # type: ignore[attr-defined]

    def action_submit(self) -> None:
        if self.running:
            return
        left = self.exam.submissions_left(self.part)
        if left == 0:
            self.notify("This challenge is submitted; nothing more to hand in.", timeout=4)
            return
        allowed = self.exam.policy.submissions
        used = allowed - left
        if allowed == 1:
            which = "This is your only submission for it: it is final."
        elif left == 1:
            which = f"This is your last submission for it ({allowed} of {allowed}): it is final."
        else:
            which = (f"This is submission {used + 1} of {allowed}; you can submit again, "
                     "and the last one counts.")
        self.confirm_submit(f"Submit {self.challenge.title}? {which}")

    @on(RunFinished)
    def _exam_run_finished(self, event: RunFinished) -> None:
        """A hidden run is a submission: the policy's feedback, counted; visible runs are left
        to the workspace."""
        if event.suite != "hidden":
            return
        event.prevent_default()
        self.running = False
        panel = self.query_one("#tests", TestPanel)
        if event.result is None:
            panel.failed_to_run(event.error)
            self.notify(f"The submission could not run: {event.error} It did not count; "
                        "submit again.", severity="error", markup=False)
            return
        result: Any = event.result
        panel.show_result(result)
        panel.query_one("#run-summary", Label).update(result.summary())
        self.hooks.run_finished("hidden", result)
        if result.cancelled:
            self.notify(result.summary(), timeout=4)
            return
        self.hooks.submitted(result)
        final = self.exam.submitted(self.part)
        self.refresh_bindings()
        self.app.after_submission(self.part, result, final)  # type: ignore[attr-defined]

    @on(Countdown.Expired)
    def _exam_time_up(self, event: Countdown.Expired) -> None:
        event.prevent_default()
        self.app.time_up()  # type: ignore[attr-defined]

    def hand_in_prepare(self) -> None:
        """Before an automatic hand-in: unsaved buffers saved, a running test run stopped."""
        self.editor_tabs.save_all()
        self.cancel_tests()
