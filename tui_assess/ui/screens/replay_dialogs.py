"""The replay's dialogs: a one-line prompt (go to, search) and the diff between two moments."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class PromptScreen(ModalScreen[str | None]):
    """Asks for one line; dismisses with it (stripped), or None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel", tooltip="Close, do nothing."),
    ]

    def __init__(self, title: str, hint: str, value: str = "") -> None:
        super().__init__()
        self.prompt_title = title
        self.hint = hint
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.prompt_title, id="dialog-title")
            yield Input(value=self.value, placeholder=self.hint, id="prompt-input")
            yield Label(f"{self.hint} · Enter goes · Escape cancels", id="dialog-keys")

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted, "#prompt-input")
    def _entered(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


def colour_diff(diff: str) -> Text:
    text = Text(no_wrap=True)
    for line in diff.split("\n"):
        style = ("bold" if line.startswith(("+++", "---")) else
                 "green" if line.startswith("+") else "red" if line.startswith("-") else
                 "cyan" if line.startswith("@@") else "")
        text.append(line + "\n", style=style)
    return text


class DiffScreen(ModalScreen[None]):
    """A unified diff of every file between two moments, coloured."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,d", "close", "Close", id="diff.close", tooltip="Back to the replay."),
    ]

    def __init__(self, title: str, diff: str) -> None:
        super().__init__()
        self.diff_title = title
        self.diff = diff

    def compose(self) -> ComposeResult:
        with Vertical(id="diff-box"):
            yield Label(f"{self.diff_title} · escape closes", id="diff-title")
            with VerticalScroll(id="diff-scroll"):
                yield Static(colour_diff(self.diff) if self.diff else
                             "No file differs between these two moments.", id="diff-text")

    def on_mount(self) -> None:
        self.query_one("#diff-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
