"""The terminal pane (f12): a real shell in the sandbox, drawn by pyte, recorded as events.

Pilot tests drive the pane in the app; headless tests drive ShellSession (the shell in its
sandbox) and the recorder's chunking and cap directly.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from fixtures.ui_support import (
    RecordingHooks,
    async_test,
    make_app,
    wait_until,
    workspace_screen,
)

pytest.importorskip("pyte", reason="the terminal pane needs pyte (a dependency since issue 10)")

from tui_assess.sandbox import Limits  # noqa: E402
from tui_assess.ui.shell import ShellEnded, ShellSession  # noqa: E402
from tui_assess.ui.widgets.code_editor import CodeEditor  # noqa: E402
from tui_assess.ui.widgets.terminal import TerminalPane, key_bytes  # noqa: E402

SIZE = (100, 32)


def calls(hooks: RecordingHooks, name: str) -> list[tuple[Any, ...]]:
    return [args for n, args in hooks.calls if n == name]


def unique_seconds() -> str:
    """A sleep length no other process on the machine uses (other suites sleep too)."""
    import random

    return f"{random.randint(100000, 999999)}.{random.randint(1, 9)}"


def sleeping(seconds: str) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", seconds]]


async def open_terminal(pilot: Any) -> TerminalPane:
    await pilot.pause()
    await pilot.press("f12")
    pane = workspace_screen(pilot.app).terminal
    await wait_until(pilot, lambda: pane.running and pane.prompt_mark is not None, timeout=20)
    return pane


async def run_command(pilot: Any, pane: TerminalPane, command: str, expect: str) -> None:
    await pilot.press(*command, "enter")
    await wait_until(pilot, lambda: expect in pane.screen_text(), timeout=20)


@async_test
async def test_f12_runs_commands_in_the_workspace_and_records_them(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_terminal(pilot)
        assert app.focused is pane
        await run_command(pilot, pane, "echo hello-$((6*7)); pwd", "hello-42")
        screen = workspace_screen(app)
        assert str(screen.workspace) in pane.screen_text()
        await wait_until(pilot, lambda: calls(hooks, "terminal_command_done") != [])
        started = calls(hooks, "terminal_started")
        assert len(started) == 1 and started[0][1] == str(screen.workspace)
        assert started[0][4] in ("namespaces", "landlock", "rlimits")
        assert calls(hooks, "terminal_command") == [("echo hello-$((6*7)); pwd",)]
        assert calls(hooks, "terminal_command_done") == [(0,)]
        typed = "".join(a[0] for a in calls(hooks, "terminal_input"))
        assert typed == "echo hello-$((6*7)); pwd\r"
        output = "".join(a[0] for a in calls(hooks, "terminal_output"))
        assert "hello-42" in output
        await pilot.press("f12")  # back to the editor; the shell keeps running
        await pilot.pause()
        assert isinstance(app.focused, CodeEditor) and pane.running
        await pilot.press("f12")
        await pilot.pause()
        assert app.focused is pane


@async_test
async def test_app_keys_go_to_the_shell_while_it_has_focus(tmp_path: Path) -> None:
    """ctrl+c interrupts a command that sleeps forever; ctrl+r, ctrl+s, escape and tab are the
    shell's too (no test run starts, focus stays)."""
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_terminal(pilot)
        await pilot.press(*"sleep 1000", "enter")
        await wait_until(pilot, lambda: calls(hooks, "terminal_command") != [])
        await pilot.press("ctrl+r", "ctrl+s", "escape", "tab")
        assert app.checker.calls == []
        assert app.focused is pane
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: calls(hooks, "terminal_command_done") != [], timeout=10)
        assert calls(hooks, "terminal_command_done")[0][0] == 130  # killed by SIGINT
        typed = "".join(a[0] for a in calls(hooks, "terminal_input"))
        assert "\x03" in typed and "\x12" in typed


