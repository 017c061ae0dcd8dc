"""Before an exam starts: what is recorded and the rules (consent), then name and start code.

Nothing of the pack is decrypted until the start code is accepted; the clock starts then.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from tui_assess.errors import UserError
from tui_assess.ui.progress import format_duration

if TYPE_CHECKING:
    from tui_assess.exam.runtime import Exam

RECORDED = [
    "every change you make in the editor (typing, pastes, undo and redo) and every save;",
    "every test run and its results, and your submissions;",
    "the terminal pane (f12): the keys you send, each command, and what it prints (capped);",
    "pastes into the editor, with their text;",
    "when this window loses or gets back the focus, and when it is resized;",
    "about once a second, how busy this computer is (CPU and memory);",
    "wrong start codes (their times), clock changes, and restarts of the exam.",
]
NOT_RECORDED = ("No camera, no microphone, no screen capture; nothing you type in other "
                "programs; no clipboard beyond what you paste here.")


class ConsentScreen(Screen[bool]):
    """What is recorded and the exam's rules. Dismisses True to continue, False to leave."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "agree", "Continue", id="exam.agree",
                tooltip="I have read what is recorded and the rules: continue."),
        Binding("escape", "leave", "Leave", id="exam.leave",
                tooltip="Leave without starting (nothing is recorded)."),
    ]

    def __init__(self, exam: Exam) -> None:
        super().__init__()
        self.exam = exam

    def compose(self) -> ComposeResult:
        exam = self.exam
        policy = exam.policy
        with VerticalScroll(id="consent"):
            yield Label("Proctored exam", id="consent-title")
            titles = ", ".join(exam.header.titles)
            yield Static(Text(f"{len(exam.header.titles)} challenge"
                              f"{'s' if len(exam.header.titles) > 1 else ''}: {titles}"),
                         id="consent-challenges")
            if exam.status == "in progress":
                left = self._left_on_record()
                yield Static(
                    "Your exam is in progress on this computer. "
                    + (f"About {format_duration(left)} left: " if left and left > 0 else
                       "Its time is up: ")
                    + "the clock kept running while the app was closed. Enter the start code "
                    "again to continue; your work and recording resume where they stopped.",
                    id="consent-resume", classes="-warning")
            yield Label("What is recorded", classes="consent-heading")
            recorded = list(RECORDED)
            if policy.record_processes:
                recorded.insert(-1, "the names (only the names) of programs you start on this "
                                    "computer during the exam;")
            yield Static("\n".join(f" • {line}" for line in recorded), id="consent-recorded")
            yield Static(NOT_RECORDED, id="consent-not-recorded")
            yield Static(
                "The recording stays in a file on this computer until you hand it in. When you "
                "submit you get a receipt code: read it out or write it down; it proves which "
                "file you submitted.", id="consent-file")
            yield Label("The rules", classes="consent-heading")
            rules = Text()
            for name, meaning in policy.rules():
                rules.append(f" {name}: ", style="bold")
                rules.append(meaning + "\n")
            yield Static(rules, id="consent-rules")
            with Horizontal(id="consent-buttons"):
                yield Button("I understand: continue", id="agree", variant="primary")
                yield Button("Leave", id="leave")
        yield Footer()

    def _left_on_record(self) -> float | None:
        import time

        deadlines = [s.deadline for s in self.exam.sessions_on_disk() if s.deadline]
        return min(deadlines) - time.time() if deadlines else None

    def on_mount(self) -> None:
        self.query_one("#agree", Button).focus()

    def action_agree(self) -> None:
        self.dismiss(True)

    def action_leave(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#agree")
    def _agree(self) -> None:
        self.action_agree()

    @on(Button.Pressed, "#leave")
    def _leave(self) -> None:
        self.action_leave()


class StartCodeScreen(Screen[str]):
    """Name (or candidate id) and the start code. Dismisses with the name once the code opens
    the pack (then the exam is unlocked: decrypted in memory)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave", id="exam.code_leave",
                tooltip="Leave without starting."),
    ]

    def __init__(self, exam: Exam, candidate: str | None, code: str | None) -> None:
        super().__init__()
        self.exam = exam
        self.candidate = candidate
        self.code = code
        """A start code already checked on the command line (--code)."""
        self._busy = threading.Lock()

    def compose(self) -> ComposeResult:
        recorded = self.exam.recorded_candidate()
        with Vertical(id="start-code"):
            yield Label("Start the exam", id="start-code-title")
            yield Label("Your name or candidate id")
            yield Input(value=recorded or self.candidate or "", id="candidate",
                        disabled=recorded is not None, placeholder="as the hiring team knows you")
            if self.code is None:
                yield Label("Start code (the proctor announces it)")
                yield Input(id="code", placeholder="ABCD-EFGH-JKMN-PQRS")
            else:
                yield Label("Start code: given on the command line and accepted.")
            yield Static("", id="code-message")
            yield Label("Enter starts the exam: the clock starts when the code opens it.",
                        id="start-code-keys")
            with Horizontal(id="start-code-buttons"):
                yield Button("Start the exam", id="start", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        name = self.query_one("#candidate", Input)
        if not name.value:
            name.focus()
        elif self.code is None:
            self.query_one("#code", Input).focus()
        else:
            self.query_one("#start", Button).focus()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self._go(last=True)

    def action_leave(self) -> None:
        self.dismiss("")

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#code-message", Static)
        message.update(Text(text))
        message.set_class(error, "-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self._go(last=event.input.id != "candidate")

    def _go(self, last: bool) -> None:
        name = self.query_one("#candidate", Input).value.strip()
        if not name:
            self.say("Please give your name or candidate id first.", error=True)
            self.query_one("#candidate", Input).focus()
            return
        if self.code is None and not last:
            self.query_one("#code", Input).focus()
            return
        code = self.code if self.code is not None else self.query_one("#code", Input).value
        if not code.strip():
            self.say("Please type the start code.", error=True)
            return
        if not self._busy.acquire(blocking=False):
            return
        self.say("Checking the start code...")
        for field in self.query(Input):
            field.disabled = True
        self._check(name, None if self.code is not None else code)

    @work(thread=True, exclusive=True, group="start-code")
    def _check(self, name: str, code: str | None) -> None:
        try:
            self.exam.unlock(code)
        except UserError as exc:
            self.app.call_from_thread(self._refused, str(exc))
            return
        finally:
            self._busy.release()
        self.app.call_from_thread(self.dismiss, name)

    def _refused(self, sentence: str) -> None:
        self.say(sentence[:1].upper() + sentence[1:], error=True)
        for field in self.query(Input):
            field.disabled = field.id == "candidate" and self.exam.recorded_candidate() is not None
        if self.code is None:
            code = self.query_one("#code", Input)
            code.value = ""
            code.focus()
