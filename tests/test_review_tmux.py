"""End to end: the installed `tui-assess review DIR` in a real terminal (tmux): the table of a
cohort with a tampered file, a flagged pair shown side by side, and quitting."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_report_support import record_session
from test_similarity_support import disguise, submission
from test_ui_tmux import REPO, Tmux, tui_assess_command

from tui_assess.challenge.model import load_challenge

FIXTURES = Path(__file__).parent / "fixtures" / "challenges"
pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.fixture
def tmux_review(tmp_path: Path) -> Iterator[Tmux]:
    ch = load_challenge(FIXTURES / "tiny-sum")
    cohort = tmp_path / "cohort"
    shared = "def total(amounts):\n    return sum(amounts)\n\n\n" + submission(8)
    record_session(cohort / "ada.tasession", ch,
                   {"orders.py": "def total(amounts):\n    return sum(amounts)\n"},
                   candidate="ada")
    record_session(cohort / "cy.tasession", ch, {"orders.py": shared}, candidate="cy")
    record_session(cohort / "dan.tasession", ch, {"orders.py": disguise(shared, 2)},
                   candidate="dan", paste={"orders.py"})
    shutil.copy(cohort / "ada.tasession", cohort / "eve.tasession")
    with sqlite3.connect(cohort / "eve.tasession") as db:
        db.execute("UPDATE events SET payload = replace(payload, 'ada', 'eve') "
                   "WHERE kind = 'session_start'")
    name = f"tui-assess-review-{uuid.uuid4().hex[:8]}"
    env = {"TUI_ASSESS_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO),
           "TERM": "xterm-256color", "PATH": os.environ.get("PATH", ""),
           "HOME": os.environ.get("HOME", str(tmp_path))}
    command = ["env", *(f"{k}={v}" for k, v in env.items()), *tui_assess_command(),
               "review", str(cohort), "--challenges", str(FIXTURES)]
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "140", "-y", "30",
                    " ".join(f"'{c}'" for c in command)], check=True)
    t = Tmux(name)
    try:
        yield t
    finally:
        if t.alive():
            subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def highlighted(t: Tmux) -> str:
    """The session file the detail panel shows (the highlighted row's)."""
    paths = [ln.strip() for ln in t.screen().splitlines() if ln.strip().endswith(".tasession")]
    return paths[-1] if paths else ""


def test_review_table_side_by_side_and_quit(tmux_review: Tmux) -> None:
    t = tmux_review
    t.wait_for("4 sessions, 1 failing verification, 1 similar pairs", timeout=60)
    screen = t.wait_for("tampered", timeout=30)  # the title can be drawn before the rows
    assert "100/100" in screen
    assert "cy.tasession (" in screen and "dan.tasession (" in screen  # the flagged pair
    for _ in range(4):  # rows are sorted by score: walk down to dan's, one row at a time
        before = highlighted(t)
        if before == "dan.tasession":
            break
        t.send("Down")
        deadline = time.monotonic() + 10  # a loaded machine may draw late: wait for the move
        while highlighted(t) == before and time.monotonic() < deadline:
            time.sleep(0.1)
    assert highlighted(t) == "dan.tasession", t.screen()
    t.send("s")
    side = t.wait_for("fingerprints shared", timeout=20)
    assert "pasted" in side and "burst" in side
    t.send("Escape")
    t.wait_for("4 sessions, 1 failing verification", timeout=10)
    t.send("q")
    deadline = time.monotonic() + 10
    while t.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not t.alive(), t.screen()
