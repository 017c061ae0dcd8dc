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
