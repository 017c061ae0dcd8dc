"""The workspace: file tree, tabbed editors, brief, tests, hints, countdown, resource meter."""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections import deque
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import (
    DirectoryTree,
    Footer,
    Label,
    Markdown,
    TabbedContent,
    TabPane,
)

from tui_assess.challenge.model import Challenge
from tui_assess.challenge.workspace import init_workspace, workspace_files
from tui_assess.runner.types import OutputChunk, ResourceSample, TestFinished, TestStarted
from tui_assess.ui.checking import Checker, is_solved
from tui_assess.ui.hooks import SessionHooks
from tui_assess.ui.messages import FilesChangedOnDisk, RunFinished
from tui_assess.ui.progress import ProgressStore
from tui_assess.ui.screens.dialogs import ConfirmScreen, SubmitScreen
from tui_assess.ui.widgets import countdown
from tui_assess.ui.widgets.code_editor import CodeEditor
from tui_assess.ui.widgets.countdown import Countdown
from tui_assess.ui.widgets.resource_meter import ResourceMeter
from tui_assess.ui.widgets.test_panel import TestPanel

IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".git", ".mypy_cache", ".ruff_cache"}
MAX_POLLED_FILES = 2000
MAX_EDITABLE_BYTES = 2_000_000


def _b(
    key: str, action: str, description: str, tooltip: str, show: bool = True, priority: bool = True
) -> Binding:
    # Priority: the editor has focus nearly always, and TextArea binds some keys (f6, f7).
    return Binding(
        key,
        action,
        description,
        show=show,
        priority=priority,
        id=f"workspace.{action}",
        tooltip=tooltip,
    )


class WorkspaceTree(DirectoryTree):
    """The workspace folder, without caches."""

    def filter_paths(self, paths: Any) -> Any:
        return [p for p in paths if p.name not in IGNORED_PARTS and not p.name.endswith(".pyc")]


def scan(workspace: Path) -> dict[str, tuple[int, int]]:
    """rel path -> (mtime_ns, size) of every workspace file (caches skipped). Runs off-loop."""
    state: dict[str, tuple[int, int]] = {}
    for p in workspace.rglob("*"):
        if len(state) >= MAX_POLLED_FILES:
            break
        rel = p.relative_to(workspace)
        if IGNORED_PARTS.intersection(rel.parts) or not p.is_file():
            continue
        try:
            st = p.stat()
        except OSError:
            continue
        state[rel.as_posix()] = (st.st_mtime_ns, st.st_size)
    return state


