"""End-to-end: the installed `tui-assess` command in a real terminal (tmux), driven the way a
person drives it: open a challenge, fix the bug in the editor, save, run, submit, quit.

Uses the real sandboxed checker, so it takes a few seconds per run. Skipped (with the reason)
when tmux is not installed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIX_SUM = REPO / "tests" / "fixtures" / "challenges" / "fix-sum"

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def tui_assess_command() -> list[str]:
    """The installed console script beside this Python, else `python -m tui_assess`."""
    script = Path(sys.executable).parent / "tui-assess"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui_assess"]


class Tmux:
    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout

    def send(self, *keys: str) -> None:
        """One key at a time, at a (fast) human pace: a terminal may split or merge bursts."""
        for key in keys:
            self.run("send-keys", "-t", self.name, key)
            time.sleep(0.05)

    def type(self, text: str) -> None:
        for ch in text:
            # A lone ";" ends a tmux command even after -l: it has to be escaped.
            self.run("send-keys", "-t", self.name, "-l", "\\;" if ch == ";" else ch)
            time.sleep(0.05)

    def burst(self, text: str) -> None:
        """Type text in one burst (as a fast typist or a terminal's key repeat would)."""
        for piece in re.split("(;)", text):  # tmux reads only a lone ";" as a separator
            if piece:
                self.run("send-keys", "-t", self.name, "-l", "\\;" if piece == ";" else piece)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen after {timeout}s:\n{screen}")
            time.sleep(0.2)

    def wait_for_line(self, number: int, text: str, timeout: float = 10.0) -> None:
        """Wait until editor line `number` reads `text` (surrounding spaces ignored)."""
        deadline = time.monotonic() + timeout
        pattern = re.compile(rf"^\s*{number}\s\s(.*?)\s*▏")
        while True:
            for line in self.screen().splitlines():
                m = pattern.match(line)
                if m and m.group(1).strip() == text.strip():
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"line {number} never read {text!r}:\n{self.screen()}")
            time.sleep(0.1)

    def alive(self) -> bool:
        return (
            subprocess.run(["tmux", "has-session", "-t", self.name], capture_output=True).returncode
            == 0
        )


@pytest.fixture
def tmux_practice(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    home = tmp_path / "home"
    name = f"tui-assess-{uuid.uuid4().hex[:8]}"
    env = {
        "TUI_ASSESS_HOME": str(home),
        "PYTHONPATH": str(REPO),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    env_args = [f"{k}={v}" for k, v in env.items()]
    command = ["env", *env_args, *tui_assess_command(), "practice", str(FIX_SUM)]
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "100",
            "-y",
            "32",
            " ".join(f"'{c}'" for c in command),
        ],
        check=True,
    )
    t = Tmux(name)
    try:
        yield t, home
    finally:
        if t.alive():
            subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def fix_save_and_run(t: Tmux, home: Path) -> Path:
    """In the practice TUI on fix-sum: replace "- b" by "+ b" on line 5, save, run the visible
    tests until they pass; returns calc.py (also used by tests/test_replay_tmux.py)."""
    t.wait_for("The invoice total is wrong", timeout=30)
    t.wait_for("return a - b", timeout=10)
    # The editor has focus on calc.py: go to line 5, end of line, replace "- b" by "+ b",
    # checking the screen after each key (on a loaded machine a terminal may deliver a burst
    # late; the test waits for each effect rather than racing ahead).
    t.send("Down", "Down", "Down", "Down", "End")
    for expected in ("return a - ", "return a -", "return a "):
        t.send("BSpace")
        t.wait_for_line(5, expected, timeout=10)
    for expected in ("return a +", "return a + ", "return a + b"):
        t.type(expected[-1])
        t.wait_for_line(5, expected, timeout=10)
    t.send("C-s")
    deadline = time.monotonic() + 10
    calc = home / "workspaces" / "fix-sum" / "calc.py"
    while "a + b" not in calc.read_text():
        assert time.monotonic() < deadline, "ctrl+s did not save calc.py"
        time.sleep(0.1)
    t.send("C-r")
    t.wait_for("2 passed, 0 failed", timeout=90)
    return calc


def test_practice_edit_save_run_submit_quit(tmux_practice: tuple[Tmux, Path]) -> None:
    t, home = tmux_practice
    calc = fix_save_and_run(t, home)
    t.send("C-g")
    t.wait_for("Submit your solution", timeout=10)
    t.send("Enter")
    screen = t.wait_for("Score 100 / 100", timeout=90)
    assert "Solved in" in screen
    t.send("Escape")
    t.wait_for("Tests", timeout=10)
    t.send("C-q")
    deadline = time.monotonic() + 15
    while t.alive():
        assert time.monotonic() < deadline, "ctrl+q did not quit:\n" + t.screen()
        time.sleep(0.2)
    assert (home / "progress.sqlite").is_file()
    check_session_file(home, calc.read_text())


def tui_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*tui_assess_command(), *args], capture_output=True, text=True, env={**os.environ,
        "PYTHONPATH": str(REPO)}
    )


