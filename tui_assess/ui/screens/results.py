"""After submit: the score by group, each hidden test's outcome, and what to do next."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Label

from tui_assess.ui.progress import Progress, format_duration
from tui_assess.ui.widgets.literal import plain
from tui_assess.ui.widgets.test_panel import short_name, status_cell


def _num(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"


class SubmitResultsScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape,enter",
            "back",
            "Back to workspace",
            id="results.back",
            tooltip="Close the results and keep working.",
        ),
    ]

    def __init__(
        self, title: str, result: Any, solved: bool, elapsed_s: float, progress: Progress | None
    ) -> None:
        super().__init__()
        self.challenge_title = title
        self.result = result
        self.solved = solved
        self.elapsed_s = elapsed_s
        self.progress = progress

    def compose(self) -> ComposeResult:
        r = self.result
        with Vertical(id="results"):
            yield Label(f"Submitted: {self.challenge_title}", id="results-title", markup=False)
            yield Label(f"Score {_num(r.score)} / {_num(r.max_score)}", id="results-score")
            if self.solved:
                verdict = f"Solved in {format_duration(self.elapsed_s)}."
                if self.progress and self.progress.best_time_s is not None:
                    verdict += f" Best time {format_duration(self.progress.best_time_s)}."
                verdict += " The reference solution is now available (f7)."
            elif r.status in ("pass", "fail"):
                verdict = "Not solved yet: some hidden tests fail. Keep going and submit again."
            else:
                verdict = f"The run ended with status {r.status}. {getattr(r, 'reason', '')}"
            yield Label(
                verdict,
                id="results-verdict",
                classes="-solved" if self.solved else "",
                markup=False,
            )
            groups: DataTable[Any] = DataTable(id="results-groups", cursor_type="none")
            groups.add_columns("group", "score", "out of")
            for name, (score, max_score) in r.groups.items():
                groups.add_row(plain(name), _num(score), _num(max_score))
            yield groups
            tests: DataTable[Any] = DataTable(id="results-tests", cursor_type="row")
            tests.add_columns("status", "hidden test", "group")
            for t in r.tests:
                tests.add_row(status_cell(t.status), plain(short_name(t.name)), plain(t.group))
            yield tests
            with Horizontal(id="results-buttons"):
                yield Button("Back to the workspace", id="results-back", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#results-back", Button).focus()

    def action_back(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#results-back")
    def _back(self) -> None:
        self.dismiss(None)
