"""The catalog: every challenge with its practice status; type to filter, Enter opens."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label

from tui_assess.challenge.model import Challenge
from tui_assess.ui.progress import Progress, ProgressStore, format_duration
from tui_assess.ui.widgets.literal import plain

DIFFICULTY_ORDER = {"easy": 0, "medium": 1, "hard": 2}
FIXED_COLUMNS_WIDTH = 13 + 6 + 6 + 9 + 7 + 2 * 6 + 2
"""The non-title columns, their cell padding and a scrollbar."""


def matches(challenge: Challenge, query: str) -> bool:
    """Every word of the query appears in the id, title, category, difficulty or summary."""
    hay = " ".join(
        (challenge.id, challenge.title, challenge.category, challenge.difficulty, challenge.summary)
    ).lower()
    return all(word in hay for word in query.lower().split())


class CatalogScreen(Screen[None]):
    """Lists challenges; posts nothing upward: opening one pushes a WorkspaceScreen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter", "open", "Open", id="catalog.open", tooltip="Open the highlighted challenge."
        ),
        Binding(
            "down", "cursor(1)", "Next", id="catalog.down", tooltip="Next challenge.", show=False
        ),
        Binding(
            "up",
            "cursor(-1)",
            "Previous",
            id="catalog.up",
            tooltip="Previous challenge.",
            show=False,
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            id="catalog.clear",
            tooltip="Clear the filter and show every challenge.",
        ),
    ]

    def __init__(self, challenges: list[Challenge], progress: ProgressStore) -> None:
        super().__init__()
        self.challenges = sorted(
            challenges, key=lambda c: (DIFFICULTY_ORDER.get(c.difficulty, 9), c.title.lower())
        )
        self.store = progress
        self.shown: list[Challenge] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="catalog-header"):
            yield Label("tui-assess · practice", id="catalog-title")
            yield Label("", id="catalog-count")
        yield Input(placeholder="Type to filter (title, category, difficulty)...", id="filter")
        table: DataTable[Any] = DataTable(id="catalog-table", cursor_type="row")
        table.add_column("challenge", key="title")
        table.add_column("category", key="category", width=13)
        table.add_column("level", key="difficulty", width=6)
        table.add_column("time", key="time", width=6)
        table.add_column("status", key="status", width=9)
        table.add_column("best", key="best", width=7)
        yield table
        yield Label("", id="catalog-summary", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.refill()
        self.query_one("#filter", Input).focus()

    def on_screen_resume(self) -> None:
        self.refill()

    def on_resize(self) -> None:
        self.refill()

    def refill(self) -> None:
        table = self.query_one("#catalog-table", DataTable)
        query = self.query_one("#filter", Input).value
        progress = self.store.all()
        keep = table.cursor_row
        table.clear()
        self.shown = [c for c in self.challenges if matches(c, query)]
        # The title takes what the fixed columns leave, so status and best time stay visible
        # at 80 columns.
        title_width = max(16, self.app.size.width - FIXED_COLUMNS_WIDTH)
        for c in self.shown:
            p = progress.get(c.id, Progress(c.id))
            title = c.title if len(c.title) <= title_width else c.title[: title_width - 1] + "…"
            table.add_row(  # titles come from challenge folders: shown as written, not markup
                plain(title),
                plain(c.category),
                c.difficulty,
                f"{c.time_limit_minutes} min",
                p.status,
                format_duration(p.best_time_s),
                key=c.id,
            )
        if self.shown:
            table.move_cursor(row=min(max(keep, 0), len(self.shown) - 1))
        self.query_one("#catalog-count", Label).update(
            f"{len(self.shown)} of {len(self.challenges)} challenges"
        )
        self._show_summary()

    def highlighted(self) -> Challenge | None:
        table = self.query_one("#catalog-table", DataTable)
        if not self.shown or table.cursor_row < 0:
            return None
        return self.shown[min(table.cursor_row, len(self.shown) - 1)]

    def _show_summary(self) -> None:
        c = self.highlighted()
        text = f"{c.summary}  ({len(c.hints)} hints)" if c else "No challenge matches the filter."
        self.query_one("#catalog-summary", Label).update(text)

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self.refill()

    @on(DataTable.RowHighlighted, "#catalog-table")
    def _row_highlighted(self) -> None:
        self._show_summary()

    @on(Input.Submitted, "#filter")
    @on(DataTable.RowSelected, "#catalog-table")
    def _open_selected(self) -> None:
        self.action_open()

    def action_cursor(self, delta: int) -> None:
        table = self.query_one("#catalog-table", DataTable)
        if self.shown:
            table.move_cursor(row=max(0, min(len(self.shown) - 1, table.cursor_row + delta)))

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""

    def action_open(self) -> None:
        challenge = self.highlighted()
        if challenge is None:
            self.notify("No challenge matches the filter.", severity="warning")
            return
        self.app.open_challenge(challenge, from_catalog=True)  # type: ignore[attr-defined]
