"""End to end with the installed command under tmux, as docs/exams.md tells a hiring team and a
candidate to do it: build the pack, sit a one-minute exam (consent, a wrong code, the right
one, an edit left unsaved), time runs out and the work is handed in, the receipt is read off the
screen, verified and the submission regraded; and a kill -9 mid-exam resumes with the same
deadline. Skipped (with the reason) when tmux is not installed."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from test_exam_support import FIX_SUM, events, kinds, of_kind
from test_ui_tmux import REPO, Tmux, tui_assess_command

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

RECEIPT = re.compile(r"\b([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\b")


class ExamDesk:
    """A candidate's laptop: a data folder, and the installed command run in tmux."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.env = {"TUI_ASSESS_HOME": str(self.home), "PYTHONPATH": str(REPO),
                    "TERM": "xterm-256color", "PATH": os.environ.get("PATH", ""),
                    "HOME": os.environ.get("HOME", str(root))}
        self.sessions: list[Tmux] = []

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*tui_assess_command(), *args], capture_output=True, text=True,
                              cwd=self.root, env={**os.environ, **self.env}, timeout=300)

    def start(self, *args: str) -> Tmux:
        name = f"tui-assess-exam-{uuid.uuid4().hex[:8]}"
        command = ["env", *[f"{k}={v}" for k, v in self.env.items()], *tui_assess_command(),
                   *args]
        # The shell stays after the app so its last words (the receipts) can be read.
        line = " ".join(f"'{c}'" for c in command) + "; echo EXITED $?; sleep 600"
        # Typed into a shell that is already running: a program started with the session can
        # read 80x24 before tmux sizes the pane, and then keep a scroll position from it.
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "110", "-y", "36",
                        "-c", str(self.root), "bash --noprofile --norc"], check=True)
        subprocess.run(["tmux", "send-keys", "-t", name, "-l", "exec bash -c " + shlex.quote(line)],
                       check=True)
        subprocess.run(["tmux", "send-keys", "-t", name, "Enter"], check=True)
        t = Tmux(name)
        self.sessions.append(t)
        return t

    def close(self) -> None:
        for t in self.sessions:
            if t.alive():
                subprocess.run(["tmux", "kill-session", "-t", t.name], capture_output=True)

    def session_file(self) -> Path:
        [path] = list(self.home.glob("exams/*/sessions/*.tasession"))
        return path


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[ExamDesk]:
    d = ExamDesk(tmp_path)
    try:
        yield d
    finally:
        d.close()


def go_to_line(t: Tmux, number: int, timeout: float = 20.0) -> None:
    """The editor takes the focus just after its text first shows; keys sent before go
    nowhere. ctrl+l (go to line) both waits for the focus and puts the cursor on a line."""
    limit = time.monotonic() + timeout
    while True:
        t.send("C-l")
        try:
            t.wait_for("Go to line", timeout=1.0)
            break
        except AssertionError:
            if time.monotonic() > limit:
                raise
    t.type(str(number))
    t.send("Enter")
    while "Go to line" in t.screen():
        assert time.monotonic() < limit, "the go-to-line prompt did not close"
        time.sleep(0.1)
    t.send("End")


def build(desk: ExamDesk, *options: str) -> str:
    built = desk.cli("pack", "build", str(FIX_SUM), "--out", "exam.tapack", "--json", *options)
    assert built.returncode == 0, built.stderr
    return str(json.loads(built.stdout)["start_code"])


