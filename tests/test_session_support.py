"""Helpers shared by the session tests (no tests here)."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from tui_assess.session import SessionRecorder

FIXTURES = Path(__file__).parent / "fixtures" / "sessions"
CHALLENGE_HASH = "c" * 64
START_FILES = {"report.py": "def report():\n    return 1\n", "notes.md": "# notes\n"}


def session_fixture(name: str, folder: Path) -> Path:
    """A session file written by an older recorder, copied into ``folder`` as ``NAME.tasession``
    with its sidecar link. The fixtures are kept as ``NAME.session-fixture`` (+ ``.link``):
    session logs are user data, so no ``*.tasession`` is tracked."""
    path = folder / f"{name}.tasession"
    shutil.copyfile(FIXTURES / f"{name}.session-fixture", path)
    shutil.copyfile(FIXTURES / f"{name}.session-fixture.link", f"{path}.link")
    return path


def new_recorder(path: Path, **options: Any) -> SessionRecorder:
    return SessionRecorder.create(
        path, challenge_id="slow-query", challenge_hash=CHALLENGE_HASH, mode="practice",
        deadline=time.time() + 1800, candidate="ada", files=dict(START_FILES),
        terminal_size=(120, 40), **options,
    )


def timed_recorder(path: Path, **options: Any) -> tuple[SessionRecorder, list[float]]:
    """A recorder whose clock the test sets: ``clock[0]`` is t (seconds since the start),
    ``clock[1]`` the wall clock (Unix seconds)."""
    rec = new_recorder(path, **options)
    assert rec.flush()
    clock = [0.0, time.time()]
    rec._now = lambda: (clock[0], clock[1])  # type: ignore[method-assign]
    return rec, clock


def sample_session(path: Path, **options: Any) -> str:
    """A small but complete session; returns the final link."""
    rec = new_recorder(path, **options)
    rec.file_open("report.py")
    rec.edit("report.py", 27, 1, "42")
    rec.edit("report.py", 0, 0, "# fast\n")
    rec.save("report.py", "# fast\ndef report():\n    return 42\n")
    rec.paste("report.py", "y" * 250)
    rec.edit("report.py", 0, 0, "y" * 250)
    rec.focus_lost()
    rec.focus_gained()
    files = {"report.py": "y" * 250 + "# fast\ndef report():\n    return 42\n",
             "notes.md": "# notes\n"}
    rec.run_start(1, "visible", files=files)
    rec.run_end(1, "visible", status="fail", tests=[{"name": "test_a", "status": "pass"},
                                                   {"name": "test_b", "status": "fail"}])
    rec.external_change("notes.md", "# notes\nchanged elsewhere\n")
    rec.resource_sample(app_cpu=1.0, app_rss_mb=80.0, sys_cpu=5.0, sys_mem=40.0)
    rec.hint_shown(0)
    rec.note("I added an index.")
    rec.submit(files)
    return rec.close()


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def rows(path: Path) -> list[tuple[Any, ...]]:
    c = connect(path)
    try:
        return c.execute("SELECT seq, t_mono, wall, kind, payload, link FROM events "
                         "ORDER BY seq").fetchall()
    finally:
        c.close()