class WorkspaceScreen(Screen[None]):
    """One challenge's workspace folder, edited in place."""

    BINDINGS: ClassVar[list[BindingType]] = [
        _b(
            "ctrl+s",
            "save",
            "Save",
            "Save every changed file to the workspace folder.",
            priority=True,
        ),
        _b("ctrl+r", "run", "Run tests", "Save, then run the visible tests.", priority=True),
        _b(
            "ctrl+g",
            "submit",
            "Submit",
            "Run the hidden tests and see your score (asks first).",
            priority=True,
        ),
        _b(
            "escape",
            "cancel_run",
            "Cancel run",
            "Stop the running tests (kills their processes).",
            priority=True,
        ),
        _b("f2", "hint", "Hint", "Reveal the next hint."),
        _b("f3", "sql_console", "SQL", "Query the workspace database (read-only).", show=False),
        _b(
            "f4",
            "http_console",
            "HTTP",
            "Start your app on 127.0.0.1 and send requests.",
            show=False,
        ),
        _b("f5", "toggle_files", "Files", "Show or hide the file tree.", show=False),
        _b("f6", "show_brief", "Brief", "Show the brief.", show=False),
        _b(
            "f7",
            "show_solution",
            "Solution",
            "View the reference solution (after solving or giving up).",
            show=False,
        ),
        _b(
            "f8",
            "reset",
            "Reset",
            "Reset the workspace to the starter files (asks first).",
            show=False,
        ),
        _b(
            "f9",
            "give_up",
            "Give up",
            "Give up and unlock the reference solution (asks first).",
            show=False,
        ),
        _b(
            "f10",
            "back",
            "Catalog",
            "Back to the catalog (asks first when files are unsaved).",
            show=False,
        ),
        _b("ctrl+t", "show_tests", "Tests", "Show the test results panel.", show=False),
    ]

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]

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
        self.started_at = countdown.clock()
        self.deadline = self.started_at + challenge.time_limit_minutes * 60
        self.editors: dict[str, CodeEditor] = {}
        self._shown_dirty: dict[CodeEditor, bool] = {}
        self.pane_ids: dict[str, str] = {}
        self._pane_seq = 0
        self._events: deque[Any] = deque()
        self._cancel: threading.Event | None = None
        self._current_suite = "visible"
        self._disk_state: dict[str, tuple[int, int]] = {}
        self._asking_about: set[str] = set()
        self.hints_shown = progress.get(challenge.id).hints_shown if progress else 0
        self.last_result: Any = None
        self.last_submit: Any = None

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="ws-header"):
            yield Label(self.challenge.title, id="ws-title")
            yield Label("", id="ws-status")
            yield Countdown(self.deadline, id="countdown")
        with Horizontal(id="ws-main"):
            yield WorkspaceTree(self.workspace, id="files")
            yield TabbedContent(id="editors")
            with TabbedContent(id="side"):
                with TabPane("Brief", id="brief-pane"), VerticalScroll(id="brief-scroll"):
                    yield Markdown(self.challenge.brief(), id="brief")
                with TabPane("Tests", id="tests-pane"), Vertical():
                    yield TestPanel(id="tests")
                    yield ResourceMeter(id="meter")
                with TabPane("Hints", id="hints-pane"), VerticalScroll():
                    yield Markdown(self._hints_markdown(), id="hints")
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#files", WorkspaceTree).root.set_label(f"{self.workspace.name}/")
        self._disk_state = scan(self.workspace)
        # The session starts before any file opens, so the file_open events are recorded.
        self.hooks.session_started(
            self.challenge,
            self.workspace,
            self.mode,
            self.deadline - countdown.clock() if self.timed else None,
        )
        files = workspace_files(self.challenge, self.workspace)
        first: CodeEditor | None = None
        for rel in files:
            editor = await self.open_file(rel, activate=first is None)
            first = first or editor
        if first is not None:
            self.query_one("#editors", TabbedContent).active = self.pane_ids[first.rel_path]
            first.focus()
        if self.store is not None:
            self.store.opened(self.challenge.id)
        self.set_interval(0.08, self._flush_run_events)
        self.set_interval(1.0, self._poll_disk)
        self._update_status()

    # -- files -------------------------------------------------------------------------------

    async def open_file(self, rel: str, activate: bool = True) -> CodeEditor | None:
        """Open rel (workspace-relative) in a tab, or switch to it when already open."""
        tabs = self.query_one("#editors", TabbedContent)
        if rel in self.editors:
            if activate:
                tabs.active = self.pane_ids[rel]
                self.editors[rel].focus()
            return self.editors[rel]
        path = self.workspace / rel
        try:
            if path.stat().st_size > MAX_EDITABLE_BYTES:
                self.notify(f"{rel} is too large to edit here.", severity="warning")
                return None
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            hint = " Query it in the SQL console (f3)." if path.suffix in (".db", ".sqlite") else ""
            self.notify(f"{rel} is a binary file.{hint}", severity="warning")
            return None
        except OSError as exc:
            self.notify(f"Cannot open {rel}: {exc.strerror}.", severity="error")
            return None
        self._pane_seq += 1
        pane_id = f"file-{self._pane_seq}"
        editor = CodeEditor(
            text,
            rel,
            on_edit=self.hooks.edited,
            on_paste=self.hooks.pasted,
            id=f"editor-{self._pane_seq}",
        )
        self.editors[rel] = editor
        self.pane_ids[rel] = pane_id
        await tabs.add_pane(TabPane(Path(rel).name, editor, id=pane_id))
        if activate:
            tabs.active = pane_id
            editor.focus()
        self.hooks.file_opened(rel, text)
        return editor

    @property
    def active_editor(self) -> CodeEditor | None:
        pane = self.query_one("#editors", TabbedContent).active_pane
        if pane is None:
            return None
        found = pane.query(CodeEditor)
        return found.first() if found else None

    @property
    def dirty_files(self) -> list[str]:
        return [rel for rel, ed in self.editors.items() if ed.dirty]

    def _refresh_tab_label(self, editor: CodeEditor) -> None:
        self._shown_dirty[editor] = editor.dirty
        tabs = self.query_one("#editors", TabbedContent)
        name = Path(editor.rel_path).name
        with contextlib.suppress(Exception):  # the tab may be being removed
            tabs.get_tab(self.pane_ids[editor.rel_path]).label = (
                f"● {name}" if editor.dirty else name
            )

    @on(CodeEditor.Changed)
    def _editor_changed(self, event: CodeEditor.Changed) -> None:
        editor = event.text_area
        if isinstance(editor, CodeEditor) and editor.dirty != self._shown_dirty.get(editor):
            # Only when clean/dirty flips: relabelling on every keystroke costs a relayout.
            self._refresh_tab_label(editor)
            self._update_status()

    @on(DirectoryTree.FileSelected, "#files")
    async def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        try:
            rel = event.path.resolve().relative_to(self.workspace.resolve()).as_posix()
        except ValueError:
            return
        await self.open_file(rel)

    def save_file(self, rel: str) -> bool:
        editor = self.editors[rel]
        path = self.workspace / rel
        text = editor.text
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            st = path.stat()
        except OSError as exc:
            self.notify(f"Cannot save {rel}: {exc.strerror}.", severity="error")
            return False
        self._disk_state[rel] = (st.st_mtime_ns, st.st_size)
        editor.mark_saved(text)
        self._refresh_tab_label(editor)
        self.hooks.saved(rel, text)
        return True

    def save_all(self) -> list[str]:
        saved = [rel for rel in self.dirty_files if self.save_file(rel)]
        self._update_status()
        return saved

    def action_save(self) -> None:
        saved = self.save_all()
        self.notify(f"Saved {', '.join(saved)}." if saved else "Nothing to save.", timeout=2)

    # -- external changes (poll off the event loop) ------------------------------------------

    def _poll_disk(self) -> None:
        self._poll_worker(dict(self._disk_state))

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def _poll_worker(self, before: dict[str, tuple[int, int]]) -> None:
        after = scan(self.workspace)
        changed = [rel for rel, st in after.items() if before.get(rel) not in (None, st)]
        changed += [rel for rel in before if rel not in after]
        tree_changed = set(after) != set(before)
        if changed or tree_changed:
            self.post_message(FilesChangedOnDisk(sorted(changed), tree_changed, after))

    @on(FilesChangedOnDisk)
    def _files_changed(self, event: FilesChangedOnDisk) -> None:
        # The worker's scan is the truth from now on: no second walk on the event loop.
        self._disk_state = event.state
        if event.tree_changed:
            self.query_one("#files", WorkspaceTree).reload()
        for rel in event.changed:
            editor = self.editors.get(rel)
            if editor is None:
                continue
            path = self.workspace / rel
            try:
                text: str | None = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
            if text is not None and text == editor.saved_text:
                continue  # our own save, seen late
            self.hooks.external_change(rel, text)
            if text is None:
                editor.saved_text = ""
                self._refresh_tab_label(editor)
                self.notify(
                    f"{rel} was deleted on disk; ctrl+s writes it back.", severity="warning"
                )
            elif text == editor.text:
                editor.mark_saved(text)
                self._refresh_tab_label(editor)
            elif not editor.dirty:
                editor.reload(text)
                self.notify(f"Reloaded {rel}: it changed on disk.", timeout=3)
            else:
                self._ask_reload(rel, text)
        self._update_status()

    def _ask_reload(self, rel: str, text: str) -> None:
        if rel in self._asking_about:
            return
        self._asking_about.add(rel)
        editor = self.editors[rel]

        def answered(reload: bool | None) -> None:
            self._asking_about.discard(rel)
            if reload:
                editor.reload(text)
            else:
                editor.saved_text = text  # the buffer stays "changed" relative to the disk
            self._refresh_tab_label(editor)
            self._update_status()

        self.app.push_screen(
            ConfirmScreen(
                f"{rel} changed on disk, and you have unsaved edits in it.\n"
                "Reload it from disk (your edits are lost), or keep your version?",
                confirm_label="Reload from disk",
                cancel_label="Keep mine",
                title="File changed on disk",
            ),
            answered,
        )

    # -- test runs ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_run":
            return self.running
        if action in ("run", "submit") and self.running:
            return None  # shown, greyed out
        return not (action == "back" and not self.from_catalog)

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
        self.app.push_screen(
            SubmitScreen(
                "Submit now? The hidden tests run on your workspace and you get a score."
                + note
                + (
                    "\nIn practice you can keep working and submit again." if not self.timed else ""
                ),
                confirm_label="Submit",
                title="Submit your solution",
            ),
            answered,  # type: ignore[arg-type]  # SubmitScreen dismisses with the note
        )

    def start_run(self, suite: str) -> None:
        if self.running:
            self.notify("A test run is already going (escape cancels it).", severity="warning")
            return
        self.save_all()
        self._events.clear()
        self._cancel = threading.Event()
        self._current_suite = suite
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
        self._apply_events(batch)

    def _apply_events(self, events: list[Any]) -> None:
        panel = self.query_one("#tests", TestPanel)
        samples = []
        for ev in events:
            if isinstance(ev, TestStarted):
                panel.test_started(ev.nodeid)
            elif isinstance(ev, TestFinished):
                panel.test_finished(ev.outcome)
            elif isinstance(ev, ResourceSample):
                samples.append(ev)
            elif isinstance(ev, OutputChunk):
                pass  # shown in full from the result
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
            self.notify(f"The tests could not run: {event.error}", severity="error")
            return
        result = event.result
        self.last_result = result
        panel.finish(result)
        self.query_one("#meter", ResourceMeter).show_peak(result.resources)
        self.hooks.run_finished(event.suite, result)
        if result.status == "cancelled":
            self.notify("Test run cancelled.", timeout=2)
            return
        if event.suite == "hidden":
            self._show_submission(result)

    def _show_submission(self, result: Any) -> None:
        from tui_assess.ui.screens.results import SubmitResultsScreen

        self.last_submit = result
        solved = is_solved(result)
        elapsed = countdown.clock() - self.started_at
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
        lines.append(
            f"*{left} more hint{'s' if left != 1 else ''}: press f2.*"
            if left
            else "*No more hints.*"
        )
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
                "Reset the workspace to the starter files? Every change you made is lost.",
                confirm_label="Reset",
                title="Reset workspace",
            ),
            answered,
        )

    async def _reset(self) -> None:
        if self.running and self._cancel is not None:
            self._cancel.set()
        tabs = self.query_one("#editors", TabbedContent)
        await tabs.clear_panes()
        self.editors.clear()
        self.pane_ids.clear()
        shutil.rmtree(self.workspace, ignore_errors=True)
        init_workspace(self.challenge, self.workspace)
        self._disk_state = scan(self.workspace)
        await self.query_one("#files", WorkspaceTree).reload()
        first = None
        for rel in workspace_files(self.challenge, self.workspace):
            editor = await self.open_file(rel, activate=first is None)
            first = first or editor
        if first is not None:
            tabs.active = self.pane_ids[first.rel_path]
            first.focus()
        self._update_status()
        self.notify("Workspace reset to the starter files.", timeout=3)

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
        visible = tree.display
        tree.set_class(visible, "-hidden")
        tree.set_class(not visible, "-shown")

    def action_show_brief(self) -> None:
        self.query_one("#side", TabbedContent).active = "brief-pane"

    def action_show_tests(self) -> None:
        self.query_one("#side", TabbedContent).active = "tests-pane"

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