@async_test
async def test_a_file_written_in_the_terminal_reaches_the_editor(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_terminal(pilot)
        screen = workspace_screen(app)
        editor = screen.editors["calc.py"]
        await pilot.press(*"echo '# from the shell' >> calc.py", "enter")
        await wait_until(pilot, lambda: "# from the shell" in editor.text, timeout=10)
        assert not editor.dirty
        assert (screen.workspace / "calc.py").read_text().endswith("# from the shell\n")
        assert pane.running


@async_test
async def test_the_shell_follows_the_pane_size(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_terminal(pilot)
        rows, cols = pane.size.height, pane.size.width
        await run_command(pilot, pane, "stty size", f"{rows} {cols}")
        await pilot.press("f11")  # zoom: the terminal takes the whole window
        await wait_until(pilot, lambda: pane.size.height > rows + 5)
        await run_command(pilot, pane, "stty size", f"{pane.size.height} {cols}")
        assert (cols, pane.size.height) in calls(hooks, "terminal_resized")


@async_test
async def test_its_processes_die_with_the_app(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_terminal(pilot)
        a, b = unique_seconds(), unique_seconds()  # other suites sleep too: count only ours
        await run_command(pilot, pane, f"(sleep {a} &) ; sleep {b} & echo bg-$((2*3))", "bg-6")
        await pilot.pause(0.3)
        sleepers = sleeping(a) + sleeping(b)
        assert len(sleepers) == 2
        await pilot.press("ctrl+q")
        await pilot.pause()
    gone, alive = psutil.wait_procs(sleepers, timeout=5)
    assert not alive, alive


@async_test
async def test_the_ended_shell_says_why_and_enter_starts_another(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_terminal(pilot)
        await pilot.press(*"exit 3", "enter")
        await wait_until(pilot, lambda: not pane.running, timeout=10)
        await wait_until(pilot, lambda: "The shell ended" in pane.status)
        assert "status 3" in pane.status
        assert calls(hooks, "terminal_ended") == [(3, "the shell exited (status 3)")]
        await pilot.press("enter")
        await wait_until(pilot, lambda: pane.running and pane.prompt_mark is not None, timeout=20)
        assert len(calls(hooks, "terminal_started")) == 2


def test_xterm_keys() -> None:
    assert key_bytes("ctrl+c", "\x03", False) == b"\x03"
    assert key_bytes("up", None, False) == b"\x1b[A"
    assert key_bytes("up", None, True) == b"\x1bOA"
    assert key_bytes("enter", "\r", False) == b"\r"
    assert key_bytes("alt+b", "b", False) == b"\x1bb"
    assert key_bytes("é", "é", False) == "é".encode()
    assert key_bytes("f5", None, False) is None


# --------------------------------------------------------------------------- headless: the shell


class Shell:
    """A ShellSession driven by hand, collecting its output."""

    def __init__(self, workspace: Path, limits: Limits) -> None:
        self.ended = threading.Event()
        self.end: ShellEnded | None = None
        self.limits: list[str] = []
        self.out = ""
        self.session = ShellSession(
            workspace, limits, on_limit=self.limits.append, on_exit=self._ended
        )
        self.session.start()

    def _ended(self, end: ShellEnded) -> None:
        self.end = end
        self.ended.set()

    def until(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.out:
            self.out += self.session.take_output()
            assert time.monotonic() < deadline, f"{text!r} never came:\n{self.out[-2000:]}"
            time.sleep(0.02)
        return self.out

    def run(self, command: str) -> None:
        self.session.write(command.encode() + b"\r")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


def test_a_runaway_command_is_stopped_and_said_so(workspace: Path) -> None:
    shell = Shell(workspace, Limits(cpu_seconds=1))
    try:
        shell.run("python3 -c 'while True: pass'; echo after=$((1000 + $?))")
        shell.until("after=1", timeout=30)
        assert "after=1152" in shell.out  # 128 + SIGXCPU: the command, not the shell, died
        assert "1 seconds of CPU time" in (shell.session.explain_exit(152) or "")
        shell.run("echo still-$((6*7))")
        shell.until("still-42")
    finally:
        shell.session.close()


def test_memory_limit_stops_what_runs_in_the_terminal(workspace: Path) -> None:
    """Past memory_mb a command is refused its memory (MemoryError) or stopped by the monitor,
    which says so; either way it does not get 400 MB."""
    shell = Shell(workspace, Limits(memory_mb=100))
    try:
        shell.run(
            "python3 -c 'import time; x = bytearray(400 * 2**20); print(\"got\", \"it\")';"
            " echo status=$((1000 + $?))"
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not shell.limits and "status=1" not in shell.out:
            shell.out += shell.session.take_output()
            time.sleep(0.05)
        assert "got it" not in shell.out
        killed = "status=1137" in shell.out and "memory limit" in (shell.session.explain_exit(137) or "")
        assert "MemoryError" in shell.out or killed or any("memory" in w for w in shell.limits)
    finally:
        shell.session.close()


def test_the_shell_sees_no_host_listener_where_the_sandbox_isolates_the_network(
    workspace: Path,
) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    shell = Shell(workspace, Limits())
    try:
        isolated = not shell.session.guarantees.get("network", "NOT").startswith("NOT")
        shell.run(
            f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 2)'"
            " && echo net-$((7*6)) || echo net-$((7*7))"
        )
        shell.until("net-4")
        opened = "net-42" in shell.out  # 49: refused
        if not isolated:
            assert opened  # not isolated, and the guarantees say so
            pytest.skip(f"network isolation needs the namespaces mode; this run is "
                        f"{shell.session.sandbox_mode}: {shell.session.guarantees.get('network')}")
        assert not opened
    finally:
        shell.session.close()
        server.close()


def test_the_shell_writes_only_its_workspace(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    shell = Shell(workspace, Limits())
    try:
        shell.run(f"echo x > inside.txt; echo x > {outside} ; echo rc-$((100 + $?))")
        shell.until("rc-1")
        assert (workspace / "inside.txt").read_text() == "x\n"
        protects = not shell.session.guarantees.get("file_system", "NOT").startswith("NOT")
        if not protects:
            pytest.skip(f"file system isolation needs namespaces or landlock; this run is "
                        f"{shell.session.sandbox_mode}")
        assert not outside.exists()
    finally:
        shell.session.close()


def test_closing_kills_what_the_shell_started_and_removes_the_run(workspace: Path) -> None:
    shell = Shell(workspace, Limits())
    seconds = unique_seconds()
    shell.run(f"setsid sleep {seconds} & echo started-$((40 + 2))")
    out = shell.until("started-42")
    time.sleep(0.3)
    run_dir = shell.session.run.run_dir if shell.session.run else None
    sleepers = sleeping(seconds)
    assert sleepers, out
    shell.session.close()
    gone, alive = psutil.wait_procs(sleepers, timeout=5)
    assert not alive
    assert run_dir is not None and not run_dir.exists()
    assert shell.session.ended is not None and shell.session.ended.reason == "closed"


def test_a_flood_is_slowed_not_buffered_without_bound(workspace: Path) -> None:
    """`yes` writes as fast as it can; nobody reads: the session holds a bounded backlog and
    the kernel blocks the writer."""
    from tui_assess.ui.shell import MAX_PENDING_BYTES

    shell = Shell(workspace, Limits())
    try:
        shell.run("yes flood")
        time.sleep(1.0)
        held = shell.session._pending_bytes
        assert 0 < held <= MAX_PENDING_BYTES + 65536
        text = shell.session.take_output()
        assert "flood\r\nflood" in text
        shell.session.write(b"\x03")
        shell.run("echo done-flooding")
        deadline = time.monotonic() + 20
        seen = ""
        while "done-flooding\r\n" not in seen:
            seen = (seen + shell.session.take_output())[-5000:]
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        shell.session.close()


# --------------------------------------------------------------------------- the recorder


def test_terminal_output_is_chunked_and_capped_with_a_marker(tmp_path: Path) -> None:
    from tui_assess.session.recorder import SessionRecorder
    from tui_assess.session.timeline import Timeline
    from tui_assess.session.verify import verify

    path = tmp_path / "s.tasession"
    rec = SessionRecorder.create(
        path, challenge_id="c", challenge_hash="h", mode="practice",
        terminal_chunk_chars=100, terminal_output_cap=250,
    )
    rec.terminal_start(["bash"], "/w", 80, 24, "rlimits", {"network": "not isolated"})
    rec.terminal_input("ls\r", False)
    rec.terminal_command("ls")
    rec.terminal_output("a" * 120)
    rec.terminal_output("b" * 200)  # 130 fit under the cap; 70 are dropped
    rec.terminal_output("c" * 10)
    rec.terminal_end(0, "the shell exited (status 0)")
    rec.close()
    assert verify(path).ok
    with Timeline.open(path) as tl:
        events = [e for e in tl.events() if e.kind.startswith("terminal_")]
    kinds = [e.kind for e in events]
    outputs = [e.payload["text"] for e in events if e.kind == "terminal_output"]
    assert all(len(t) <= 100 for t in outputs)
    assert "".join(outputs) == "a" * 120 + "b" * 130
    assert kinds.count("terminal_output_capped") == 1
    capped = next(e for e in events if e.kind == "terminal_output_capped")
    assert capped.payload == {"recorded": 250, "cap": 250}
    assert events[-1].payload == {
        "returncode": 0, "reason": "the shell exited (status 0)", "output_dropped": 80,
    }


@async_test
async def test_the_session_export_holds_the_commands(tmp_path: Path) -> None:
    import io
    import json

    from tui_assess.session.export import export
    from tui_assess.session.hooks import RecorderHooks
    from tui_assess.session.timeline import Timeline

    hooks = RecorderHooks(sessions_dir=tmp_path / "sessions", sample_interval=None)
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_terminal(pilot)
        await run_command(pilot, pane, "echo exported-$((40+2))", "exported-42")
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert hooks.path is not None
    out = io.StringIO()
    with Timeline.open(hooks.path) as tl:
        export(tl, "jsonl", out)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    commands = [e["payload"]["text"] for e in events if e["kind"] == "terminal_command"]
    assert commands == ["echo exported-$((40+2))"]
    output = "".join(e["payload"]["text"] for e in events if e["kind"] == "terminal_output")
    assert "exported-42" in output
    assert [e["kind"] for e in events].count("terminal_end") == 1
    assert os.environ.get("TUI_ASSESS_HOME")  # the session stayed in the test's data folder


@async_test
async def test_the_pane_says_when_a_limit_stopped_a_command(tmp_path: Path) -> None:
    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_terminal(pilot)
        await pilot.press(*"sh -c 'kill -XCPU $$'", "enter")  # what RLIMIT_CPU does to a command
        await wait_until(pilot, lambda: calls(hooks, "terminal_limit") != [], timeout=10)
        words = calls(hooks, "terminal_limit")[0][0]
        assert words.startswith("The command used more than") and "CPU" in words
        assert any("CPU" in n.message for n in app._notifications)
        assert pane.running


@async_test
async def test_marks_split_between_reads_and_a_flood_still_record_the_command(
    tmp_path: Path,
) -> None:
    from tui_assess.ui.widgets.terminal import new_emulator

    hooks = RecordingHooks()
    app = make_app(tmp_path, hooks=hooks)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        pane = workspace_screen(app).terminal
        pane.vt, pane.stream = new_emulator(60, 10)
        pane._feed("\x1b]133;A\x07ws $ \x1b]13")
        pane._feed("3;B\x07yes tui-flood\r\n\x1b]1")
        pane._feed("33;C\x07" + "tui-flood\r\n" * 20000)  # 200 KB: drawn from its tail
        pane._feed("\x1b]133;D;130\x07\x1b]133;A\x07ws $ \x1b]133;B\x07")
        assert calls(hooks, "terminal_command") == [("yes tui-flood",)]
        assert pane.screen_text().splitlines()[-2:] == ["tui-flood", "ws $"]


@async_test
async def test_shift_pageup_scrolls_back_through_what_scrolled_off(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_terminal(pilot)
        await run_command(pilot, pane, "seq 1 60", "60")
        assert "1" not in pane.screen_text().splitlines()
        await pilot.press("shift+pageup")
        assert pane.back > 0
        while pane.back < len(pane.vt.history):
            await pilot.press("shift+pageup")
        await pilot.pause()
        lines = [pane.render_line(y).text.rstrip() for y in range(pane.size.height - 1)]
        assert "seq 1 60" in lines[0] + lines[1]  # the very first lines are back
        assert "1" in lines
        await pilot.press("x")  # a key goes to the shell and returns to the live screen
        assert pane.back == 0


def test_the_shell_sees_its_workspace_but_not_the_rest_of_the_data_folder(tmp_path: Path) -> None:
    """The workspace lives in the data folder beside the session files, the progress store and
    other challenges' workspaces: only the workspace is visible from the shell."""
    home = tmp_path / "data"
    workspace = home / "workspaces" / "mine"
    workspace.mkdir(parents=True)
    (home / "sessions").mkdir()
    (home / "sessions" / "practice-x.tasession").write_text("SECRET-SESSION")
    (home / "workspaces" / "other").mkdir()
    (home / "workspaces" / "other" / "theirs.py").write_text("SECRET-OTHER")
    (workspace / "mine.py").write_text("MINE-$((1))\n")
    shell = Shell(workspace, Limits())
    try:
        guarantee = shell.session.guarantees.get("file_system", "NOT")
        shell.run(
            f"cat mine.py {home}/sessions/practice-x.tasession "
            f"{home}/workspaces/other/theirs.py; echo end-$((2+2))"
        )
        shell.until("end-4")
        assert "MINE-$((1))" in shell.out
        if guarantee.startswith("NOT"):
            pytest.skip(f"file system isolation needs namespaces or landlock; this run is "
                        f"{shell.session.sandbox_mode}")
        assert "SECRET" not in shell.out
    finally:
        shell.session.close()


UNPRIVILEGED_SCRIPT = r'''
import json, socket, sys, time
from pathlib import Path
from tui_assess.sandbox import Limits
from tui_assess.ui.shell import ShellSession

mode, workspace, outside, seconds = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen()
port = server.getsockname()[1]
session = ShellSession(workspace, Limits(), mode=mode)
session.start()
session.write((
    "echo hi-$((6*7)) > made.txt; echo x > %s; "
    "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", %d), 2)' "
    "&& echo net-$((1+1))open || echo net-$((1+1))closed; sleep %s & echo end-$((2+2))\r"
    % (outside, port, seconds)).encode())
out, deadline = "", time.monotonic() + 60
while "end-4" not in out and time.monotonic() < deadline:
    out += session.take_output(); time.sleep(0.05)
sleepers = []
import psutil
for p in psutil.process_iter(["cmdline"]):
    if p.info["cmdline"] == ["sleep", seconds]:
        sleepers.append(p)
session.close()
gone, alive = psutil.wait_procs(sleepers, timeout=5)
print(json.dumps({
    "mode": session.sandbox_mode, "guarantees": session.guarantees,
    "made": (workspace / "made.txt").read_text() if (workspace / "made.txt").exists() else None,
    "outside_written": outside.exists(), "net_open": "net-2open" in out,
    "finished": "end-4" in out, "sleepers": len(sleepers), "survivors": len(alive),
}))
'''


@pytest.mark.parametrize("sandbox", ["auto", "rlimits"])
def test_the_terminal_as_an_ordinary_user(sandbox: str) -> None:
    """On a candidate's laptop the pane's shell runs as the candidate: the same checks as an
    ordinary user (tui-assess-ci), with the best sandbox and with the fallback."""
    import shutil as sh
    import subprocess
    import tempfile

    from test_hostile_unprivileged import USER

    if os.geteuid() != 0 or sh.which("runuser") is None:
        pytest.skip("needs root (to become the ordinary user) and runuser")
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        pytest.skip(f"the user {USER} does not exist (test_hostile_unprivileged makes it)")
    # Not under pytest's tmp_path: its parent folder is root's alone.
    tmp_path = Path(tempfile.mkdtemp(prefix="tui-assess-terminal-"))
    tmp_path.chmod(0o777)
    try:
        _run_as_ordinary_user(sandbox, tmp_path, USER)
    finally:
        sh.rmtree(tmp_path, ignore_errors=True)


def _run_as_ordinary_user(sandbox: str, tmp_path: Path, user: str) -> None:
    import json
    import shutil as sh
    import subprocess
    import sys

    from test_hostile_unprivileged import _as_user_command

    workspace = tmp_path / "ws"
    workspace.mkdir()
    sh.chown(workspace, user, user)
    outside = tmp_path / "outside.txt"
    script = tmp_path / "case.py"
    script.write_text(UNPRIVILEGED_SCRIPT)
    repo = Path(__file__).resolve().parents[1]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "TMPDIR": str(tmp_path), "PYTHONPATH": str(repo)}
    proc = subprocess.run(
        _as_user_command("env", "-i", *(f"{k}={v}" for k, v in env.items()),
                         sys.executable, str(script), sandbox, str(workspace), str(outside),
                         unique_seconds()),
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    if proc.returncode != 0 and "No module named" in proc.stderr:
        pytest.skip(f"{user} cannot import the project: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    assert r["finished"] and r["made"] == "hi-42\n"
    assert r["sleepers"] == 1 and r["survivors"] == 0
    if r["guarantees"]["network"].startswith("NOT"):
        assert r["net_open"]  # not isolated, and the guarantees say so
    else:
        assert not r["net_open"], r
    if not r["guarantees"]["file_system"].startswith("NOT"):
        assert not r["outside_written"], r
    if sandbox == "rlimits":
        assert r["mode"] == "rlimits"
