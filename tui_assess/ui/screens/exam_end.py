"""The exam's own screens around the workspaces: the overview (f10), the feedback after a
submission, the hand-in in progress, and the receipts at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Label, Static

from tui_assess.ui.widgets.big_code import BigCode
from tui_assess.ui.widgets.countdown import Countdown

if TYPE_CHECKING:
    from tui_assess.exam.runtime import Exam, ExamPart


def part_status(exam: Exam, part: ExamPart) -> str:
    if part.finished:
        return "submitted"
    used, allowed = part.submissions, exam.policy.submissions
    if used == 0:
        return "not submitted yet"
    return f"{used} of {allowed} submissions used"


class ExamOverviewScreen(Screen[None]):
    """The exam's challenges, the time left, and finishing the exam."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="exam.open", tooltip="Work on this challenge."),
        Binding("ctrl+e", "finish", "Finish the exam", id="exam.finish", show=True,
                tooltip="Hand in every challenge now (asks first); you get your receipts."),
    ]

    def __init__(self, exam: Exam) -> None:
        super().__init__()
        self.exam = exam

    def compose(self) -> ComposeResult:
        with Horizontal(id="ws-header"):
            yield Label("Exam", id="ws-title")
            yield Countdown(self.exam.deadline_monotonic, id="countdown")
        with Vertical(id="exam-overview"):
            yield Static(Text(f"Candidate: {self.exam.candidate or '-'}"), id="overview-who")
            table: DataTable[Any] = DataTable(id="overview-table", cursor_type="row")
            table.add_columns("challenge", "status", "receipt")
            yield table
            yield Static(
                "Enter opens a challenge; f10 in a challenge comes back here. ctrl+g in a "
                "challenge submits it. Finishing the exam hands in every challenge not yet "
                "submitted, as it is now.", id="overview-help")
            with Horizontal(id="overview-buttons"):
                yield Button("Finish the exam", id="finish", variant="warning")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_rows()
        self.query_one("#overview-table", DataTable).focus()

    def on_screen_resume(self) -> None:
        self.refresh_rows()

    def refresh_rows(self) -> None:
        table = self.query_one("#overview-table", DataTable)
        row = table.cursor_row
        table.clear()
        for part in self.exam.parts:
            table.add_row(Text(part.title), part_status(self.exam, part), part.receipt or "",
                          key=part.id)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def action_open(self) -> None:
        table = self.query_one("#overview-table", DataTable)
        if not table.row_count:
            return
        part = self.exam.parts[table.cursor_row]
        if part.finished:
            self.notify(f"{part.title} is submitted; its receipt is {part.receipt}.", timeout=5)
            return
        self.app.open_part(part)  # type: ignore[attr-defined]

    @on(DataTable.RowSelected, "#overview-table")
    def _selected(self) -> None:
        self.action_open()

    def action_finish(self) -> None:
        self.app.confirm_finish()  # type: ignore[attr-defined]

    @on(Button.Pressed, "#finish")
    def _finish(self) -> None:
        self.action_finish()

    @on(Countdown.Expired)
    def _time_up(self) -> None:
        self.app.time_up()  # type: ignore[attr-defined]


def feedback_lines(result: Any) -> Text:
    """The policy's feedback of one submission, as the candidate sees it."""
    text = Text(result.summary() + "\n")
    for t in getattr(result, "tests", []):
        mark = {"pass": "pass", "skip": "skip"}.get(t.status, "FAIL")
        text.append(f"  {mark:<5} ", style="bold green" if mark == "pass" else "bold red")
        text.append(f"{t.name}\n")
    return text


class FeedbackScreen(ModalScreen[None]):
    """After a submission that was not the exam's last: its feedback, what is left."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Back", id="exam.feedback_close",
                tooltip="Back to the exam."),
    ]

    def __init__(self, title: str, result: Any, note: str) -> None:
        super().__init__()
        self.challenge_title = title
        self.result = result
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(f"Submitted: {self.challenge_title}"), id="dialog-title")
            with VerticalScroll(id="feedback-scroll"):
                yield Static(feedback_lines(self.result), id="feedback")
            yield Static(Text(self.note), id="feedback-note")
            with Horizontal(id="dialog-buttons"):
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.dismiss(None)


class HandingInScreen(ModalScreen[None]):
    """Shown while the exam hands in its challenges (time-up or finish): no key reaches the
    editors any more."""

    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, why: str) -> None:
        super().__init__()
        self.why = why
        self._progress = Static("", id="handing-in-progress")

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.why, id="dialog-title")
            yield Static("Handing in your work: unsaved files are saved, the hidden tests "
                         "run on each challenge. Please wait; do not close the app.",
                         id="handing-in-text")
            yield self._progress

    def progress(self, text: str) -> None:
        self._progress.update(Text(text))


class ReceiptScreen(Screen[None]):
    """The end: each challenge's receipt in large type, and where the files are."""

    def __init__(self, exam: Exam, feedback: dict[str, Any], why: str) -> None:
        super().__init__()
        self.exam = exam
        self.feedback = feedback
        self.why = why

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="receipts"):
            yield Label(self.why, id="receipts-title")
            yield Static(
                "Read your receipt code out to the proctor, or write it down, now. It proves "
                "which file you handed in: the hiring team checks the file against it.",
                id="receipts-instruction")
            for part in self.exam.parts:
                yield Label(Text(part.title), classes="receipt-challenge")
                result = self.feedback.get(part.id)
                if result is not None:
                    yield Static(feedback_lines(result), classes="receipt-feedback")
                yield BigCode(part.receipt or "", classes="receipt-code")
            files = "\n".join(str(p.session) for p in self.exam.parts)
            yield Static(Text(f"Session files (hand these in as the hiring team asks):\n{files}"),
                         id="receipts-files")
            yield Label("ctrl+q quits.", id="receipts-keys")
        yield Footer()
