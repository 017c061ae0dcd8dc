"""Disk full and unwritable folders: the candidate is told in words, nothing recorded is lost."""

from __future__ import annotations

import os
import random
import string
import threading
import time
from pathlib import Path

import pytest
from test_session_support import new_recorder, rows

from tui_assess.session import Timeline, verify


def wait_for(cond, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def noise(n: int, rnd: random.Random) -> str:
    return "".join(rnd.choices(string.ascii_letters, k=n))  # barely compressible


def test_disk_full_reports_keeps_committed_and_retries(tmp_path: Path) -> None:
    path = tmp_path / "s.tasession"
    errors: list[str] = []
    recovered = threading.Event()
    rec = new_recorder(path, on_error=errors.append, on_recovered=recovered.set,
                       retry_interval=0.05)
    rec.note("before the disk filled up")
    assert rec.flush()
    committed_before = rows(path)
    rec._max_page_count = 1  # SQLite now answers "database or disk is full"
    rnd = random.Random(1)
    for _ in range(20):
        rec.edit("report.py", 0, 0, noise(4000, rnd))
    assert wait_for(lambda: bool(errors))
    assert len(errors) == 1  # told once, not at every retry
    message = errors[0]
    assert "disk is full" in message and str(path) in message and "\n" not in message
    assert "Traceback" not in message and "sqlite" not in message.lower()
    assert rec.unsaved_events >= 20 and rec.last_error == message
    # What was committed is intact and still verifies (no sidecar yet: weaker, not failed).
    assert rows(path) == committed_before
    assert verify(path).ok
    rec.edit("report.py", 0, 0, "typed while the disk was full")
    rec._max_page_count = None  # space comes back
    assert recovered.wait(5)
    rec.close()
    report = verify(path)
    assert report.ok and report.sidecar == "match"
    with Timeline.open(path) as tl:
        assert tl.state_at()["report.py"].startswith("typed while the disk was full")
        assert tl.kind_counts()["edit"] == 21


def test_folder_that_cannot_hold_the_file_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    errors: list[str] = []
    rec = new_recorder(blocker / "s.tasession", on_error=errors.append, retry_interval=0.05)
    rec.edit("report.py", 0, 0, "kept in memory")
    assert wait_for(lambda: bool(errors))
    assert "cannot be saved" in errors[0] and "\n" not in errors[0]
    assert rec.unsaved_events >= 3
    rec.close(timeout=2)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_read_only_folder_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    errors: list[str] = []
    try:
        rec = new_recorder(folder / "s.tasession", on_error=errors.append, retry_interval=0.05)
        assert wait_for(lambda: bool(errors))
        assert "cannot be saved" in errors[0]
        rec.close(timeout=2)
    finally:
        folder.chmod(0o755)
