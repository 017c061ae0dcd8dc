"""Pilot tests: every screen and flow of the TUI, on fixture challenges, with a scripted
checker (fast) and one run through the real sandboxed checker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.ui_support import (
    RecordingHooks,
    ScriptedChecker,
    async_test,
    fixture,
    make_app,
    wait_for_workers,
    wait_until,
    workspace_screen,
)
from textual.widgets import DataTable, Input, Label, Markdown, TabbedContent

from tui_assess.ui.app import AssessApp
from tui_assess.ui.screens.catalog import CatalogScreen
from tui_assess.ui.screens.dialogs import ConfirmScreen
from tui_assess.ui.screens.help import HelpScreen
from tui_assess.ui.screens.http_console import HttpConsoleScreen
from tui_assess.ui.screens.results import SubmitResultsScreen
from tui_assess.ui.screens.solution import SolutionScreen
from tui_assess.ui.screens.sql_console import SqlConsoleScreen
from tui_assess.ui.screens.workspace import WorkspaceScreen
from tui_assess.ui.widgets.code_editor import CodeEditor
from tui_assess.ui.widgets.test_panel import TestPanel as ResultsPanel

SIZE = (100, 32)


def ws(app: AssessApp) -> WorkspaceScreen:
    screen: WorkspaceScreen = workspace_screen(app)
    return screen


def summary(app: AssessApp) -> str:
    return str(ws(app).query_one("#run-summary", Label).render())


# --------------------------------------------------------------------------- catalog


@async_test
async def test_catalog_lists_filters_and_opens(tmp_path: Path) -> None:
    app = make_app(tmp_path, start=None)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, CatalogScreen)
        table = app.screen.query_one("#catalog-table", DataTable)
        assert table.row_count == 2
        assert table.get_row("fix-sum")[4] == "new"
        # typing filters: the filter input has focus from the start
        await pilot.press(*"orders")
        assert table.row_count == 1
        assert str(table.get_row_at(0)[0]) == "Orders API returns the wrong count"
        await pilot.press("escape")
        assert table.row_count == 2
        await pilot.press(*"invoice", "enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkspaceScreen)
        assert app.screen.challenge.id == "fix-sum"
        assert (tmp_path / "ws" / "fix-sum" / "calc.py").is_file()
        await pilot.press("f10")  # back to the catalog: the status is now "attempted"
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        table = app.screen.query_one("#catalog-table", DataTable)
        assert table.get_row("fix-sum")[4] == "attempted"


# --------------------------------------------------------------------------- workspace


@async_test
async def test_workspace_opens_with_editor_focused_on_first_file(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        assert isinstance(app.focused, CodeEditor)
        assert app.focused.rel_path == "calc.py"
        assert "def add" in app.focused.text
        assert app.focused.language_name == "python"
        editor = app.focused
        await wait_until(pilot, lambda: bool(editor._highlights))  # coloured by a worker
        brief = screen.query_one("#brief", Markdown)
        assert "invoice" in brief.source.lower()
        # The session starts first, so opening the first file is already recorded.
        names = [n for n in hooks.names() if n != "resized"]
        assert names[:2] == ["session_started", "file_opened"]


@async_test
async def test_edit_save_and_undo_go_through_the_hooks(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        editor = app.focused
        assert isinstance(editor, CodeEditor)
        await pilot.press("x", "y")
        assert editor.dirty and screen.dirty_files == ["calc.py"]
        edits = [args for name, args in hooks.calls if name == "edited"]
        assert edits == [("calc.py", 0, 0, "x"), ("calc.py", 1, 0, "y")]
        await pilot.press("ctrl+z")  # undo is recorded too
        assert len([n for n in hooks.names() if n == "edited"]) >= 3
        await pilot.press("z", "ctrl+s")
        disk = (screen.workspace / "calc.py").read_text()
        assert disk == editor.text and not editor.dirty
        assert ("saved", ("calc.py", disk)) in hooks.calls


@async_test
async def test_open_other_file_from_tree(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(130, 32)) as pilot:
        await pilot.pause()
        screen = ws(app)
        await screen.open_file("README.md")
        await pilot.pause()
        assert isinstance(app.focused, CodeEditor) and app.focused.rel_path == "README.md"
        assert app.focused.language_name == "markdown"
        assert set(screen.editors) == {"calc.py", "README.md"}


@async_test
async def test_run_shows_tests_details_and_resources(tmp_path: Path) -> None:
    checker = ScriptedChecker()
    hooks = RecordingHooks()
    app = make_app(tmp_path, checker=checker, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        await pilot.press("a")  # unsaved: a run saves first
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "run")
        assert checker.calls == ["visible"]
        assert not screen.dirty_files
        assert summary(app) == "1 passed, 1 failed"
        panel = screen.query_one("#tests", ResultsPanel)
        assert panel.table.row_count == 2
        details = str(screen.query_one("#test-details").render())
        assert "assert -1 == 5" in details  # the first failure is selected
        peak = str(screen.query_one("#peak", Label).render())
        assert "peak 42 MB" in peak
        assert screen.query_one("#side", TabbedContent).active == "tests-pane"
        assert "run_started" in hooks.names() and "run_finished" in hooks.names()
        assert "resource_sample" in hooks.names()


@async_test
async def test_escape_cancels_a_running_run(tmp_path: Path) -> None:
    checker = ScriptedChecker(block=True)
    app = make_app(tmp_path, checker=checker)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: checker.started.is_set())
        assert screen.running
        await pilot.pause(0.2)
        assert "running" in summary(app).lower() or screen.query_one("#tests").table.row_count
        await pilot.press("escape")
        await wait_for_workers(pilot, "run")
        assert not screen.running
        assert "cancelled" in summary(app)


@async_test
async def test_submit_confirm_results_and_progress(tmp_path: Path) -> None:
    checker = ScriptedChecker()
    app = make_app(tmp_path, checker=checker)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # cancel: nothing runs
        await pilot.pause()
        assert checker.calls == []
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for_workers(pilot, "run")
        assert checker.calls == ["hidden"]
        assert isinstance(app.screen, SubmitResultsScreen)
        assert str(app.screen.query_one("#results-score", Label).render()) == "Score 30 / 100"
        assert app.progress.get("fix-sum").attempts == 1
        assert not app.progress.get("fix-sum").solved
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        # fix it and submit again: solved, best time recorded, solution unlocked
        (screen.workspace / "calc.py").write_text(
            (screen.workspace / "calc.py").read_text().replace("a - b", "a + b")
        )
        await wait_until(pilot, lambda: "a + b" in screen.editors["calc.py"].text)
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for_workers(pilot, "run")
        assert str(app.screen.query_one("#results-score", Label).render()) == "Score 100 / 100"
        p = app.progress.get("fix-sum")
        assert p.solved and p.attempts == 2 and p.best_time_s is not None
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f7")
        await pilot.pause()
        assert isinstance(app.screen, SolutionScreen)
        editor = app.screen.query_one(CodeEditor)
        assert "a + b" in editor.text and editor.read_only


@async_test
async def test_keys_pressed_before_the_hidden_panes_mount_wait_for_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test results, hints and terminal panes mount after the first paint (issue 14:
    start-up). A key that needs one before then mounts them and waits, instead of finding
    nothing: here the after-paint step never comes, so only the keys mount them."""

    async def after_first_paint_left_out(self: WorkspaceScreen) -> None:
        pass

    monkeypatch.setattr(WorkspaceScreen, "_after_first_paint", after_first_paint_left_out)
    checker = ScriptedChecker()
    hooks = RecordingHooks()
    app = make_app(tmp_path, checker=checker, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        assert not screen.query("#tests") and not screen.query("#hints-panel")
        assert not screen.query("#terminal")
        await pilot.press("ctrl+r", "f2")
        await wait_for_workers(pilot, "run")
        assert checker.calls == ["visible"]
        assert summary(app) == "1 passed, 1 failed"
        assert screen.hints_shown == 1
        assert [a[0] for n, a in hooks.calls if n == "hint_shown"] == [0]
        assert screen.query_one("#side", TabbedContent).active == "hints-pane"
        assert screen.terminal.session is None  # mounted with the others, not started


@async_test
async def test_hints_one_at_a_time(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        hints = screen.query_one("#hints", Markdown)
        assert "Look at the operator" not in hints.source
        await pilot.press("f2")
        assert "Look at the operator" in hints.source and "Addition uses +" not in hints.source
        assert screen.query_one("#side", TabbedContent).active == "hints-pane"
        await pilot.press("f2")
        assert "Addition uses +" in hints.source and "No more hints" in hints.source
        await pilot.press("f2")
        assert screen.hints_shown == 2
        assert app.progress.get("fix-sum").hints_shown == 2
        assert [a[0] for n, a in hooks.calls if n == "hint_shown"] == [0, 1]


@async_test
async def test_solution_locked_until_give_up(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f7")
        await pilot.pause()
        assert isinstance(app.screen, WorkspaceScreen)  # locked: a notification only
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SolutionScreen)
        assert app.progress.get("fix-sum").gave_up


@async_test
async def test_reset_workspace_asks_then_restores_starter(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        (screen.workspace / "extra.py").write_text("x = 1\n")
        await pilot.press("q", "ctrl+s")
        assert (screen.workspace / "calc.py").read_text().startswith("q")
        await pilot.press("f8")
        await pilot.pause()
        await pilot.press("escape")  # cancelled: nothing changes
        await pilot.pause()
        assert (screen.workspace / "calc.py").read_text().startswith("q")
        await pilot.press("f8")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for_workers(pilot, "reset")
        starter = fixture("fix-sum").starter_dir / "calc.py"
        assert (screen.workspace / "calc.py").read_text() == starter.read_text()
        assert not (screen.workspace / "extra.py").exists()
        assert screen.editors["calc.py"].text == starter.read_text()
        assert isinstance(app.focused, CodeEditor)


@async_test
async def test_external_change_reloads_clean_buffer_silently(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        (screen.workspace / "calc.py").write_text("# edited elsewhere\n")
        await wait_until(
            pilot, lambda: screen.editors["calc.py"].text == "# edited elsewhere\n", timeout=5
        )
        assert not screen.editors["calc.py"].dirty
        assert ("external_change", ("calc.py", "# edited elsewhere\n")) in hooks.calls


@async_test
async def test_external_change_asks_when_buffer_is_dirty(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        editor = screen.editors["calc.py"]
        await pilot.press("m", "i", "n", "e")
        (screen.workspace / "calc.py").write_text("theirs\n")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=5)
        await pilot.press("escape")  # keep mine
        await pilot.pause()
        assert editor.text.startswith("mine") and editor.dirty
        (screen.workspace / "calc.py").write_text("theirs again\n")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=5)
        await pilot.press("enter")  # reload from disk
        await pilot.pause()
        assert editor.text == "theirs again\n" and not editor.dirty


@async_test
async def test_sql_console_queries_read_only(tmp_path: Path) -> None:
    app = make_app(tmp_path, start="fix-orders")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        console = app.screen
        assert isinstance(console, SqlConsoleScreen)
        query = console.query_one("#sql-query", CodeEditor)
        query.load_text(
            "SELECT status, COUNT(*) AS n FROM orders WHERE status = 'paid' GROUP BY status"
        )
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "sql")
        rows = console.query_one("#sql-rows", DataTable)
        assert rows.row_count == 1 and [str(c) for c in rows.get_row_at(0)] == ["paid", "2"]
        assert "orders_status" in str(console.query_one("#sql-plan").render())
        assert " ms" in str(console.query_one("#sql-timing", Label).render())
        query.load_text("DELETE FROM orders")
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "sql")
        assert "readonly" in str(console.query_one("#sql-timing", Label).render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WorkspaceScreen)


@async_test
async def test_sql_console_absent_without_database(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, WorkspaceScreen)


@async_test
async def test_http_console_serves_the_app_and_sends_requests(tmp_path: Path) -> None:
    app = make_app(tmp_path, start="fix-orders")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        console = app.screen
        assert isinstance(console, HttpConsoleScreen)
        await wait_until(
            pilot, lambda: console.server is not None and console.server.socket, timeout=15
        )
        console.query_one("#http-path", Input).value = "/orders/count"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: console.last is not None, timeout=10)
        assert console.last is not None
        assert console.last.status == 200, console.last.error
        assert '"count": 4' in console.last.body  # the starter's off-by-one bug
        assert "200 OK" in str(console.query_one("#http-status", Label).render())
        proc = console.server.proc
        await pilot.press("escape")
        await pilot.pause()
        assert proc is not None and proc.poll() is not None, "the app process is stopped"


