"""Pilot tests of the panels around the editor: test results and failure details, the
resource meter, help, the catalog key, narrow terminals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fixtures.ui_support import (
    FakeResult,
    FakeTest,
    async_test,
    make_app,
    wait_for_workers,
    workspace_screen,
)
from textual.widgets import DataTable, Label, Static

from tui_assess.judge.types import ResourceSample, TestFinished, TestOutcome, TestStarted
from tui_assess.ui.checking import CheckRequest, SessionChecker
from tui_assess.ui.failures import summarise_failure
from tui_assess.ui.screens.catalog import CatalogScreen
from tui_assess.ui.screens.help import HelpScreen
from tui_assess.ui.screens.results import SubmitResultsScreen
from tui_assess.ui.screens.workspace import WorkspaceScreen

SIZE = (100, 32)


class CannedChecker(SessionChecker):
    """Streams the given events, then returns the given result."""

    def __init__(self, result: FakeResult, events: list[Any] | None = None) -> None:
        super().__init__(warm=False)
        self.result = result
        self.events = events or []

    def run(self, request: CheckRequest) -> FakeResult:
        for ev in self.events:
            assert request.on_event is not None
            request.on_event(ev)
        return self.result


def cell_text(table: DataTable[Any], row: int, column: int) -> str:
    """The text a cell really shows (markup applied if the cell is a markup string)."""
    from textual.widgets._data_table import default_cell_formatter

    return str(default_cell_formatter(table.get_row_at(row)[column]))


# --------------------------------------------------------------------------- markup


@async_test
async def test_markup_looking_test_ids_render_literally(tmp_path: Path) -> None:
    names = ["test_login[x' OR active = 0 --]", "test_login[bold]", "test_login[/]"]
    tests = [FakeTest(n, "security", "fail", message=f"[red]boom[/red] {n}") for n in names]
    result = FakeResult("fail", tests, 0, 100, {"security [x]": (0, 100)})
    app = make_app(tmp_path, checker=CannedChecker(result))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = workspace_screen(app)
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "run")
        table = screen.query_one("#test-table", DataTable)
        assert [cell_text(table, i, 2) for i in range(3)] == names
        details = str(screen.query_one("#test-details", Static).render())
        assert "[red]boom[/red]" in details
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for_workers(pilot, "run")
        assert isinstance(app.screen, SubmitResultsScreen)
        hidden = app.screen.query_one("#results-tests", DataTable)
        assert [cell_text(hidden, i, 1) for i in range(3)] == names
        groups = app.screen.query_one("#results-groups", DataTable)
        assert cell_text(groups, 0, 0) == "security [x]"


@async_test
async def test_same_test_name_in_two_files_gets_two_rows(tmp_path: Path) -> None:
    tests = [FakeTest("test_a.py::test_x", "g", "pass"), FakeTest("test_b.py::test_x", "g", "fail")]
    result = FakeResult("fail", tests, 0, 100, {})
    events = [TestStarted("test_a.py::test_x"), TestStarted("test_b.py::test_x")]
    app = make_app(tmp_path, checker=CannedChecker(result, events))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "run")
        table = workspace_screen(app).query_one("#test-table", DataTable)
        assert table.row_count == 2


# --------------------------------------------------------------------------- failure details

SYNTAX_ERROR = """\
/venv/lib/python3.11/site-packages/_pytest/python.py:498: in importtestmodule
    mod = import_path(
/usr/lib/python3.11/importlib/__init__.py:126: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
<frozen importlib._bootstrap>:1206: in _gcd_import
    ???
../tests/test_calc.py:1: in <module>
    import calc
E     File "/tmp/tui-assess-run-ui3j6u6h/work/calc.py", line 2
E       return a - b
E       ^^^^^^
E   IndentationError: expected an indented block after function definition on line 1"""


def test_summarise_failure_puts_the_error_first() -> None:
    text = summarise_failure(SYNTAX_ERROR)
    first = text.splitlines()[0]
    assert first == (
        "calc.py, line 2: IndentationError: expected an indented block after function "
        "definition on line 1"
    )
    assert "return a - b" in text.splitlines()[1]
    assert "tui-assess-run-" not in text.split("Full output")[0]
    assert text.rstrip().endswith(SYNTAX_ERROR.splitlines()[-1])  # nothing is lost


def test_summarise_failure_keeps_an_assertion_as_it_is() -> None:
    message = "assert -1 == 5\n  where -1 = add(2, 3)"
    assert summarise_failure(message) == message


def test_summarise_failure_finds_the_last_exception_line() -> None:
    message = (
        "report.py:12: in monthly\n    rows = db.execute(q)\n"
        "E   sqlite3.OperationalError: no such column: amount_cents\n"
    )
    assert summarise_failure(message).splitlines()[0] == (
        "report.py:12: sqlite3.OperationalError: no such column: amount_cents"
    )


@async_test
async def test_details_are_scrollable_and_resizable_by_keyboard(tmp_path: Path) -> None:
    long = "\n".join(f"line {i}" for i in range(200))
    tests = [FakeTest("test_long", "g", "fail", message=long)]
    app = make_app(tmp_path, checker=CannedChecker(FakeResult("fail", tests, 0, 100, {})))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = workspace_screen(app)
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "run")
        scroll = screen.query_one("#test-details-scroll")
        table = screen.query_one("#test-table", DataTable)
        table.focus()
        await pilot.press("tab")
        assert app.focused is scroll
        await pilot.press("pagedown", "pagedown")
        assert scroll.scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y > 0
        height = scroll.size.height
        await pilot.press("plus", "plus")
        await pilot.pause()
        assert scroll.size.height > height
        await pilot.press("minus", "minus", "minus", "minus")
        await pilot.pause()
        assert scroll.size.height < height


@async_test
async def test_a_timeout_names_the_test_that_was_running(tmp_path: Path) -> None:
    done = TestOutcome("test_x.py::test_fast", "test_fast", "test_x.py", "pass", 0.01)
    events = [
        TestStarted("test_x.py::test_fast"),
        TestFinished(done),
        TestStarted("test_x.py::test_slow_report"),
    ]
    result = FakeResult(
        "timeout",
        [FakeTest("test_x.py::test_fast", "g", "pass")],
        0,
        100,
        {},
        reason="the run took longer than its 30 s limit",
    )
    app = make_app(tmp_path, checker=CannedChecker(result, events))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = workspace_screen(app)
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "run")
        summary = str(screen.query_one("#run-summary", Label).render())
        assert "test_slow_report" in summary
        table = screen.query_one("#test-table", DataTable)
        assert table.row_count == 2
        assert "time" in cell_text(table, 1, 0)
        details = str(screen.query_one("#test-details", Static).render())
        assert "test_slow_report" in details and "30 s" in details


# --------------------------------------------------------------------------- meter


@async_test
async def test_meter_shows_idle_after_a_run(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = workspace_screen(app)
        screen.query_one("#meter").add_samples([ResourceSample(0.1, 55.0, 123.0, 3)])
        assert "55%" in str(screen.query_one("#cpu-label", Label).render())
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "run")
        cpu = str(screen.query_one("#cpu-label", Label).render())
        mem = str(screen.query_one("#mem-label", Label).render())
        assert "idle" in cpu and "%" not in cpu
        assert "idle" in mem and "MB" not in mem
        assert "last run" in str(screen.query_one("#peak", Label).render())


# --------------------------------------------------------------------------- help


@async_test
async def test_help_scrolls_by_key(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        scroll = app.screen.query_one("#help-scroll")
        assert scroll.max_scroll_y > 10
        await pilot.press("down", "down")
        assert scroll.scroll_y == 2
        await pilot.press("pagedown")
        assert scroll.scroll_y > 2
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("home", "space")
        await pilot.pause()
        assert scroll.scroll_y > 0


# --------------------------------------------------------------------------- catalog key


@async_test
async def test_f10_opens_the_catalog_when_started_on_one_challenge(tmp_path: Path) -> None:
    app = make_app(tmp_path)  # like `tui-assess practice fix-sum`: no catalog underneath
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WorkspaceScreen)
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        table = app.screen.query_one("#catalog-table", DataTable)
        assert table.row_count >= 2
        await pilot.press("enter")  # opening one again works from there
        await pilot.pause()
        assert isinstance(app.screen, WorkspaceScreen)


@async_test
async def test_f10_is_refused_with_a_reason_in_an_exam(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        workspace_screen(app).mode = "exam"
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, WorkspaceScreen)


# --------------------------------------------------------------------------- narrow panes


@async_test
async def test_editor_keeps_room_at_120x40_and_80x24(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = workspace_screen(app)
        editor = screen.editors["calc.py"]
        assert editor.size.width >= 70, editor.size
        await pilot.press("f5")  # the tree, shown at 120 columns, still leaves room to edit
        await pilot.pause()
        assert screen.query_one("#files").display
        assert editor.size.width >= 50, editor.size
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        assert not screen.query_one("#files").display, "a shown tree folds away when narrow"
        assert editor.size.width >= 44, editor.size
        await pilot.press("f5")
        await pilot.pause()
        assert screen.query_one("#files").display
        assert editor.size.width >= 40, editor.size


@async_test
async def test_f11_widens_the_editor_then_the_side_panel(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = workspace_screen(app)
        side = screen.query_one("#side")
        editor = screen.editors["calc.py"]
        narrow, normal = side.size.width, editor.size.width
        await pilot.press("f11")
        await pilot.pause()
        assert editor.size.width == 80 and not side.display
        assert "f11 unzooms" in str(screen.query_one("#ws-status", Label).render())
        await pilot.press("f11")
        await pilot.pause()
        assert side.size.width >= 70 > narrow and not screen.query_one("#editors").display
        await pilot.press("f11")
        await pilot.pause()
        assert (side.size.width, editor.size.width) == (narrow, normal)
        await pilot.press("f11", "ctrl+r")  # a run shows its results: the zoom gives way
        await wait_for_workers(pilot, "run")
        assert side.display and side.size.width == narrow


# --------------------------------------------------------------------------- reopening


def notifications(app: Any) -> list[str]:
    return [n.message for n in app._notifications]


@async_test
async def test_reopening_resumes_the_attempt_and_a_solved_one_starts_afresh(
    tmp_path: Path,
) -> None:
    from tui_assess.ui.progress import ProgressStore
    from tui_assess.ui.widgets.countdown import Countdown

    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not any("attempt" in n for n in notifications(app))
    store = ProgressStore(tmp_path / "progress.sqlite")
    first = store.attempt("fix-sum", 900)
    assert first.resumed and first.number == 1
    # Five minutes pass with the app closed: the clock kept running.
    store.db.execute("UPDATE progress SET attempt_started = ? WHERE challenge_id = 'fix-sum'",
                     (first.started - 300,))
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        left = workspace_screen(app).query_one("#countdown", Countdown).seconds_left()
        assert 590 < left <= 600
        assert any("Resumed attempt 1" in n for n in notifications(app))
        (workspace_screen(app).workspace / "calc.py").write_text("def add(a, b):\n    return a + b\n")
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for_workers(pilot, "run")
        assert app.progress.get("fix-sum").solved
        best = app.progress.get("fix-sum").best_time_s
        assert best is not None and best >= 300  # the time of the whole attempt
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        left = workspace_screen(app).query_one("#countdown", Countdown).seconds_left()
        assert left > 895
        assert any("New attempt (2): the full 15:00" in n for n in notifications(app))


@async_test
async def test_the_chosen_theme_is_kept(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.theme = "textual-light"
        await pilot.pause()
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-light"


@async_test
async def test_file_names_and_titles_are_not_markup(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = workspace_screen(app)
        (screen.workspace / "[b]x.py").write_text("x = 1\n")
        await screen.open_file("[b]x.py")
        await pilot.pause()
        tabs = screen.editor_tabs
        tab = tabs.get_tab(tabs.pane_ids["[b]x.py"])
        assert tab.label.plain == "[b]x.py"
        await pilot.press("y")  # dirty: the label is rebuilt
        await pilot.pause()
        assert tabs.get_tab(tabs.pane_ids["[b]x.py"]).label.plain == "● [b]x.py"
