"""End to end: a session typed in the real TUI (the installed command under tmux) is replayed
with the installed `tui-assess replay`: it opens verified, goes to a moment, searches, steps
back to the starter code, and the screen shows each of them. Skipped without tmux."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from test_ui_tmux import (
    FIX_SUM,
    REPO,
    Tmux,
    fix_save_and_run,
    tmux_practice,
    tui_assess_command,
)

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
__all__ = ["tmux_practice"]  # the fixture, shared with the TUI's own tmux tests


def type_the_fix(t: Tmux, home: Path) -> None:
    """In the practice TUI: fix line 5, save, run the visible tests, quit."""
    fix_save_and_run(t, home)
    t.send("C-q")
    deadline = time.monotonic() + 15
    while t.alive():
        assert time.monotonic() < deadline, "ctrl+q did not quit:\n" + t.screen()
        time.sleep(0.2)


def test_replay_a_session_typed_in_the_real_tui(tmux_practice: tuple[Tmux, Path]) -> None:
    practice, home = tmux_practice
    type_the_fix(practice, home)
    session = home / "sessions" / "practice-fix-sum.tasession"
    assert session.is_file()

    name = f"tui-assess-replay-{uuid.uuid4().hex[:8]}"
    env = [f"{k}={v}" for k, v in {"TUI_ASSESS_HOME": str(home), "PYTHONPATH": str(REPO),
                                     "TERM": "xterm-256color",
                                     "PATH": os.environ.get("PATH", "")}.items()]
    command = ["env", *env, *tui_assess_command(), "replay", str(session),
               "--challenge", str(FIX_SUM)]
    # A moment first: a program that starts before tmux has sized the pane can read 80x24 and
    # miss the resize.
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40",
                    "sleep 0.5; exec " + " ".join(f"'{c}'" for c in command)], check=True)
    t = Tmux(name)
    try:
        t.wait_for("✔ intact", timeout=60)
        screen = t.wait_for("return a + b", timeout=10)  # opens at the end: the saved fix
        assert "Replay · fix-sum (practice)" in screen
        total = int(screen.split(" of ", 1)[1].split()[0])
        assert f"event {total} of {total}" in screen

        t.send("g")
        t.wait_for("or an event number", timeout=10)  # the prompt
        t.type("#2")
        t.send("Enter")
        screen = t.wait_for(f"event 2 of {total}", timeout=10)
        assert "return a - b" in screen  # the starter, as the session began

        t.send("/")
        t.wait_for("in the code over time", timeout=10)  # the prompt
        t.type("a + b")
        t.send("Enter")
        # The first hit after event 2: the key that completed "a + b".
        screen = t.wait_for("calc.py: typed 'b'", timeout=30)
        assert re.search(r"T\s+5\s+return a \+ b", screen), screen  # the gutter: typed

        t.send("Home")
        screen = t.wait_for(f"event 1 of {total}", timeout=10)
        t.send("End")
        screen = t.wait_for(f"event {total} of {total}", timeout=10)
        assert "✔ intact" in screen
        t.send("C-q")
        deadline = time.monotonic() + 15
        while t.alive():
            assert time.monotonic() < deadline, "ctrl+q did not quit:\n" + t.screen()
            time.sleep(0.2)
    finally:
        if t.alive():
            subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