@async_test
async def test_quit_asks_when_unsaved_enter_confirms_escape_cancels(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("x", "ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "calc.py" in str(app.screen.query_one("#dialog-question").render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WorkspaceScreen) and app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.return_code == 0 and not app.is_running


@async_test
async def test_quit_without_changes_is_immediate(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


@async_test
async def test_quit_asks_in_a_timed_session(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ws(app).timed = True
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "timed session" in str(app.screen.query_one("#dialog-question").render())


@async_test
async def test_help_lists_keys_and_what_is_recorded(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one("#help-text", Markdown).source
        for needle in (
            "`workspace.run`",
            "`workspace.submit`",
            "`app.quit`",
            "What is recorded",
            "loses or regains focus",
            "make_app(...)",
        ):
            assert needle in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WorkspaceScreen)


@async_test
async def test_every_binding_has_id_tooltip_and_palette_entry(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        from textual.binding import Binding

        titles = " ".join(c.title for c in app.get_system_commands(screen))
        for b in [*WorkspaceScreen.BINDINGS, *AssessApp.BINDINGS]:
            assert isinstance(b, Binding) and b.id and b.tooltip, b
            # cancel_run is enabled only while running, back only when opened from the catalog
            if b.action not in ("cancel_run", "back"):
                assert b.description in titles, b.description


@async_test
async def test_keymap_file_remaps_a_binding(tmp_path: Path) -> None:
    (tmp_path / "keymap.toml").write_text('"workspace.hint" = "f12"\n')
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f12")
        assert ws(app).hints_shown == 1


@async_test
async def test_usable_at_80x24(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = ws(app)
        editor = screen.editors["calc.py"]
        assert editor.size.width >= 40 and editor.size.height >= 15
        assert not screen.query_one("#files").display  # the tree folds away; f5 shows it
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "run")
        assert screen.query_one("#tests", ResultsPanel).table.size.height >= 2
        await pilot.press("f5")
        assert screen.query_one("#files").display


@async_test
async def test_editor_follows_light_and_dark_themes(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        editor = ws(app).editors["calc.py"]
        assert editor.theme == "assess-dark"
        app.theme = "textual-light"
        await pilot.pause()
        assert editor.theme == "assess-light"


@async_test
async def test_focus_changes_reach_the_hooks(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        from textual import events

        app.post_message(events.AppBlur())
        app.post_message(events.AppFocus())
        await pilot.pause()
        assert [a for n, a in hooks.calls if n == "focus_changed"] == [(False,), (True,)]


@async_test
async def test_real_checker_runs_visible_tests(tmp_path: Path) -> None:
    from tui_assess.ui.checking import default_checker

    app = make_app(tmp_path, checker=default_checker)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "run", timeout=60)
        assert summary(app).startswith("1 passed, 1 failed"), summary(app)
        details = str(ws(app).query_one("#test-details").render())
        assert "assert -1 == 5" in details


def test_headless_ui_helpers_do_not_import_textual() -> None:
    code = (
        "import sys\n"
        "import tui_assess.ui.progress, tui_assess.ui.sql, tui_assess.ui.http_service\n"
        "import tui_assess.ui.hooks, tui_assess.ui.checking, tui_assess.ui.shell\n"
        "import tui_assess.ui.failures\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


@pytest.mark.parametrize("seconds,text", [(900, "15:00"), (61.2, "01:02"), (3725, "1:02:05")])
def test_countdown_format(seconds: float, text: str) -> None:
    from tui_assess.ui.widgets.countdown import format_left

    assert format_left(seconds) == text


@pytest.mark.parametrize("seconds", [900.0, 899.9995, 600.3, 300.0005, 61.2, 1.0, 0.5, 0.0004])
def test_the_countdown_wakes_just_after_its_text_changes(seconds: float) -> None:
    from tui_assess.ui.widgets.countdown import (
        CHANGE_MARGIN_S,
        format_left,
        seconds_to_next_change,
    )

    def shown(left: float) -> str:
        return format_left(left) if left > 0 else "time is up"

    delay = seconds_to_next_change(seconds)
    assert CHANGE_MARGIN_S <= delay <= 1 + CHANGE_MARGIN_S
    assert shown(seconds - delay) != shown(seconds)  # woken after the change...
    just_before = min(seconds, seconds - delay + 2 * CHANGE_MARGIN_S)
    assert shown(just_before) == shown(seconds)  # ...just after it


@async_test
async def test_the_countdown_redraws_once_per_change_and_expires() -> None:
    """One wake a second, when the shown text changes, down to "time is up" and Expired."""
    from textual.app import App, ComposeResult

    from tui_assess.ui.widgets.countdown import Countdown, clock

    class Clock(App[None]):
        def compose(self) -> ComposeResult:
            yield Countdown(clock() + 2.5)

    expired: list[object] = []
    app = Clock()
    async with app.run_test(message_hook=expired.append) as pilot:
        countdown = app.query_one(Countdown)
        wakes = 0
        seconds_left = countdown.seconds_left

        def counted() -> float | None:  # read once per wake
            nonlocal wakes
            wakes += 1
            return seconds_left()

        countdown.seconds_left = counted  # type: ignore[method-assign]
        shown: list[str] = []

        def expired_yet() -> bool:
            if not shown or shown[-1] != countdown._shown:
                shown.append(countdown._shown)
            return countdown.has_class("-expired")

        await wait_until(pilot, expired_yet, timeout=10)
        await pilot.pause()
    assert shown[-2:] == ["00:01 left", "time is up"]
    assert wakes <= 3  # "00:03" shown at mount, then "00:02", "00:01", "time is up"
    assert len({id(m) for m in expired if isinstance(m, Countdown.Expired)}) == 1  # bubbled


@async_test
async def test_large_file_is_highlighted_around_the_viewport(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        big = "\n".join(f"def f{i}(x):\n    return x  # {i}" for i in range(1500))
        (screen.workspace / "big.py").write_text(big)
        editor = await screen.open_file("big.py")
        assert editor is not None
        await wait_until(pilot, lambda: editor._lexer is not None)

        def rows() -> list[int]:
            return [row for row, spans in editor._highlights.items() if spans]

        await pilot.press("x")  # an edit re-lexes the lines around the viewport only
        assert rows() and max(rows()) < 400
        editor.scroll_end(animate=False)
        await wait_until(pilot, lambda: max(rows(), default=0) > 2900)
        assert min(rows()) > 2000


@async_test
async def test_session_recorder_plugs_into_the_seam(tmp_path: Path) -> None:
    """The real recorder behind the hooks: typing, undo, save, a run, a hint and a submit end
    up in a session file that verifies, and its final state is what is on disk."""
    from tui_assess.session.hooks import RecorderHooks
    from tui_assess.session.timeline import Timeline
    from tui_assess.session.verify import verify

    hooks = RecorderHooks(sessions_dir=tmp_path / "sessions", sample_interval=None)
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        await pilot.press("#", "x", "backspace", "ctrl+z", "y", "ctrl+s", "f2", "ctrl+r")
        await wait_for_workers(pilot, "run")
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for_workers(pilot, "run")
        await pilot.press("escape", "ctrl+q")
        await pilot.pause()
    assert hooks.path is not None and verify(hooks.path).ok
    disk = (screen.workspace / "calc.py").read_text()
    with Timeline.open(hooks.path) as timeline:
        assert timeline.state_at()["calc.py"] == disk


@async_test
async def test_a_failing_hook_does_not_take_the_editor_down(tmp_path: Path) -> None:
    from tui_assess.ui.hooks import SessionHooks

    class Broken(SessionHooks):
        def edited(self, *args: object) -> None:  # type: ignore[override]
            raise OSError("disk full")

    errors: list[str] = []
    app = make_app(tmp_path, hooks=Broken())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.notify = lambda message, **kw: errors.append(message)  # type: ignore[method-assign]
        await pilot.press("a", "b")
        assert ws(app).editors["calc.py"].text.startswith("ab")
        assert errors == ["Session recording failed in edited: disk full"]


@async_test
async def test_escape_kills_a_real_run_promptly(tmp_path: Path) -> None:
    """With the real sandboxed checker: a test run stuck in the candidate's code (a sleep at
    import) is cancelled by escape well before the challenge's 30 s timeout."""
    import time

    from tui_assess.ui.checking import default_checker

    app = make_app(tmp_path, checker=default_checker)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = ws(app)
        (screen.workspace / "calc.py").write_text("import time\ntime.sleep(60)\n")
        await wait_until(pilot, lambda: "sleep" in screen.editors["calc.py"].text, timeout=5)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.running)
        await pilot.pause(1.5)  # let pytest start and reach the import
        started = time.monotonic()
        await pilot.press("escape")
        await wait_for_workers(pilot, "run", timeout=20)
        assert time.monotonic() - started < 10
        assert screen.last_result is not None and screen.last_result.status == "cancelled"
        assert "cancelled" in summary(app)


def test_every_screen_binding_has_an_id_and_a_tooltip() -> None:
    from textual.binding import Binding

    screens = [
        AssessApp,
        CatalogScreen,
        WorkspaceScreen,
        ConfirmScreen,
        HelpScreen,
        SubmitResultsScreen,
        SolutionScreen,
        SqlConsoleScreen,
        HttpConsoleScreen,
    ]
    ids: list[str] = []
    for cls in screens:
        for b in cls.BINDINGS:
            assert isinstance(b, Binding) and b.id and b.tooltip and b.description, (cls, b)
            ids.append(b.id)
    assert len(ids) == len(set(ids)), "binding ids are unique"


@async_test
async def test_submit_asks_for_a_note_and_records_it(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    checker = ScriptedChecker()
    app = make_app(tmp_path, checker=checker, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert isinstance(app.focused, Input) and app.focused.id == "note"
        for ch in "fixed the sign":
            await pilot.press("space" if ch == " " else ch)
        await pilot.press("enter")
        await wait_for_workers(pilot, "run")
        assert checker.calls == ["hidden"]
        assert ("note", ("fixed the sign",)) in hooks.calls
        assert hooks.names().index("note") < hooks.names().index("run_started")
