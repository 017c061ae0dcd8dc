"""A yes/no confirmation: Enter confirms, Escape cancels."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


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
            yield Static(self.question, id="dialog-question")
            yield Label("Enter confirms · Escape cancels", id="dialog-keys")
            with Horizontal(id="dialog-buttons"):
                yield Button(self.confirm_label, id="confirm", variant="primary")
                yield Button(self.cancel_label, id="cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm", Button).focus()

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)
