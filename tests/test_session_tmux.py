"""End to end under tmux: a Textual editor recording a session, killed with -9 one second after
typing, keeps what was typed, and the file verifies.

The editor here is a stand-in (a TextArea hooked with SessionRecorder.watch_document, the way
the TUI hooks its editors) so the session layer's promise is checked on its own; the TUI's
own tmux tests cover the installed command.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui_assess.session import Timeline, verify

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]
ROOT = Path(__file__).resolve().parents[1]

EDITOR = """
import sys
from pathlib import Path
from textual.app import App, ComposeResult
from textual.widgets import TextArea
from tui_assess.session import SessionRecorder

class Editor(App[None]):
    def compose(self) -> ComposeResult:
        yield TextArea("", id="editor")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        self.rec = SessionRecorder.create(Path(sys.argv[1]), challenge_id="tmux",
                                          challenge_hash="0" * 64, mode="exam",
                                          files={"main.py": ""})
        self.rec.watch_document(area.document, "main.py")
        self.rec.flush()
        area.focus()
        Path(sys.argv[1] + ".ready").write_text("ready")

Editor().run()
"""


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True,
                          timeout=20).stdout


def wait_for(cond, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_kill_9_one_second_after_typing_keeps_what_was_typed(tmp_path: Path) -> None:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    session = tmp_path / "typed.tasession"
    name = f"tui-assess-session-{os.getpid()}"
    env = f"PYTHONPATH={ROOT} TERM=xterm-256color"
    tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30",
         f"env {env} {sys.executable} {script} {session}")
    try:
        assert wait_for(lambda: Path(f"{session}.ready").exists()), \
            tmux("capture-pane", "-p", "-t", name)
        tmux("send-keys", "-t", name, "-l", "def answer():")
        tmux("send-keys", "-t", name, "Enter")
        tmux("send-keys", "-t", name, "-l", "return 42")
        assert wait_for(lambda: "return 42" in tmux("capture-pane", "-p", "-t", name))
        time.sleep(1.0)
        pid = int(tmux("display-message", "-p", "-t", name, "#{pane_pid}").strip())
        os.kill(pid, signal.SIGKILL)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, timeout=20)
    report = verify(session)
    assert report.ok, report.reason
    with Timeline.open(session) as tl:
        assert tl.state_at()["main.py"] == "def answer():\nreturn 42"
        assert tl.last_event is not None and tl.last_event.kind == "edit"  # no clean close
