"""A yes/no confirmation: Enter confirms, Escape cancels."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (confirm) or False (cancel)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape", "cancel", "Cancel", id="confirm.cancel", tooltip="Close without doing it."
        ),
        Binding("enter", "confirm", "Confirm", id="confirm.confirm", tooltip="Go ahead."),
    ]

    def __init__(
        self,
        question: str,
        confirm_label: str = "Confirm",
        cancel_label: str = "Cancel",
        title: str = "Please confirm",
    ) -> None:
        super().__init__()
        self.question = question
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label
        self.dialog_title = title

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.dialog_title, id="dialog-title")
            yield Static(self.question, id="dialog-question", markup=False)
            yield Label("Enter confirms · Escape cancels", id="dialog-keys")
            with Horizontal(id="dialog-buttons"):
                yield Button(self.confirm_label, id="confirm", variant="primary")
                yield Button(self.cancel_label, id="cancel")

    def on_mount(self) -> None:
        self.initial_focus()

    def initial_focus(self) -> None:
        self.query_one("#confirm", Button).focus()

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class SubmitScreen(ConfirmScreen):
    """The submit confirmation, with a short note: what the candidate did and why.

    Dismisses with the note ("" when left empty) to submit, or None to cancel. Enter submits
    from the note field as from anywhere else in the dialog.
    """

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.dialog_title, id="dialog-title")
            yield Static(self.question, id="dialog-question", markup=False)
            yield Label("What did you do, and why? (optional, a sentence or two)")
            yield Input(placeholder="e.g. added an index on orders(created_at) ...", id="note")
            yield Label("Enter submits · Escape cancels", id="dialog-keys")
            with Horizontal(id="dialog-buttons"):
                yield Button(self.confirm_label, id="confirm", variant="primary")
                yield Button(self.cancel_label, id="cancel")

    def initial_focus(self) -> None:
        self.query_one("#note", Input).focus()

    @on(Input.Submitted, "#note")
    def _note_entered(self) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        self.dismiss(self.query_one("#note", Input).value.strip())  # type: ignore[arg-type]

    def action_cancel(self) -> None:
        self.dismiss(None)  # type: ignore[arg-type]
