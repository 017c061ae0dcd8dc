"""SQL console: a read-only query on the workspace database, rows, query plan and timing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Label, Select, Static

from tui_assess.ui.sql import QueryResult, find_sources, run_query
from tui_assess.ui.widgets.code_editor import CodeEditor
from tui_assess.ui.widgets.literal import plain


class SqlConsoleScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+r",
            "run_query",
            "Run query",
            id="sql.run",
            priority=True,
            tooltip="Run the query (read-only) and show rows, plan and timing.",
        ),
        Binding(
            "escape",
            "close",
            "Close",
            id="sql.close",
            priority=True,
            tooltip="Back to the workspace.",
        ),
    ]

    def __init__(self, workspace: Path, query: str = "", prefer: Path | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.sources = find_sources(workspace)
        if prefer is not None and prefer in self.sources:  # the challenge's own database first
            self.sources.remove(prefer)
            self.sources.insert(0, prefer)
        self.initial_query = query or self._default_query()
        self.last: QueryResult | None = None

    @classmethod
    def for_workspace(cls, workspace: Path, prefer: Path | None = None) -> SqlConsoleScreen | str:
        """The console, or why this workspace has none (one sentence)."""
        from tui_assess.ui.sql import has_database

        if not has_database(workspace):
            return "This workspace has no database (*.db, *.sqlite or *.sql file)."
        return cls(workspace, prefer=prefer)

    def _default_query(self) -> str:
        return "SELECT name, type FROM sqlite_master ORDER BY name;"

    def compose(self) -> ComposeResult:
        with Horizontal(id="sql-top"):
            yield Label("SQL console (read-only) · ctrl+r runs · escape closes", id="sql-title")
            yield Select(
                [(p.relative_to(self.workspace).as_posix(), str(p)) for p in self.sources],
                value=str(self.sources[0]) if self.sources else Select.NULL,
                allow_blank=False,
                id="sql-source",
            )
        yield CodeEditor(self.initial_query, "query.sql", id="sql-query")
        with Horizontal(id="sql-actions"):
            yield Button("Run (ctrl+r)", id="sql-run", variant="primary")
            yield Label("", id="sql-timing")
        with Vertical(id="sql-output"):
            yield DataTable(id="sql-rows", zebra_stripes=True)
            yield Static("", id="sql-plan", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sql-query", CodeEditor).focus()

    @on(Button.Pressed, "#sql-run")
    def action_run_query(self) -> None:
        source = Path(str(self.query_one("#sql-source", Select).value))
        sql = self.query_one("#sql-query", CodeEditor).text
        self.query_one("#sql-timing", Label).update("running...")
        self._query_worker(source, sql)

    @work(thread=True, exclusive=True, group="sql", exit_on_error=False)
    def _query_worker(self, source: Path, sql: str) -> None:
        result = run_query(source, sql)
        self.app.call_from_thread(self.show_result, result)

    def show_result(self, result: QueryResult) -> None:
        self.last = result
        table: DataTable[Any] = self.query_one("#sql-rows", DataTable)
        table.clear(columns=True)
        timing = self.query_one("#sql-timing", Label)
        plan = self.query_one("#sql-plan", Static)
        if result.error:
            timing.update(f"error: {result.error}")
            plan.update("")
            return
        table.add_columns(*(plain(c) for c in result.columns))
        for row in result.rows:  # the data is the candidate's: never markup
            table.add_row(*[plain("NULL" if v is None else str(v)) for v in row])
        more = " (first rows only)" if result.truncated else ""
        timing.update(f"{len(result.rows)} rows{more} in {result.elapsed_ms:.2f} ms")
        plan.update("Query plan:\n" + ("\n".join(result.plan) or "(none)"))

    def action_close(self) -> None:
        self.dismiss(None)
