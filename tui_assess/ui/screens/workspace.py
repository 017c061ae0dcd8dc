"""The workspace: file tree, tabbed editors, brief, tests, hints, countdown, resource meter.

A screen that composes: the editors (EditorTabs, CodeEditor), the test results (TestPanel,
ResourceMeter) and the countdown behave on their own; this file wires them to the checker,
the session hooks and the practice progress.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import DirectoryTree, Footer, Label, TabbedContent, TabPane

from tui_assess.challenge.model import Challenge
from tui_assess.challenge.workspace import workspace_files
from tui_assess.ui.checking import Checker, is_solved
from tui_assess.ui.hooks import SessionHooks
from tui_assess.ui.messages import RunFinished
from tui_assess.ui.progress import ProgressStore
from tui_assess.ui.screens.consoles import ConsoleActions
from tui_assess.ui.screens.dialogs import SubmitScreen
from tui_assess.ui.screens.practice import PracticeActions
from tui_assess.ui.widgets import countdown
from tui_assess.ui.widgets.code_editor import CodeEditor
from tui_assess.ui.widgets.countdown import Countdown
from tui_assess.ui.widgets.editor_tabs import EditorTabs
from tui_assess.ui.widgets.file_tree import WorkspaceTree

if TYPE_CHECKING:
    from tui_assess.ui.widgets.terminal import TerminalPane
    from tui_assess.ui.widgets.test_panel import TestPanel

# The panes mounted after the first paint (test results, hints, terminal) are imported then
# too: the terminal pane's module imports the sandbox (issue 14: start-up).

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


class WorkspaceScreen(PracticeActions, ConsoleActions):
    """One challenge's workspace folder, edited in place."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _b("ctrl+s", "save", "Save", "Save every changed file to the workspace folder.", True),
        _b("ctrl+r", "run", "Run tests", "Save, then run the visible tests.", True),
        _b("ctrl+g", "submit", "Submit", "Run the hidden tests for a score (asks first).", True),
        _b("escape", "cancel_run", "Cancel run", "Stop the running tests (kills them).", True),
        _b("f2", "hint", "Hint", "Reveal the next hint."),
        _b("f3", "sql_console", "SQL", "Query the workspace database (read-only)."),
        _b("f4", "http_console", "HTTP", "Start your app on 127.0.0.1 and send requests."),
        _b("f5", "toggle_files", "Files", "Show or hide the file tree."),
        _b("f6", "show_brief", "Brief", "Show the brief."),
        _b("f7", "show_solution", "Solution", "The reference solution (once solved or given up)."),
        _b("f8", "reset", "Reset", "Reset the workspace to the starter files (asks first)."),
        _b("f9", "give_up", "Give up", "Give up and see the reference solution (asks first)."),
        _b("f10", "back", "Catalog", "Back to the catalog (asks first if files are unsaved)."),
        _b("f11", "zoom", "Zoom", "Editor, then side panel, full width; the terminal from it."),
        _b("f12", "terminal", "Terminal", "A shell in your workspace, in the sandbox.", True),
        _b("ctrl+t", "show_tests", "Tests", "Show the test results panel."),
        _b("ctrl+o", "open_file", "Open file", "Open a workspace file: type part of its name."),
        _b("ctrl+pagedown", "next_file", "Next file", "Switch to the next open file."),
        _b("ctrl+pageup", "previous_file", "Previous file", "Switch to the previous open file."),
    ]

    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (100, "-medium"),
        (WIDE_TREE_COLUMNS, "-wide"),
    ]

    @property
    def HELP_WIDGETS(self) -> tuple[type, ...]:  # noqa: N802  # the help screen's name for it
        """Widgets with keys of their own, listed by the help screen."""
        from tui_assess.ui.widgets.terminal import TerminalPane
        from tui_assess.ui.widgets.test_panel import TestPanel

        return (CodeEditor, TerminalPane, TestPanel)

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
        self._width_class = ""
        self._panes_ready = asyncio.Event()
        self._panes_mounting = False
        self._resumed = False
        self.last_result: Any = None
        self.last_submit: Any = None
        self.edited = False
        """The candidate has changed a file in the editor (then a run is kept prepared)."""

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="ws-header"):
            yield Label(self.challenge.title, id="ws-title", markup=False)
            yield Label("", id="ws-status")
            yield Countdown(self.deadline, id="countdown")
        with Horizontal(id="ws-main"):
            # What the first screen does not need mounts right after its first paint (issue
            # 14: start-up; see mount_panes): the side panel's tabs (the brief, the tests, the
            # hints; an empty box keeps their place), the file tree below 150 columns (hidden
            # there) and the terminal.
            if self.app.size.width >= WIDE_TREE_COLUMNS:
                yield WorkspaceTree(self.workspace, id="files")
            yield EditorTabs(self.workspace, self.hooks, id="editors")
            yield Vertical(id="side")
        with Vertical(id="terminal-box"):
            yield Label(
                "Terminal · a shell in your workspace, in the sandbox · f12 back to the editor "
                "· f11 zoom",
                id="terminal-title",
            )
        yield Footer()

    async def mount_panes(self) -> None:
        """Mount the side panel (brief, test results, hints), the file tree and the terminal,
        once; returns when they are mounted. Called after the first paint, and awaited by every
        action that needs one (a key pressed before they are there waits for them instead of
        finding nothing)."""
        if not self._panes_mounting:
            self._panes_mounting = True
            from textual.widgets import Markdown

            from tui_assess.ui.widgets.hints import HintsPanel
            from tui_assess.ui.widgets.terminal import TerminalPane
            from tui_assess.ui.widgets.test_panel import TestPanel

            shown = self.store.get(self.challenge.id).hints_shown if self.store else 0
            side = TabbedContent(id="side")
            for title, pane_id, content in (
                ("Brief", "brief-pane", VerticalScroll(
                    Markdown(self.challenge.brief(), id="brief"), id="brief-scroll")),
                ("Tests", "tests-pane", TestPanel(id="tests")),
                ("Hints", "hints-pane", HintsPanel(list(self.challenge.hints), shown,
                                                   id="hints-panel")),
            ):
                side.compose_add_child(TabPane(title, content, id=pane_id))
            main = self.query_one("#ws-main")
            with self.app.batch_update():  # the box and the tabs swap places in one frame
                await self.query_one("#side").remove()
                tree = None if self.file_tree else WorkspaceTree(self.workspace, id="files")
                await asyncio.gather(
                    main.mount(side),
                    *([main.mount(tree, before="#editors")] if tree else []),
                    self.query_one("#terminal-box").mount(
                        TerminalPane(self.workspace, self.challenge.limits, self.hooks,
                                     id="terminal")
                    ),
                )
            if tree is not None:
                self._label_tree(tree)
            self._panes_ready.set()
        await self._panes_ready.wait()

    def with_panes(self, then: Callable[[], object]) -> None:
        """Call `then` now if the panes are mounted, else as soon as they are (in order)."""
        if self._panes_ready.is_set():
            then()
            return

        async def later() -> None:
            await self.mount_panes()
            then()

        self.run_worker(later(), group="panes")

    @property
    def editors(self) -> dict[str, CodeEditor]:
        return self.editor_tabs.editors

    @property
    def dirty_files(self) -> list[str]:
        return self.editor_tabs.dirty_files

    async def open_file(self, rel: str, activate: bool = True) -> CodeEditor | None:
        return await self.editor_tabs.open_file(rel, activate)

    @property
    def file_tree(self) -> WorkspaceTree | None:
        """The file tree; below 150 columns it mounts after the first paint (mount_panes)."""
        found = self.query("#files")
        return found.first(WorkspaceTree) if found else None

    def _label_tree(self, tree: WorkspaceTree) -> None:
        tree.root.set_label(f"{self.workspace.name}/")

    async def on_mount(self) -> None:
        if self.file_tree is not None:
            self._label_tree(self.file_tree)
        # The session starts before any file opens, so the file_open events are recorded.
        self.hooks.session_started(
            self.challenge,
            self.workspace,
            self.mode,
            self.deadline - countdown.clock() if self.timed else None,
        )
        await self.editor_tabs.open_files(workspace_files(self.challenge, self.workspace))
        self._update_status()
        self._announce_attempt()
        self.call_after_refresh(self._after_first_paint)

    async def _after_first_paint(self) -> None:
        """What the first screen does not need: the side panel, the hidden panes, the progress
        write (a disk sync), the challenge's data (a thread)."""
        await self.mount_panes()
        if self.store is not None:
            self.store.opened(self.challenge.id)
        self.prepare_data()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles every node when a screen becomes current; the first time, they
        # were styled as they mounted, a moment ago (~40 ms of the start-up, issue 14).
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False
        super()._on_screen_resume(event)

    def on_unmount(self) -> None:
        self.checker.discard()  # the run kept ready, if any

    def on_resize(self, event: events.Resize) -> None:
        # A tree shown (f5) before the terminal narrowed folds away again. (Screen's own
        # handler sets the breakpoint classes after this one: compute the class here.)
        width_class = [c for w, c in self.HORIZONTAL_BREAKPOINTS if event.size.width >= w][-1]
        if width_class != self._width_class:
            self._width_class = width_class
            if self.file_tree is not None:
                self.file_tree.fold()
            self.remove_class("-tree-open")

    @on(EditorTabs.DirtyChanged)
    def _dirty_changed(self) -> None:
        self._update_status()
        if not self.edited and self.dirty_files:
            # The candidate has started: a run of the visible tests is prepared now, so the
            # first ctrl+r starts warm too. Not at opening: a screen left alone spends nothing.
            self.edited = True
            self.checker.prepare(self.challenge)

    @on(EditorTabs.TreeChanged)
    def _tree_changed(self) -> None:
        if self.file_tree is not None:
            self.file_tree.reload()

    @on(DirectoryTree.FileSelected, "#files")
    async def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        try:
            rel = event.path.resolve().relative_to(self.workspace.resolve()).as_posix()
        except ValueError:
            return
        await self.open_file(rel)
        if self.has_class("-narrow") and self.has_class("-tree-open"):
            await self.action_toggle_files()  # give the room back to the editor

    def action_open_file(self) -> None:
        from tui_assess.ui.widgets.editor_prompts import OpenFilePrompt

        def chosen(rel: str | None) -> None:
            if rel:
                self.run_worker(self.open_file(rel), group="open")

        self.app.push_screen(OpenFilePrompt(list(self.editor_tabs.disk_state)), chosen)

    def action_next_file(self) -> None:
        self.editor_tabs.cycle(1)

    def action_previous_file(self) -> None:
        self.editor_tabs.cycle(-1)

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
        keep = "\nIn practice you can keep working and submit again." if not self.timed else ""
        self.confirm_submit(
            "Submit now? The hidden tests run on your workspace and you get a score." + keep
        )

    def confirm_submit(self, question: str) -> None:
        """Ask `question` (the candidate may add a note); on yes, save and run the hidden
        tests."""
        if self.running:
            return
        dirty = self.dirty_files
        unsaved = f"\nUnsaved files are saved first: {', '.join(dirty)}." if dirty else ""

        def answered(note: str | None) -> None:
            if note is None:
                return
            if note:
                self.hooks.note(note)
            self.start_run("hidden")

        self.app.push_screen(
            SubmitScreen(question + unsaved, confirm_label="Submit", title="Submit your solution"),
            answered,  # type: ignore[arg-type]  # SubmitScreen dismisses with the note
        )

    def start_run(self, suite: str) -> None:
        if self.running:
            self.notify("A test run is already going (escape cancels it).", severity="warning")
            return
        self.editor_tabs.save_all()
        self.running = True
        if self.has_class("-zoom-editor"):
            self.set_zoom("")  # the results must be seen
        self.hooks.run_started(suite)

        def run() -> None:
            self.query_one("#side", TabbedContent).active = "tests-pane"
            self.test_panel.run(self.checker, self.challenge, self.workspace, suite)

        self.with_panes(run)

    def action_cancel_run(self) -> None:
        self.with_panes(self._cancel_run)

    def _cancel_run(self) -> None:
        if self.test_panel.cancel():
            self.query_one("#ws-status", Label).update("cancelling...")

    def on_test_panel_sampled(self, event: TestPanel.Sampled) -> None:
        self.hooks.resource_sample(event.sample)

    @on(RunFinished)
    def _run_finished(self, event: RunFinished) -> None:
        self.running = False
        panel = self.test_panel
        if event.result is None:
            panel.failed_to_run(event.error)
            self.notify(f"The tests could not run: {event.error}", severity="error", markup=False)
            return
        result = event.result
        self.last_result = result
        panel.show_result(result)
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

    # -- panels and consoles -----------------------------------------------------------------

    async def action_toggle_files(self) -> None:
        await self.mount_panes()
        tree = self.query_one("#files", WorkspaceTree)
        shown = tree.toggle()
        self.set_class(shown, "-tree-open")  # narrow: it takes the side panel's place
        if shown:
            tree.focus()
        elif self.editor_tabs.active_editor is not None:
            self.editor_tabs.active_editor.focus()

    async def action_show_brief(self) -> None:
        await self.mount_panes()
        self.query_one("#side", TabbedContent).active = "brief-pane"

    async def action_show_tests(self) -> None:
        await self.mount_panes()
        self.query_one("#side", TabbedContent).active = "tests-pane"

    @property
    def test_panel(self) -> TestPanel:
        """The test results (mounted after the first paint: see mount_panes)."""
        from tui_assess.ui.widgets.test_panel import TestPanel

        return self.query_one("#tests", TestPanel)

    @property
    def terminal(self) -> TerminalPane:
        """The terminal pane (mounted after the first paint: see mount_panes)."""
        from tui_assess.ui.widgets.terminal import TerminalPane

        return self.query_one("#terminal", TerminalPane)

    ZOOMS = ("", "-zoom-editor", "-zoom-side")
    """f11 cycles: both as usual, the editor full width, the side panel full width."""

    def action_zoom(self) -> None:
        """f11: from the terminal, the terminal takes the window (and back); elsewhere the
        editor, then the side panel (brief tables, long failure details), take the width."""
        if self.focused is not None and self.focused.id == "terminal":
            self.toggle_class("-zoom-terminal")
            return
        current = next((z for z in self.ZOOMS[1:] if self.has_class(z)), "")
        self.set_zoom(self.ZOOMS[(self.ZOOMS.index(current) + 1) % len(self.ZOOMS)])

    def set_zoom(self, zoom: str) -> None:
        self.remove_class(*self.ZOOMS[1:])
        if zoom:
            self.add_class(zoom)
        self._update_status()

    async def action_terminal(self) -> None:
        """f12: open the terminal (starting its shell the first time), or leave it for the
        editor; its shell keeps running until the workspace closes."""
        await self.mount_panes()
        pane = self.terminal
        if self.has_class("-terminal-open") and pane.has_focus:
            self.remove_class("-terminal-open", "-zoom-terminal")
            editor = self.editor_tabs.active_editor
            if editor is not None:
                editor.focus()
            return
        self.add_class("-terminal-open")
        pane.focus()
        if pane.session is None and not pane.status.startswith("Starting"):
            self.call_after_refresh(pane.start)

    def on_terminal_pane_command_done(self) -> None:
        self.editor_tabs.check_disk_now()  # a command may have written files: show them now

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
        if self.has_class("-zoom-editor") or self.has_class("-zoom-side"):
            parts.append("f11 unzooms")
        self.query_one("#ws-status", Label).update(" · ".join(parts))

    @on(Countdown.Expired)
    def _time_up(self) -> None:
        self.hooks.time_up()
        if self.timed:
            self.notify("Time is up.", severity="error", timeout=10)
        else:
            self.notify("The suggested time is up; keep going in practice mode.", timeout=6)

    def stop(self) -> None:
        """Called when the screen goes away: stop a run and the terminal, tell the hooks."""
        self.cancel_tests()
        if self._panes_ready.is_set():
            self.terminal.stop()
        self.hooks.session_ended()

    def cancel_tests(self) -> None:
        """Stop a running test run, if any (none runs before the panes are mounted)."""
        if self._panes_ready.is_set():
            self.test_panel.cancel()