def check_session_file(home: Path, saved_calc: str) -> None:
    """The session typed in the real TUI verifies, replays to what was saved, and a one-character
    change to one recorded edit is detected and named."""
    import sqlite3

    from tui_assess.session.timeline import Timeline

    session = home / "sessions" / "practice-fix-sum.tasession"
    assert session.is_file()
    ok = tui_cli("session", "verify", str(session))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with Timeline.open(session) as tl:
        assert tl.state_at()["calc.py"] == saved_calc
        kinds = {e.kind for e in tl.events_between(None, None)}
    assert {"session_start", "file_open", "edit", "save", "run_start", "run_end", "submit",
            "session_end"} <= kinds
    tampered = session.with_name("tampered.tasession")
    shutil.copy(session, tampered)
    with sqlite3.connect(tampered) as db:
        seq, payload = db.execute(
            "SELECT seq, payload FROM events WHERE kind = 'edit' AND payload LIKE '%+%' LIMIT 1"
        ).fetchone()
        db.execute("UPDATE events SET payload = ? WHERE seq = ?", (payload.replace("+", "-", 1), seq))
    bad = tui_cli("session", "verify", str(tampered))
    assert bad.returncode == 1
    assert str(seq) in bad.stdout + bad.stderr


def test_kill_9_one_second_after_typing_keeps_what_was_typed(
    tmux_practice: tuple[Tmux, Path],
) -> None:
    from tui_assess.session.timeline import Timeline

    t, home = tmux_practice
    t.wait_for("return a - b", timeout=30)
    t.send("Down", "Down", "Down", "Down", "End")
    t.type("  # typed")
    t.wait_for_line(5, "return a - b  # typed", timeout=10)
    time.sleep(1.0)
    import psutil

    pane = psutil.Process(int(t.run("list-panes", "-t", t.name, "-F", "#{pane_pid}").strip()))
    apps = []
    for p in [pane, *pane.children(recursive=True)]:
        # (The run prepared at the first edit has processes of its own, some short-lived.)
        with contextlib.suppress(psutil.NoSuchProcess):
            if "tui" in " ".join(p.cmdline()).replace("_", "-"):
                apps.append(p)
    assert apps, "the tui-assess process was not found under the tmux pane"
    for p in apps:
        with contextlib.suppress(psutil.NoSuchProcess):  # ended with the app before its turn
            p.kill()  # SIGKILL: no clean-up, no final flush
    psutil.wait_procs(apps, timeout=5)
    session = home / "sessions" / "practice-fix-sum.tasession"
    ok = tui_cli("session", "verify", str(session))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with Timeline.open(session) as tl:
        assert "return a - b  # typed" in tl.state_at()["calc.py"]


def test_terminal_pane_in_the_installed_command(tmux_practice: tuple[Tmux, Path]) -> None:
    """The terminal pane as a person uses it: echo, a flood stopped with ctrl+c, a sleep that
    never ends stopped the same way, a connection to this machine's listener (refused where the
    sandbox isolates the network), a file written by the shell that the editor picks up; then
    quit: nothing it started survives, and the session export holds the commands."""
    import json
    import socket

    import psutil

    t, home = tmux_practice
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    try:
        t.wait_for("return a - b", timeout=30)
        t.send("F12")
        t.wait_for("Terminal ·", timeout=10)
        t.wait_for("fix-sum ", timeout=30)  # the prompt: the folder's name, then $ (or #)

        def command(text: str, expect: str, timeout: float = 30.0) -> None:
            t.burst(text)
            t.send("Enter")
            t.wait_for(expect, timeout=timeout)

        command("echo hello-$((6*7))", "hello-42")
        t.burst("yes tui-flood")
        t.send("Enter")
        t.wait_for("tui-flood\ntui-flood", timeout=20)
        t.send("C-c")
        command("echo flood-$((1+1))done", "flood-2done")
        t.burst("sleep infinity")
        t.send("Enter")
        time.sleep(1.0)
        t.send("C-c")
        command("echo slept-$((2+2))", "slept-4")
        command(
            f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 3)' "
            "&& echo net-$((1+1))open || echo net-$((1+1))closed",
            "net-2",
        )
        network_open = "net-2open" in t.screen()
        command("printf 'def add(a, b):\\n    return a + b\\n' > calc.py; echo ok-$((3*3))", "ok-9")
        t.wait_for_line(2, "return a + b", timeout=10)  # the editor reloaded it from disk
        seconds = f"{uuid.uuid4().int % 900000 + 100000}.5"  # no other process sleeps this long
        command(f"sleep {seconds} & echo bg-$((5*5))", "bg-25")
        sleepers = [
            p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", seconds]
        ]
        assert sleepers
        t.send("F12")  # back to the editor: ctrl+q is the app's everywhere anyway
        t.send("C-q")
        deadline = time.monotonic() + 15
        while t.alive():
            assert time.monotonic() < deadline, "ctrl+q did not quit:\n" + t.screen()
            time.sleep(0.2)
        _, alive = psutil.wait_procs(sleepers, timeout=5)
        assert not alive, "a process the shell started outlived the app"
    finally:
        listener.close()
    session = home / "sessions" / "practice-fix-sum.tasession"
    ok = tui_cli("session", "verify", str(session))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    export = tui_cli("session", "export", str(session), "--format", "jsonl")
    assert export.returncode == 0, export.stderr
    events = [json.loads(line) for line in export.stdout.splitlines()]
    commands = [e["payload"]["text"] for e in events if e["kind"] == "terminal_command"]
    assert commands[:3] == ["echo hello-$((6*7))", "yes tui-flood", "echo flood-$((1+1))done"]
    assert "sleep infinity" in commands and f"sleep {seconds} & echo bg-$((5*5))" in commands
    output = "".join(e["payload"]["text"] for e in events if e["kind"] == "terminal_output")
    assert "hello-42" in output and "tui-flood" in output
    start = next(e["payload"] for e in events if e["kind"] == "terminal_start")
    isolated = not start["guarantees"]["network"].startswith("NOT")
    assert network_open != isolated, (start["sandbox"], start["guarantees"]["network"])
    assert any(e["kind"] == "terminal_end" for e in events)
