"""The workspace: file tree, tabbed editors, brief, tests, hints, countdown, resource meter.

A screen that composes: the editors (EditorTabs, CodeEditor), the test results (TestPanel,
ResourceMeter) and the countdown behave on their own; this file wires them to the checker,
the session hooks and the practice progress.
"""

from __future__ import annotations

import shutil
import threading
from collections import deque
from pathlib import Path
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DirectoryTree, Footer, Label, Markdown, TabbedContent, TabPane

from tui_assess.challenge.model import Challenge
from tui_assess.challenge.workspace import init_workspace, workspace_files
from tui_assess.ui.checking import Checker, is_solved
from tui_assess.ui.hooks import SessionHooks
from tui_assess.ui.messages import RunFinished
from tui_assess.ui.progress import Attempt, ProgressStore, format_duration
from tui_assess.ui.screens.dialogs import ConfirmScreen, SubmitScreen
from tui_assess.ui.widgets import countdown
from tui_assess.ui.widgets.code_editor import CodeEditor
from tui_assess.ui.widgets.countdown import Countdown
from tui_assess.ui.widgets.editor_tabs import IGNORED_PARTS, EditorTabs
from tui_assess.ui.widgets.resource_meter import ResourceMeter
from tui_assess.ui.widgets.test_panel import TestPanel

WIDE_TREE_COLUMNS = 150
"""From this width the file tree shows by default; below it, f5 shows it."""


def _b(key: str, action: str, description: str, tooltip: str, show: bool = False) -> Binding:
    # Priority: the editor has focus nearly always, and TextArea binds some keys (f6, f7).
    return Binding(
        key,
        action,
        description,
        show=show,
        priority=True,
        id=f"workspace.{action}",
        tooltip=tooltip,
    )


class WorkspaceTree(DirectoryTree):
    """The workspace folder, without caches."""

    def filter_paths(self, paths: Any) -> Any:
        return [p for p in paths if p.name not in IGNORED_PARTS and not p.name.endswith(".pyc")]


