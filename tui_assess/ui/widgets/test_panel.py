"""One line per test (status, duration) and the failure details of the selected one."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Label, Static

ICONS = {
    "pass": ("✔ pass", "$success"),
    "fail": ("✘ fail", "$error"),
    "error": ("✘ err", "$error"),
    "skip": ("- skip", "$warning"),
    "running": ("… run", "$accent"),
}
STYLES = {"pass": "green", "fail": "red", "error": "red", "skip": "yellow", "running": "cyan"}


def status_cell(status: str) -> Text:
    label = ICONS.get(status, (status, ""))[0]
    return Text(label, style=f"bold {STYLES.get(status, '')}".strip())


class TestPanel(Vertical):
    """Filled live from TestStarted / TestFinished events, then from the final result."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.details: dict[str, str] = {}
        self.running = False

    def compose(self) -> ComposeResult:
        yield Label("Press ctrl+r to run the visible tests.", id="run-summary")
        table: DataTable[Any] = DataTable(id="test-table", cursor_type="row", zebra_stripes=False)
        table.add_column("status", key="status", width=6)
        table.add_column("time", key="time", width=6)
        table.add_column("test", key="test")
        yield table
        with VerticalScroll(id="test-details-scroll"):
            yield Static("", id="test-details", markup=False)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#test-table", DataTable)

    def start(self, suite: str) -> None:
        self.running = True
        self.details.clear()
        self.table.clear()
        self.query_one("#test-details", Static).update("")
        which = "visible" if suite == "visible" else "hidden"
        self.query_one("#run-summary", Label).update(
            f"Running the {which} tests... (escape cancels)"
        )

    def _short(self, name: str) -> str:
        return name.split("::")[-1]

    def _set_row(self, key: str, status: str, duration: float | None) -> None:
        table = self.table
        cells = (
            status_cell(status),
            f"{duration:.2f}s" if duration is not None else "",
            self._short(key),
        )
        if key in table.rows:
            for col, value in zip(("status", "time", "test"), cells, strict=True):
                table.update_cell(key, col, value)
        else:
            table.add_row(*cells, key=key)

    def test_started(self, nodeid: str) -> None:
        self._set_row(self._short(nodeid), "running", None)

    def test_finished(self, outcome: Any) -> None:
        key = self._short(outcome.name)
        self.details[key] = outcome.message or ""
        self._set_row(key, outcome.status, outcome.duration_s)
        self._show_selected()

    def finish(self, result: Any) -> None:
        """Replace the live rows with the authoritative result."""
        self.running = False
        table = self.table
        table.clear()
        self.details.clear()
        for t in result.tests:
            key = self._short(t.name)
            self.details[key] = t.message or ""
            table.add_row(status_cell(t.status), f"{t.duration_s:.2f}s", key, key=key)
        passed = sum(1 for t in result.tests if t.status == "pass")
        failed = sum(1 for t in result.tests if t.status in ("fail", "error"))
        summary = f"{passed} passed, {failed} failed"
        if result.status not in ("pass", "fail"):
            summary += f" — run {result.status}"
        if getattr(result, "reason", ""):
            summary += f": {result.reason}"
        self.query_one("#run-summary", Label).update(summary)
        # Select the first failure: that is what the candidate wants to read.
        first_bad = next(
            (i for i, t in enumerate(result.tests) if t.status in ("fail", "error")), 0
        )
        if result.tests:
            table.move_cursor(row=first_bad)
        elif getattr(result, "output", ""):
            self.query_one("#test-details", Static).update(result.output[-4000:])
        self._show_selected()

    def failed_to_run(self, message: str) -> None:
        self.running = False
        self.query_one("#run-summary", Label).update("The run could not start.")
        self.query_one("#test-details", Static).update(message)

    def _show_selected(self) -> None:
        table = self.table
        if table.row_count == 0:
            return
        try:
            key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        except Exception:
            return
        if key is None:
            return
        text = self.details.get(key, "")
        self.query_one("#test-details", Static).update(text or f"{key}: no failure details.")

    @on(DataTable.RowHighlighted, "#test-table")
    def _row_highlighted(self) -> None:
        self._show_selected()
