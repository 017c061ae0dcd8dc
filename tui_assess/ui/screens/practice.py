"""The practice side of the workspace: the attempt's clock, hints, reset, give up and the
reference solution.

WorkspaceScreen's base class (its actions are the screen's: f2, f7, f8, f9), kept apart because
none of it exists in an exam; the widgets it drives (HintsPanel, EditorTabs, the countdown)
do the work.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from textual.screen import Screen
from textual.widgets import TabbedContent

from tui_assess.challenge.model import Challenge
from tui_assess.challenge.workspace import init_workspace, workspace_files
from tui_assess.ui.hooks import SessionHooks
from tui_assess.ui.progress import Attempt, ProgressStore
from tui_assess.ui.screens.dialogs import ConfirmScreen
from tui_assess.ui.widgets import countdown
from tui_assess.ui.widgets.countdown import Countdown
from tui_assess.ui.widgets.editor_tabs import EditorTabs
from tui_assess.ui.widgets.file_tree import WorkspaceTree
from tui_assess.ui.widgets.hints import HintsPanel


class PracticeActions(Screen[None]):
    """Hints (f2), reset (f8), give up (f9), solution (f7), and the attempt's clock."""

    challenge: Challenge
    workspace: Path
    store: ProgressStore | None
    hooks: SessionHooks
    mode: str
    attempt: Attempt
    deadline: float

    @property
    def editor_tabs(self) -> EditorTabs:
        return self.query_one("#editors", EditorTabs)

    def _open_attempt(self, new: bool = False) -> Attempt:
        limit_s = self.challenge.time_limit_minutes * 60
        if self.store is None:
            return Attempt(time.time(), limit_s, resumed=False, number=1)
        return self.store.attempt(self.challenge.id, limit_s, new=new)

    def _announce_attempt(self) -> None:
        text = self.attempt.announcement()
        if text:
            self.notify(text, timeout=6)

    @property
    def hints_shown(self) -> int:
        return self.query_one("#hints-panel", HintsPanel).shown

    async def mount_panes(self) -> None:
        """The hints and tests panes, mounted after the first paint (WorkspaceScreen)."""

    def cancel_tests(self) -> None:
        """Stop a running test run (WorkspaceScreen)."""

    async def action_hint(self) -> None:
        await self.mount_panes()
        self.query_one("#side", TabbedContent).active = "hints-pane"
        index = self.query_one("#hints-panel", HintsPanel).reveal()
        if index is None:
            total = len(self.challenge.hints)
            self.notify("No more hints." if total else "This challenge has no hints.", timeout=2)
            return
        if self.store is not None:
            self.store.hint_shown(self.challenge.id, index + 1)
        self.hooks.hint_shown(index, self.challenge.hints[index])

    def action_reset(self) -> None:
        def answered(go: bool | None) -> None:
            if go:
                self.run_worker(self._reset(), exclusive=True, group="reset")

        self.app.push_screen(
            ConfirmScreen(
                "Reset the workspace to the starter files? Every change you made is lost, "
                "and a new attempt starts with the full time.",
                confirm_label="Reset",
                title="Reset workspace",
            ),
            answered,
        )

    async def _reset(self) -> None:
        await self.mount_panes()
        self.cancel_tests()
        tabs = self.editor_tabs
        await tabs.close_all()
        shutil.rmtree(self.workspace, ignore_errors=True)
        init_workspace(self.challenge, self.workspace)
        await self.query_one("#files", WorkspaceTree).reload()
        await tabs.open_files(workspace_files(self.challenge, self.workspace))
        if self.mode == "practice":
            self.attempt = self._open_attempt(new=True)
            self.deadline = countdown.clock() + self.attempt.seconds_left()
            self.query_one("#countdown", Countdown).deadline = self.deadline
        tabs.post_message(EditorTabs.DirtyChanged(tabs))  # the status line: nothing unsaved
        self.notify("Workspace reset to the starter files.", timeout=3)
        self._announce_attempt()

    def action_show_solution(self) -> None:
        if self.mode != "practice":
            self.notify("The reference solution is not available here.", severity="warning")
            return
        p = self.store.get(self.challenge.id) if self.store is not None else None
        if p is None or not (p.solved or p.gave_up):
            self.notify(
                "Solve it first, or give up (f9) to see the reference solution.", severity="warning"
            )
            return
        from tui_assess.ui.screens.solution import SolutionScreen

        self.hooks.solution_shown()
        self.app.push_screen(SolutionScreen(self.challenge))

    def action_give_up(self) -> None:
        if self.mode != "practice":
            return

        def answered(go: bool | None) -> None:
            if go and self.store is not None:
                self.store.gave_up(self.challenge.id)
                self.action_show_solution()

        self.app.push_screen(
            ConfirmScreen(
                "Give up and see the reference solution? Your progress records that you gave up; "
                "you can still solve it afterwards.",
                confirm_label="Show solution",
                title="Give up",
            ),
            answered,
        )