class WorkspaceScreen(Screen[None]):
    """One challenge's workspace folder, edited in place."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _b("ctrl+s", "save", "Save", "Save every changed file to the workspace folder.", True),
        _b("ctrl+r", "run", "Run tests", "Save, then run the visible tests.", True),
        _b("ctrl+g", "submit", "Submit", "Run the hidden tests for a score (asks first).", True),
        _b("escape", "cancel_run", "Cancel run", "Stop the running tests (kills them).", True),
        _b("f2", "hint", "Hint", "Reveal the next hint.", True),
        _b("f3", "sql_console", "SQL", "Query the workspace database (read-only)."),
        _b("f4", "http_console", "HTTP", "Start your app on 127.0.0.1 and send requests."),
        _b("f5", "toggle_files", "Files", "Show or hide the file tree."),
        _b("f6", "show_brief", "Brief", "Show the brief."),
        _b("f7", "show_solution", "Solution", "The reference solution (once solved or given up)."),
        _b("f8", "reset", "Reset", "Reset the workspace to the starter files (asks first)."),
        _b("f9", "give_up", "Give up", "Give up and see the reference solution (asks first)."),
        _b("f10", "back", "Catalog", "Back to the catalog (asks first if files are unsaved)."),
        _b("f11", "zoom_side", "Zoom panel", "Widen the brief / tests / hints panel, or restore."),
        _b("ctrl+t", "show_tests", "Tests", "Show the test results panel."),
    ]

    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (100, "-medium"),
        (WIDE_TREE_COLUMNS, "-wide"),
    ]
    HELP_WIDGETS = (CodeEditor, TestPanel)
    """Widgets with keys of their own, listed by the help screen."""

    running: reactive[bool] = reactive(False)
    """A test run is in progress (escape cancels it)."""

    def __init__(
        self,
        challenge: Challenge,
        workspace: Path,
        *,
        checker: Checker,
        hooks: SessionHooks,
        progress: ProgressStore | None,
        mode: str = "practice",
        timed: bool = False,
        from_catalog: bool = False,
    ) -> None:
        super().__init__()
        self.challenge = challenge
        self.workspace = workspace
        self.checker = checker
        self.hooks = hooks
        self.store = progress
        self.mode = mode
        self.timed = timed
        self.from_catalog = from_catalog
        self.attempt = self._open_attempt()
        self.deadline = countdown.clock() + self.attempt.seconds_left()
        self._events: deque[Any] = deque()
        self._cancel: threading.Event | None = None
        self._width_class = ""
        self.hints_shown = progress.get(challenge.id).hints_shown if progress else 0
        self.last_result: Any = None
        self.last_submit: Any = None

    def _open_attempt(self, new: bool = False) -> Attempt:
        limit_s = self.challenge.time_limit_minutes * 60
        if self.store is None:
            import time

            return Attempt(time.time(), limit_s, resumed=False, number=1)
        return self.store.attempt(self.challenge.id, limit_s, new=new)

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="ws-header"):
            yield Label(self.challenge.title, id="ws-title", markup=False)
            yield Label("", id="ws-status")
            yield Countdown(self.deadline, id="countdown")
        with Horizontal(id="ws-main"):
            yield WorkspaceTree(self.workspace, id="files")
            yield EditorTabs(self.workspace, self.hooks, id="editors")
            with TabbedContent(id="side"):
                with TabPane("Brief", id="brief-pane"), VerticalScroll(id="brief-scroll"):
                    yield Markdown(self.challenge.brief(), id="brief")
                with TabPane("Tests", id="tests-pane"), Vertical():
                    yield TestPanel(id="tests")
                    yield ResourceMeter(id="meter")
                with TabPane("Hints", id="hints-pane"), VerticalScroll():
                    yield Markdown(self._hints_markdown(), id="hints")
        yield Footer()

    @property
    def editor_tabs(self) -> EditorTabs:
        return self.query_one("#editors", EditorTabs)

    @property
    def editors(self) -> dict[str, CodeEditor]:
        return self.editor_tabs.editors

    @property
    def dirty_files(self) -> list[str]:
        return self.editor_tabs.dirty_files

    async def open_file(self, rel: str, activate: bool = True) -> CodeEditor | None:
        return await self.editor_tabs.open_file(rel, activate)

    async def on_mount(self) -> None:
        self.query_one("#files", WorkspaceTree).root.set_label(f"{self.workspace.name}/")
        # The session starts before any file opens, so the file_open events are recorded.
        self.hooks.session_started(
            self.challenge,
            self.workspace,
            self.mode,
            self.deadline - countdown.clock() if self.timed else None,
        )
        await self.editor_tabs.open_files(workspace_files(self.challenge, self.workspace))
        if self.store is not None:
            self.store.opened(self.challenge.id)
        self.set_interval(0.08, self._flush_run_events)
        self._update_status()
        self._announce_attempt()

    def _announce_attempt(self) -> None:
        a = self.attempt
        limit = format_duration(a.limit_s)
        if a.resumed:
            left = a.seconds_left()
            text = (
                f"Resumed attempt {a.number}: {format_duration(max(left, 0))} of {limit} left."
                if left > 0
                else f"Resumed attempt {a.number}: its {limit} are up; keep going in practice."
            )
        elif a.number > 1:
            text = f"New attempt ({a.number}): the full {limit} starts now."
        else:
            return  # a first attempt: the countdown says it all
        self.notify(text, timeout=6)

    def on_resize(self, event: events.Resize) -> None:
        # A tree shown (f5) before the terminal narrowed folds away again. (Screen's own
        # handler sets the breakpoint classes after this one: compute the class here.)
        width_class = [c for w, c in self.HORIZONTAL_BREAKPOINTS if event.size.width >= w][-1]
        if width_class != self._width_class:
            self._width_class = width_class
            self.query_one("#files").remove_class("-shown", "-hidden")
            self.remove_class("-tree-open")

    @on(EditorTabs.DirtyChanged)
    def _dirty_changed(self) -> None:
        self._update_status()

    @on(EditorTabs.TreeChanged)
    def _tree_changed(self) -> None:
        self.query_one("#files", WorkspaceTree).reload()

    @on(DirectoryTree.FileSelected, "#files")
    async def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        try:
            rel = event.path.resolve().relative_to(self.workspace.resolve()).as_posix()
        except ValueError:
            return
        await self.open_file(rel)
        if self.has_class("-narrow") and self.has_class("-tree-open"):
            self.action_toggle_files()  # give the room back to the editor

    def action_save(self) -> None:
        saved = self.editor_tabs.save_all()
        self.notify(
            f"Saved {', '.join(saved)}." if saved else "Nothing to save.", timeout=2, markup=False
        )

    # -- test runs ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_run":
            return self.running
        if action in ("run", "submit") and self.running:
            return None  # shown, greyed out
        return True

    def watch_running(self) -> None:
        self.refresh_bindings()
        self._update_status()

    def action_run(self) -> None:
        self.start_run("visible")

    def action_submit(self) -> None:
        if self.running:
            return
        dirty = self.dirty_files

        def answered(note: str | None) -> None:
            if note is None:
                return
            if note:
                self.hooks.note(note)
            self.start_run("hidden")

        note = f"\nUnsaved files are saved first: {', '.join(dirty)}." if dirty else ""
        keep = "\nIn practice you can keep working and submit again." if not self.timed else ""
        self.app.push_screen(
            SubmitScreen(
                "Submit now? The hidden tests run on your workspace and you get a score."
                + note
                + keep,
                confirm_label="Submit",
                title="Submit your solution",
            ),
            answered,  # type: ignore[arg-type]  # SubmitScreen dismisses with the note
        )

    def start_run(self, suite: str) -> None:
        if self.running:
            self.notify("A test run is already going (escape cancels it).", severity="warning")
            return
        self.editor_tabs.save_all()
        self._update_status()
        self._events.clear()
        self._cancel = threading.Event()
        self.running = True
        self.query_one("#side", TabbedContent).active = "tests-pane"
        self.query_one("#tests", TestPanel).start(suite)
        self.query_one("#meter", ResourceMeter).reset()
        self.hooks.run_started(suite)
        self._run_worker(suite, self._cancel)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def _run_worker(self, suite: str, cancel: threading.Event) -> None:
        try:
            result = self.checker(
                self.challenge, self.workspace, suite, on_event=self._events.append, cancel=cancel
            )
        except Exception as exc:  # the checker's bugs must not take the UI down
            self.post_message(RunFinished(suite, None, error=f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(RunFinished(suite, result))

    def _flush_run_events(self) -> None:
        """Drain what the run thread queued since the last tick: one UI update per tick."""
        if not self._events:
            return
        batch = []
        while self._events:
            batch.append(self._events.popleft())
        samples = self.query_one("#tests", TestPanel).apply_events(batch)
        if samples:
            self.query_one("#meter", ResourceMeter).add_samples(samples)
            self.hooks.resource_sample(samples[-1])

    def action_cancel_run(self) -> None:
        if self.running and self._cancel is not None:
            self._cancel.set()
            self.query_one("#ws-status", Label).update("cancelling...")

    @on(RunFinished)
    def _run_finished(self, event: RunFinished) -> None:
        self._flush_run_events()
        self.running = False
        panel = self.query_one("#tests", TestPanel)
        if event.result is None:
            panel.failed_to_run(event.error)
            self.notify(f"The tests could not run: {event.error}", severity="error", markup=False)
            return
        result = event.result
        self.last_result = result
        panel.finish(result)
        self.query_one("#meter", ResourceMeter).show_peak(result.resources)
        self.hooks.run_finished(event.suite, result)
        if result.status == "cancelled":
            self.notify("Test run cancelled.", timeout=2)
        elif event.suite == "hidden":
            self._show_submission(result)

    def _show_submission(self, result: Any) -> None:
        from tui_assess.ui.screens.results import SubmitResultsScreen

        self.last_submit = result
        solved = is_solved(result)
        elapsed = self.attempt.elapsed()
        progress = None
        if self.store is not None:
            progress = self.store.submitted(self.challenge.id, solved, elapsed)
        self.hooks.submitted(result)
        self.app.push_screen(
            SubmitResultsScreen(self.challenge.title, result, solved, elapsed, progress)
        )

    # -- practice: hints, reset, give up, solution -------------------------------------------

    def _hints_markdown(self) -> str:
        total = len(self.challenge.hints)
        if not total:
            return "This challenge has no hints."
        shown = self.challenge.hints[: self.hints_shown]
        lines = [f"**Hint {i}.** {h}" for i, h in enumerate(shown, start=1)]
        left = total - len(shown)
        more = f"*{left} more hint{'s' if left != 1 else ''}: press f2.*"
        lines.append(more if left else "*No more hints.*")
        return "\n\n".join(lines)

    def action_hint(self) -> None:
        total = len(self.challenge.hints)
        self.query_one("#side", TabbedContent).active = "hints-pane"
        if self.hints_shown >= total:
            self.notify("No more hints." if total else "This challenge has no hints.", timeout=2)
            return
        index = self.hints_shown
        self.hints_shown += 1
        self.query_one("#hints", Markdown).update(self._hints_markdown())
        if self.store is not None:
            self.store.hint_shown(self.challenge.id, self.hints_shown)
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
        if self.running and self._cancel is not None:
            self._cancel.set()
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
        self._update_status()
        self.notify("Workspace reset to the starter files.", timeout=3)
        self._announce_attempt()

    def _may_see_solution(self) -> bool:
        if self.store is None:
            return False
        p = self.store.get(self.challenge.id)
        return p.solved or p.gave_up

    def action_show_solution(self) -> None:
        if self.mode != "practice":
            self.notify("The reference solution is not available here.", severity="warning")
            return
        if not self._may_see_solution():
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

    # -- panels and consoles -----------------------------------------------------------------

    def action_toggle_files(self) -> None:
        tree = self.query_one("#files", WorkspaceTree)
        shown = not tree.display
        tree.set_class(not shown, "-hidden")
        tree.set_class(shown, "-shown")
        # Narrow: the tree takes the side panel's place while it is open.
        self.set_class(shown, "-tree-open")
        if shown:
            tree.focus()
        elif self.editor_tabs.active_editor is not None:
            self.editor_tabs.active_editor.focus()

    def action_show_brief(self) -> None:
        self.query_one("#side", TabbedContent).active = "brief-pane"

    def action_show_tests(self) -> None:
        self.query_one("#side", TabbedContent).active = "tests-pane"

    def action_zoom_side(self) -> None:
        self.toggle_class("-zoom-side")

    def action_sql_console(self) -> None:
        from tui_assess.ui.sql import has_database

        if not has_database(self.workspace):
            self.notify(
                "This workspace has no database (*.db, *.sqlite or *.sql file).", severity="warning"
            )
            return
        from tui_assess.ui.screens.sql_console import SqlConsoleScreen

        self.app.push_screen(SqlConsoleScreen(self.workspace))

    def action_http_console(self) -> None:
        from tui_assess.ui.http_service import find_app_module

        module = find_app_module(self.workspace)
        if module is None:
            self.notify(
                "No app found: add app.py with a WSGI `app` or `make_app()`.", severity="warning"
            )
            return
        from tui_assess.ui.screens.http_console import HttpConsoleScreen

        self.app.push_screen(HttpConsoleScreen(self.workspace, module))

    def action_back(self) -> None:
        if self.mode != "practice":
            self.notify("There is no catalog during an exam.", severity="warning")
            return
        self.app.leave_workspace(self)  # type: ignore[attr-defined]

    # -- header ------------------------------------------------------------------------------

    def _update_status(self) -> None:
        parts = []
        if self.running:
            parts.append("running tests")
        dirty = len(self.dirty_files)
        if dirty:
            parts.append(f"{dirty} unsaved")
        self.query_one("#ws-status", Label).update(" · ".join(parts))

    @on(Countdown.Expired)
    def _time_up(self) -> None:
        self.hooks.time_up()
        if self.timed:
            self.notify("Time is up.", severity="error", timeout=10)
        else:
            self.notify("The suggested time is up; keep going in practice mode.", timeout=6)

    def stop(self) -> None:
        """Called when the screen goes away: stop a run and tell the hooks."""
        if self._cancel is not None:
            self._cancel.set()
        self.hooks.session_ended()
