"""Snapshot tests of the replay screen at 120x40 and 80x24 (SVGs in tests/__snapshots__/).

The session is recorded in the test on a set clock, so every moment shown is the same on every
run; the panels shown are the ones whose content does not depend on the machine (the integrity
panel shows the file's final link, which covers the machine's facts). Update deliberately with
`pytest tests/test_replay_snapshots.py --snapshot-update`, and look at the SVGs first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixtures.replay_support import recorded_once, replay_app, settled
from fixtures.ui_support import wait_for_workers


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return recorded_once(tmp_path_factory)


async def ready(pilot: Any) -> None:
    await settled(pilot)
    await wait_for_workers(pilot)  # the highlighter too
    pilot.app.clear_notifications()  # toasts time out: on a slow machine, gone or not
    await pilot.pause(0.05)


def test_snapshot_replay_120x40_events(snap_compare: Any, recorded: tuple[Path, Path],
                                       tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await pilot.press("home", "shift+right", "m")  # a mark at run 1
        await pilot.press("shift+right", "f3")  # run 2 starts: the fixed code
        await ready(pilot)

    app = replay_app(*recorded, tmp_path)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_snapshot_replay_80x24_runs(snap_compare: Any, recorded: tuple[Path, Path],
                                    tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await pilot.press("ctrl+left", "ctrl+left", "ctrl+left", "f4")  # the large paste
        await ready(pilot)

    app = replay_app(*recorded, tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
