"""The SQL and HTTP consoles on real workspaces: the seed step, tracebacks, kept requests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from fixtures.ui_support import (
    FIXTURES,
    async_test,
    make_app,
    wait_for_workers,
    wait_until,
    workspace_screen,
)
from textual.widgets import DataTable, Input, Label, Select, TextArea

from tui_assess.challenge.model import load_challenge
from tui_assess.ui.http_service import AppServer
from tui_assess.ui.screens.http_console import HttpConsoleScreen
from tui_assess.ui.screens.sql_console import SqlConsoleScreen

SIZE = (100, 32)

BROKEN_APP = '''\
import json


def make_app(db_path, files_dir):
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/boom":
            return [str(1 / 0).encode()]
        if environ["PATH_INFO"] == "/logged":
            import sys
            print("lookup failed for", environ.get("QUERY_STRING"), file=sys.stderr)
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"oops"]
        body = json.dumps({"path": environ["PATH_INFO"], "query": environ["QUERY_STRING"],
                           "files": sorted(__import__("os").listdir(files_dir)),
                           "db": open(db_path, "rb").read()[:40].decode("latin-1")})
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body.encode()]
    return app
'''


async def open_http(pilot: Any) -> HttpConsoleScreen:
    await pilot.press("f4")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HttpConsoleScreen), timeout=20)
    console = pilot.app.screen
    await wait_until(pilot, lambda: console.server is not None and console.server.socket, timeout=15)
    return console


async def send(pilot: Any, console: HttpConsoleScreen, path: str) -> None:
    console.last = None
    console.query_one("#http-path", Input).value = path
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: console.last is not None, timeout=15)


@async_test
async def test_a_500_shows_the_apps_traceback_and_a_space_in_the_path_works(tmp_path: Path) -> None:
    app = make_app(tmp_path, start="fix-orders")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ws = workspace_screen(app).workspace
        (ws / "app.py").write_text(BROKEN_APP)
        (ws / "files").mkdir()
        (ws / "files" / "price-list.txt").write_text("kettle 20\n")
        console = await open_http(pilot)
        await send(pilot, console, "/boom")
        assert console.last is not None and console.last.status == 500
        assert console.last.traceback
        assert "ZeroDivisionError: division by zero" in console.last.body
        status = str(console.query_one("#http-status", Label).render())
        assert "raised ZeroDivisionError" in status
        body = console.query_one("#http-response-body", TextArea).text
        assert "Traceback (most recent call last)" in body and "app.py" in body
        await send(pilot, console, "/logged?name=kettle")
        body = console.query_one("#http-response-body", TextArea).text
        assert "lookup failed for name=kettle" in body  # what the app printed, under the body
        await send(pilot, console, "/search?q=red kettle")
        assert console.last.status == 200, console.last.error
        assert '"query": "q=red%20kettle"' in console.last.body
        assert '"files": ["price-list.txt"]' in console.last.body  # files_dir: a copy of files/


@async_test
async def test_the_request_is_kept_when_the_console_reopens(tmp_path: Path) -> None:
    app = make_app(tmp_path, start="fix-orders")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        console = await open_http(pilot)
        console.query_one("#http-method", Select).value = "POST"
        console.query_one("#http-headers", TextArea).load_text("X-Api-Key: abc")
        console.query_one("#http-body", TextArea).load_text('{"n": 1}')
        await send(pilot, console, "/orders/count")
        await pilot.press("escape")
        await pilot.pause()
        console = await open_http(pilot)
        assert console.query_one("#http-path", Input).value == "/orders/count"
        assert console.query_one("#http-method", Select).value == "POST"
        assert console.query_one("#http-headers", TextArea).text == "X-Api-Key: abc"
        assert console.query_one("#http-body", TextArea).text == '{"n": 1}'


def seeded_challenge(tmp_path: Path) -> Path:
    """fix-orders with a [seed] that makes shop.db (and no committed database)."""
    folder = tmp_path / "seeded"
    shutil.copytree(FIXTURES / "fix-orders", folder)
    (folder / "starter" / "orders.db").unlink()
    (folder / "starter" / "seed.py").write_text(
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1])\n"
        "db.execute('CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)')\n"
        "db.executemany('INSERT INTO orders (status) VALUES (?)', [('paid',)] * 7)\n"
        "db.commit()\n"
    )
    toml = (folder / "challenge.toml").read_text().replace('id = "fix-orders"', 'id = "seeded"')
    toml += '\n[seed]\ncommand = ["python", "seed.py", "shop.db"]\ncreates = ["shop.db"]\n'
    toml += 'database = "shop.db"\n'
    (folder / "challenge.toml").write_text(toml)
    return folder


@async_test
async def test_the_seed_makes_the_data_the_sql_console_opens_on(tmp_path: Path) -> None:
    from tui_assess.ui.app import AssessApp
    from tui_assess.ui.progress import ProgressStore

    challenge = load_challenge(seeded_challenge(tmp_path))
    app = AssessApp(
        start=challenge,
        progress=ProgressStore(tmp_path / "progress.sqlite"),
        workspaces_root=tmp_path / "ws",
        keymap_path=tmp_path / "keymap.toml",
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ws = workspace_screen(app).workspace
        await wait_for_workers(pilot, "prepare", timeout=60)  # made in the background on open
        assert (ws / "shop.db").is_file()
        (ws / "shop.db").unlink()  # gone again: the console makes it before it opens
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, SqlConsoleScreen), timeout=60)
        console = app.screen
        await pilot.pause()
        assert Path(str(console.query_one("#sql-source", Select).value)).name == "shop.db"
        console.query_one("#sql-query").load_text("SELECT COUNT(*) FROM orders")
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "sql")
        rows = console.query_one("#sql-rows", DataTable)
        assert [str(c) for c in rows.get_row_at(0)] == ["7"]


def test_app_server_names_the_database_it_was_given(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text(BROKEN_APP)
    (ws / "a.db").write_text("first")
    (ws / "seeded.db").write_text("the seed's")
    server = AppServer(ws, "app", ws / "seeded.db")
    server.start()
    try:
        response = server.request("GET", "/x")
        assert '"db": "the seed\'s"' in response.body
        assert (ws / "seeded.db").read_text() == "the seed's"  # a copy was served
    finally:
        server.stop()


@async_test
async def test_sql_values_that_look_like_markup_show_as_they_are(tmp_path: Path) -> None:
    import sqlite3

    app = make_app(tmp_path, start="fix-orders")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        ws = workspace_screen(app).workspace
        with sqlite3.connect(ws / "orders.db") as db:
            db.execute("UPDATE orders SET status = '[bold]paid[/bold]' WHERE id = 1")
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, SqlConsoleScreen))
        console = app.screen
        console.query_one("#sql-query").load_text("SELECT status AS [x] FROM orders WHERE id = 1")
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "sql")
        rows = console.query_one("#sql-rows", DataTable)
        from textual.widgets._data_table import default_cell_formatter

        assert str(default_cell_formatter(rows.get_row_at(0)[0])) == "[bold]paid[/bold]"
        assert str(rows.ordered_columns[0].label) == "x"
