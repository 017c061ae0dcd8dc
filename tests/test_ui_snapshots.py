"""Snapshot tests of the main screens at 100x32 (SVGs in tests/__snapshots__/).

The countdown's clock is frozen and the cursor does not blink, so the pictures are stable.
Update them deliberately with `pytest tests/test_ui_snapshots.py --snapshot-update`, and look
at the SVGs before committing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixtures.ui_support import make_app, wait_for_workers

from tui_assess.ui.widgets import countdown
from tui_assess.ui.widgets.code_editor import CodeEditor
from tui_assess.ui.widgets.terminal import new_emulator

SIZE = (100, 32)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(countdown, "clock", lambda: 1000.0)


async def settle(pilot: Any) -> None:
    for editor in pilot.app.screen.query(CodeEditor):
        editor.cursor_blink = False  # the cursor is then drawn exactly when focused
        editor._line_cache.clear()  # lines cached mid-blink would keep the old cursor state
        editor.refresh()
    await pilot.pause(0.2)


def test_snapshot_catalog(snap_compare: Any, tmp_path: Path) -> None:
    app = make_app(tmp_path, start=None)
    app.progress.submitted("fix-orders", solved=True, elapsed_s=754)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_snapshot_workspace_with_results(snap_compare: Any, tmp_path: Path) -> None:
    async def run_tests(pilot: Any) -> None:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "run")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=run_tests)


def test_snapshot_workspace_80x24(snap_compare: Any, tmp_path: Path) -> None:
    async def run_tests(pilot: Any) -> None:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_for_workers(pilot, "run")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=run_tests)


def test_snapshot_submit_results(snap_compare: Any, tmp_path: Path) -> None:
    async def submit(pilot: Any) -> None:
        await pilot.pause()
        await pilot.press("ctrl+g")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for_workers(pilot, "run")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=submit)


def test_snapshot_help(snap_compare: Any, tmp_path: Path) -> None:
    async def help_(pilot: Any) -> None:
        await pilot.pause()
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=SIZE, run_before=help_)


def test_snapshot_terminal_pane_80x24(snap_compare: Any, tmp_path: Path) -> None:
    """The terminal pane's drawing (colours, bold, the cursor) from canned output: no live
    shell, so the picture does not depend on the machine's sandbox mode or user."""
    pytest.importorskip("pyte", reason="the terminal pane needs pyte (a dependency)")

    async def terminal(pilot: Any) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        screen.add_class("-terminal-open")
        await pilot.pause()
        pane = screen.terminal
        pane.status = ""
        pane.vt, pane.stream = new_emulator(pane.size.width, pane.size.height)
        pane._feed(
            "\x1b]133;A\x07fix-sum $ \x1b]133;B\x07python -m pytest -q\r\n"
            "\x1b[32m.\x1b[0m\x1b[31mF\x1b[0m\r\n"
            "\x1b[1m=== 1 failed, 1 passed in 0.02s ===\x1b[0m\r\n"
            "\x1b]133;A\x07fix-sum $ \x1b]133;B\x07ls\r\n"
            "\x1b[1;34mtests\x1b[0m  README.md  calc.py\r\n"
            "\x1b]133;A\x07fix-sum $ \x1b]133;B\x07"
        )
        pane.focus()
        await settle(pilot)

    assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=terminal)