def test_one_minute_exam_from_pack_to_receipt_and_regrade(desk: ExamDesk) -> None:
    code = build(desk, "--time", "1", "--feedback", "counts")
    t = desk.start("exam", "exam.tapack")
    t.wait_for("What is recorded", timeout=30)
    assert "No camera" in t.screen() or "No camera" in t.wait_for("No camera")
    t.send("Enter")
    t.wait_for("Start the exam", timeout=10)
    t.type("Ada Lovelace")
    t.send("Enter")
    t.type("AAAA-BBBB-CCCC-DDDD")
    t.send("Enter")
    t.wait_for("does not open this exam", timeout=30)
    t.burst(code)
    t.send("Enter")
    t.wait_for("return a - b", timeout=60)
    assert re.search(r"0\d:\d\d left", t.screen()), t.screen()
    # Fix the bug but never save: time-up saves it before handing in.
    go_to_line(t, 5)
    t.send("BSpace", "BSpace", "BSpace")
    t.type("+ b")
    t.wait_for_line(5, "return a + b", timeout=10)
    screen = t.wait_for("Read your receipt code", timeout=120)
    assert "Time is up." in screen and "1 of 1" not in screen
    assert "3 of 3 hidden tests pass" in screen
    receipt = RECEIPT.findall(screen)[-1]
    t.send("C-q")
    after = t.wait_for("EXITED 0", timeout=30)
    assert f"receipt {receipt}" in after.replace("\n", "")

    session = desk.session_file()
    ks = kinds(session)
    assert ks.index("time_up") < ks.index("save") < ks.index("submit") < ks.index("session_end")
    assert of_kind(session, "start_code_refused")[0].payload["count"] == 1
    ok = desk.cli("session", "verify", str(session), "--receipt", receipt)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = desk.cli("session", "verify", str(session), "--receipt", "AAAA-BBBB-CCCC-DDDD")
    assert bad.returncode == 1 and "RECEIPT MISMATCH" in bad.stdout

    # The hiring team regrades the submitted snapshot with its own copy of the challenge.
    graded = desk.cli("grade", str(session), "--challenges", str(FIX_SUM.parent), "--json")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    [row] = json.loads(graded.stdout)["sessions"]
    assert row["submitted"] is True and not row["challenge_changed"]
    assert row["regraded"]["score"] == row["regraded"]["max_score"] == 100

    # Opening the exam again changes nothing: the receipts, and exit 0.
    again = desk.cli("exam", "exam.tapack")
    assert again.returncode == 0 and receipt in again.stdout and "already handed in" in again.stdout
    assert desk.cli("session", "verify", str(session), "--receipt", receipt).returncode == 0


def test_kill_9_mid_exam_resumes_with_the_same_deadline(desk: ExamDesk) -> None:
    code = build(desk, "--time", "20")
    t = desk.start("exam", "exam.tapack", "--code", code, "--candidate", "Ada")
    t.wait_for("What is recorded", timeout=30)
    t.send("Enter")
    t.wait_for("Start the exam", timeout=10)
    t.send("Enter")
    t.wait_for("return a - b", timeout=60)
    go_to_line(t, 5)
    t.type("  # kept")
    t.wait_for_line(5, "return a - b  # kept", timeout=10)
    t.send("C-s")
    session = None
    limit = time.monotonic() + 10
    while session is None or "save" not in kinds(session):
        assert time.monotonic() < limit, "the save was never recorded"
        found = list(desk.home.glob("exams/*/sessions/*.tasession"))
        session = found[0] if found else None
        time.sleep(0.2)
    deadline = events(session)[0].payload["deadline"]

    pane = psutil.Process(int(t.run("list-panes", "-t", t.name, "-F", "#{pane_pid}").strip()))
    apps = []
    for p in [pane, *pane.children(recursive=True)]:
        # (The run prepared at the first edit has processes of its own, some short-lived.)
        with contextlib.suppress(psutil.NoSuchProcess):
            if "tui" in " ".join(p.cmdline()).replace("_", "-") and "sleep" not in p.name():
                apps.append(p)
    assert apps, "the tui-assess process was not found under the tmux pane"
    for p in apps:
        with contextlib.suppress(psutil.NoSuchProcess):  # ended with the app before its turn
            p.kill()  # SIGKILL: no clean-up at all
    psutil.wait_procs(apps, timeout=5)

    t2 = desk.start("exam", "exam.tapack")
    screen = t2.wait_for("in progress", timeout=30)
    assert "clock kept running" in screen.replace("\n", " ")
    t2.send("Enter")
    t2.wait_for("Start the exam", timeout=10)
    t2.burst(code)
    t2.send("Enter")
    t2.wait_for("return a - b  # kept", timeout=60)
    left = re.search(r"(\d\d):(\d\d) left", t2.screen())
    assert left and int(left.group(1)) * 60 + int(left.group(2)) < 20 * 60
    t2.send("C-q")
    t2.wait_for("Quit the exam?", timeout=10)
    t2.send("Enter")
    t2.wait_for("EXITED 0", timeout=30)
    starts = of_kind(session, "session_start")
    assert len(starts) == 1 and starts[0].payload["deadline"] == deadline
    ks = kinds(session)
    assert ks.count("resumed") == 1 and ks.index("save") < ks.index("resumed")
    assert desk.cli("session", "verify", str(session)).returncode == 0
