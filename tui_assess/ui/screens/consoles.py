"""The workspace's consoles (SQL f3, HTTP f4) and the data they need.

A challenge may declare how its data is made (`[seed]`: a command run once, in the sandbox,
see tui_assess/challenge/prepare.py). The workspace makes it in the background when it opens,
and again before a console opens if a file is still missing; the consoles then use the seed's
database. The HTTP console's request (method, path, headers, body) is kept per workspace, so
reopening the console does not reset it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen

from tui_assess.challenge.model import Challenge
from tui_assess.ui.widgets.editor_tabs import EditorTabs

if TYPE_CHECKING:
    from tui_assess.challenge.prepare import PrepareResult

# tui_assess.challenge.prepare (it imports the sandbox) is imported where it is used: the
# workspace's first paint does not need it (issue 14: start-up).

ConsoleMaker = Callable[[], "Screen[None] | str"]


class ConsoleActions(Screen[None]):
    """f3 / f4, and the seed step they depend on."""

    challenge: Challenge
    workspace: Path

    def __init__(self) -> None:
        super().__init__()
        self.http_draft: dict[str, str] = {}
        """The HTTP console's last request, for the next time it opens."""

    def prepare_data(self) -> None:
        """Make the challenge's data in the background if a file of its [seed] is missing."""
        from tui_assess.challenge.prepare import missing_seed_files

        if missing_seed_files(self.challenge, self.workspace):
            self._prepare_worker(None)

    def action_sql_console(self) -> None:
        from tui_assess.challenge.prepare import console_database
        from tui_assess.ui.screens.sql_console import SqlConsoleScreen

        self._with_data(
            lambda: SqlConsoleScreen.for_workspace(
                self.workspace, console_database(self.challenge, self.workspace)
            )
        )

    def action_http_console(self) -> None:
        from tui_assess.challenge.prepare import console_database
        from tui_assess.ui.screens.http_console import HttpConsoleScreen

        self._with_data(
            lambda: HttpConsoleScreen.for_workspace(
                self.workspace,
                console_database(self.challenge, self.workspace),
                self.http_draft,
                self.challenge.limits,
            )
        )

    def _with_data(self, make: ConsoleMaker) -> None:
        from tui_assess.challenge.prepare import missing_seed_files

        if missing_seed_files(self.challenge, self.workspace):
            self._prepare_worker(make)
        else:
            self._open_console(make())

    def _open_console(self, console: Screen[None] | str) -> None:
        """Push a console, or say (one sentence) why this workspace has none."""
        if isinstance(console, str):
            self.notify(console, severity="warning")
        else:
            self.app.push_screen(console)

    @work(thread=True, exclusive=True, group="prepare", exit_on_error=False)
    def _prepare_worker(self, then: ConsoleMaker | None) -> None:
        from tui_assess.challenge.prepare import PrepareResult, SandboxError, prepare_workspace

        seed = self.challenge.seed
        assert seed is not None
        command = " ".join(seed.command)
        self.app.call_from_thread(
            self.notify, f"Making the challenge's data: {command} ...", timeout=4, markup=False
        )
        try:
            result = prepare_workspace(self.challenge, self.workspace)
        except SandboxError as exc:
            result = PrepareResult(ran=True, ok=False, reason=str(exc))
        self.app.call_from_thread(self._prepared, result, then)

    def _prepared(self, result: PrepareResult, then: ConsoleMaker | None) -> None:
        if result.ran and result.ok:
            made = ", ".join(result.created)
            self.notify(f"Made {made} in {result.seconds:.1f} s.", timeout=4, markup=False)
        elif result.ran:
            self.notify(
                f"The challenge's data could not be made: {result.reason}",
                severity="error",
                timeout=10,
                markup=False,
            )
        self.query_one("#editors", EditorTabs).check_disk_now()
        if then is not None:
            self._open_console(then())
