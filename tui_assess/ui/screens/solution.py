"""The reference solution, read-only: each file that differs from the starter, in tabs."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Label, TabbedContent, TabPane

from tui_assess.challenge.model import Challenge
from tui_assess.ui.widgets.code_editor import CodeEditor


class SolutionScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="solution.close", tooltip="Back to the workspace."),
    ]

    def __init__(self, challenge: Challenge) -> None:
        super().__init__()
        self.challenge = challenge

    def compose(self) -> ComposeResult:
        yield Label(
            f"Reference solution · {self.challenge.title} · escape closes",
            id="solution-title",
            markup=False,
        )
        files = sorted(
            p
            for p in self.challenge.solution_dir.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )
        with TabbedContent(id="solution-tabs"):
            for i, path in enumerate(files):
                rel = path.relative_to(self.challenge.solution_dir).as_posix()
                try:
                    text = path.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue
                with TabPane(Content(rel), id=f"sol-{i}"):
                    yield CodeEditor(text, rel, read_only=True)
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
