"""Runs prepared ahead (tui_assess.judge.warm): warm, and nothing of one run in the next.

Real runs: a spare is a real sandbox with a judge and a host waiting. The checks: a run that
pollutes everything it can reach (module state, builtins, the environment, files in its
folder, scratch, /tmp, $HOME, /dev/shm, and the judge's own modules and environment) is
followed by a warm run that sees none of it; a spare never outlives its owner (discarded,
closed, or its process killed with SIGKILL); the limits count from the run's start, not from
when the spare was made; where a spare cannot serve (its suite changed, its judge died), the
run starts cold and says so.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

import tui_assess
from tui_assess.judge.run import PreparedRun
from tui_assess.judge.types import Limits, RunSpec
from tui_assess.judge.warm import WarmRuns
from tui_assess.sandbox import modes

READY_S = 60.0  # a loaded 2-core machine can take seconds to start a judge

CANDIDATE = '''
import builtins, os, sys, tempfile

MARK = "left-by-an-earlier-run"
_calls = []


def _places(scratch):
    return [os.getcwd(), scratch, tempfile.gettempdir(), "/tmp", os.path.expanduser("~"),
            "/dev/shm"]


def _readable(path):
    try:
        os.listdir(path)
        return True
    except OSError:
        return False


def observe(scratch, private):
    """What this process sees of earlier runs (and of what it must never see)."""
    return {
        "module_state": list(_calls),
        "builtins": hasattr(builtins, "tui_leftover"),
        "sys_modules": "tui_leftover" in sys.modules,
        "environ": "TUI_LEFTOVER" in os.environ,
        "work": sorted(os.listdir(".")),
        "files": [p for p in _places(scratch) if os.path.exists(os.path.join(p, MARK))],
        "private": [p for p in private if _readable(p)],
    }


def pollute(scratch):
    _calls.append("polluted")
    builtins.tui_leftover = True
    sys.modules["tui_leftover"] = sys
    os.environ["TUI_LEFTOVER"] = "1"
    written = []
    for place in _places(scratch):
        try:
            with open(os.path.join(place, MARK), "w") as f:
                f.write("x")
            written.append(place)
        except OSError:
            pass
    return written
'''

SUITE = '''
import json
import os
import sys
from pathlib import Path

import mod

JUDGE_FOLDER = {judge_folder!r}


def test_nothing_of_an_earlier_run_is_seen(tmp_path):
    scratch = str(tmp_path.parent.parent)  # pytest's basetemp: the run's scratch folder
    judge = {{
        "environ": "TUI_JUDGE_LEFTOVER" in os.environ,
        "module": hasattr(json, "tui_leftover"),
        "sys_modules": "tui_judge_leftover" in sys.modules,
        "scratch": os.path.exists(os.path.join(scratch, "judge-" + mod.MARK)),
    }}
    seen = mod.observe(scratch, [str(Path(__file__).parent), JUDGE_FOLDER])
    os.environ["TUI_JUDGE_LEFTOVER"] = "1"
    json.tui_leftover = True
    sys.modules["tui_judge_leftover"] = json
    Path(scratch, "judge-" + mod.MARK).write_text("x")
    written = mod.pollute(scratch)
    print("WRITTEN", json.dumps(written))
    assert judge == dict.fromkeys(judge, False)
    assert seen == {{
        "module_state": [],
        "builtins": False,
        "sys_modules": False,
        "environ": False,
        "work": ["mod.py"],
        "files": [],
        "private": [],
    }}
'''

QUICK = '''
import mod


def test_quick():
    assert mod.value() == 1
'''


def _isolating_mode(mode: str) -> str:
    why = modes.unavailable(mode)
    if why:
        pytest.skip(f"the {mode} sandbox is not available here: {why}")
    return mode


def _suite(tmp_path: Path, test: str, module: str = "def value():\n    return 1\n") -> tuple[Path, Path]:
    ws, tests = tmp_path / "ws", tmp_path / "tests"
    ws.mkdir()
    tests.mkdir()
    (ws / "mod.py").write_text(module)
    (tests / "test_it.py").write_text(test)
    return ws, tests


def _run_processes(prepared: PreparedRun) -> list[psutil.Process]:
    """Every live process of a prepared run: its supervisor, and all whose command line names
    its folder (the judge, the host)."""
    supervisor = prepared.sandbox._supervisor
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            ours = (supervisor is not None and p.pid == supervisor.pid) or any(
                prepared.sandbox.run_dir.name in part for part in p.info["cmdline"] or ()
            )
            if ours and p.status() != psutil.STATUS_ZOMBIE:
                found.append(p)
        except psutil.Error:
            pass
    return found


def _gone(pid: int) -> bool:
    """Not running (a zombie is dead: this process may be a subreaper that has not reaped it)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _until(what: Callable[[], bool], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if what():
            return True
        time.sleep(0.02)
    return what()


@pytest.mark.parametrize("mode", ["namespaces", "landlock"])
def test_a_warm_run_sees_nothing_of_the_run_before(tmp_path: Path, mode: str) -> None:
    _isolating_mode(mode)
    judge_folder = str(Path(tui_assess.__file__).parent)
    ws, tests = _suite(tmp_path, SUITE.format(judge_folder=judge_folder), CANDIDATE)
    spec = RunSpec(ws, tests, Limits(timeout_seconds=60), show_details=True, sandbox=mode)
    with WarmRuns() as runs:
        first = runs.run(spec)
        assert first.start == "cold"
        assert first.status == "pass", (first.reason, [t.message for t in first.tests])
        # It did pollute: its folder, scratch and its private /tmp and $HOME at least.
        written = json.loads(first.output.split("WRITTEN ", 1)[1].splitlines()[0])
        assert len(written) >= 3, first.output
        assert runs.wait_ready(READY_S)
        second = runs.run(spec)
    assert second.start == "warm"
    assert second.status == "pass", (second.reason, [t.message for t in second.tests])
    assert second.run_id != first.run_id
    assert not any(Path(p, first.run_id).exists() for p in ("/tmp", os.environ.get("TMPDIR", "/tmp")))
    assert "WRITTEN" in second.output  # the second run polluted too: and saw nothing first


def test_a_spare_leaves_nothing_when_discarded_or_closed(tmp_path: Path) -> None:
    ws, tests = _suite(tmp_path, QUICK)
    spec = RunSpec(ws, tests, Limits(timeout_seconds=30))
    runs = WarmRuns()
    for end in ("discard", "close"):
        spare = _ready(runs, spec)
        run_dir, processes = spare.sandbox.run_dir, _run_processes(spare)
        assert run_dir.is_dir() and len(processes) >= 3  # supervisor, judge, host
        getattr(runs, end)()
        assert not run_dir.exists()
        assert all(_gone(p.pid) for p in processes)
    assert runs.spare is None
    assert runs.run(spec).start == "cold"  # closed: nothing is kept ready any more


KILLED_OWNER = """
import json, sys, time
from pathlib import Path
from tui_assess.judge.types import Limits, RunSpec
from tui_assess.judge.warm import WarmRuns

runs = WarmRuns()
runs.keep_ready(RunSpec(Path(sys.argv[1]), Path(sys.argv[2]), Limits(timeout_seconds=30)))
assert runs.wait_ready(60)
spare = runs.spare
print(json.dumps({"run_dir": str(spare.sandbox.run_dir), "supervisor": spare.sandbox._supervisor.pid,
                  "judge": spare.judge.pid}), flush=True)
time.sleep(600)
"""


def test_a_spare_dies_with_its_owner_killed_with_sigkill(tmp_path: Path) -> None:
    ws, tests = _suite(tmp_path, QUICK)
    owner = subprocess.Popen(
        [sys.executable, "-c", KILLED_OWNER, str(ws), str(tests)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        spare = json.loads(owner.stdout.readline())
        run_dir = Path(spare["run_dir"])
        assert run_dir.is_dir()
        others = [
            p for p in psutil.process_iter(["cmdline"])
            if any(run_dir.name in part for part in p.info["cmdline"] or ())
        ]
        assert others  # the judge and the host
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    assert _until(lambda: not run_dir.exists()), f"{run_dir} was left behind"
    assert _until(lambda: _gone(spare["supervisor"]))
    assert _until(lambda: all(_gone(p.pid) for p in others))


def _ready(runs: WarmRuns, spec: RunSpec) -> PreparedRun:
    runs.keep_ready(spec)
    assert runs.wait_ready(READY_S)
    spare = runs.spare
    assert spare is not None
    return spare


def test_a_spare_waits_without_its_time_limit_running(tmp_path: Path) -> None:
    ws, tests = _suite(tmp_path, QUICK)
    limit = 3.0  # a run takes well under a second, also on a loaded 2-core machine
    spec = RunSpec(ws, tests, Limits(timeout_seconds=limit))
    with WarmRuns() as runs:
        spare = _ready(runs, spec)
        # The spare has existed for longer than a run may take: a run is timed from its start.
        time.sleep(max(0.0, spare.started + limit + 0.5 - time.monotonic()))
        assert spare.sandbox.resources().limit_hit is None
        result = runs.run(spec)
    assert result.start == "warm"
    assert result.status == "pass", result.reason
    assert result.resources.wall_s < limit


def test_where_a_spare_cannot_serve_the_run_starts_cold(tmp_path: Path) -> None:
    ws, tests = _suite(tmp_path, QUICK)
    spec = RunSpec(ws, tests, Limits(timeout_seconds=30))
    with WarmRuns() as runs:
        # The suite changed since the spare was made: the new test runs, cold.
        _ready(runs, spec)
        (tests / "test_more.py").write_text(QUICK.replace("test_quick", "test_added"))
        changed = runs.run(spec)
        assert changed.start == "cold"
        assert sorted(t.name for t in changed.tests) == ["test_added", "test_quick"]
        # The spare's judge died while waiting.
        spare = _ready(runs, spec)
        os.kill(spare.judge.pid, signal.SIGKILL)
        assert _until(lambda: not spare.usable)
        after = runs.run(spec)
        assert after.start == "cold" and after.status == "pass", after.reason
        assert not spare.sandbox.run_dir.exists()


def test_asking_for_another_suite_ends_the_spare_of_the_first(tmp_path: Path) -> None:
    """One spare a session: an exam's candidate who moves to another challenge and edits
    there gets that challenge's run prepared, and the first one's ends."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _suite(tmp_path / "a", QUICK)
    second = _suite(tmp_path / "b", QUICK.replace("test_quick", "test_other"))
    with WarmRuns() as runs:
        old = _ready(runs, RunSpec(*first, Limits(timeout_seconds=30)))
        new = _ready(runs, RunSpec(*second, Limits(timeout_seconds=30)))
        assert new is not old
        assert _until(lambda: not old.sandbox.run_dir.exists())
        assert _until(lambda: not _run_processes(old))
        result = runs.run(RunSpec(*second, Limits(timeout_seconds=30)))
    assert result.start == "warm" and [t.name for t in result.tests] == ["test_other"]


def test_the_cold_path_records_its_start(tmp_path: Path) -> None:
    ws, tests = _suite(tmp_path, QUICK)
    from tui_assess.judge.run import run_suite

    result = run_suite(RunSpec(ws, tests, Limits(timeout_seconds=30)))
    assert result.status == "pass" and result.start == "cold"
    assert result.to_json()["start"] == "cold"


def test_the_workspace_screen_keeps_a_run_ready_and_ends_it_when_it_closes(tmp_path: Path) -> None:
    from fixtures import ui_support as ui

    from tui_assess.ui.checking import SessionChecker

    checker = SessionChecker()
    app = ui.make_app(tmp_path, checker=checker)
    starts: list[str] = []
    kept: list[PreparedRun] = []

    @ui.async_test
    async def session() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            # The side panes mount after the first paint.
            await ui.wait_until(pilot, lambda: bool(ui.workspace_screen(app).query("#tests")))
            for _ in range(2):
                await pilot.press("ctrl+r")
                await ui.wait_for_workers(pilot, "run", timeout=READY_S)
                result = ui.workspace_screen(app).last_result
                assert not result.passed and len(result.tests) == 2, result.reason  # the bug
                starts.append(result.run.start)
                await ui.wait_until(pilot, lambda: checker.runs is not None and checker.runs.wait_ready(0), timeout=READY_S)
                kept.append(checker.runs.spare)  # type: ignore[union-attr]
        # The app has exited: the screen went away and took the run kept ready with it.

    session()
    assert starts == ["cold", "warm"]  # the first run of a session starts cold
    assert kept[0] is not kept[1]
    assert not kept[0].sandbox.run_dir.exists()  # used by the second run, and closed
    assert _until(lambda: not kept[1].sandbox.run_dir.exists())
    assert _until(lambda: not _run_processes(kept[1]))


LEFT_ALONE_S = 0.5
"""How long a screen is left alone before it is asked whether it prepared a run: preparing
starts within milliseconds of being asked for, so this is long enough to see one begin."""


def test_the_first_edit_prepares_a_run_once_and_a_screen_left_alone_prepares_none(
    tmp_path: Path,
) -> None:
    from fixtures import ui_support as ui

    checker = ui.ScriptedChecker()
    app = ui.make_app(tmp_path, checker=checker)

    @ui.async_test
    async def session() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await ui.wait_until(pilot, lambda: bool(ui.workspace_screen(app).query("#brief")))
            await pilot.pause(LEFT_ALONE_S)
            assert checker.prepares == []  # opened, drawn, left alone: nothing prepared
            screen = ui.workspace_screen(app)
            screen.editors["calc.py"].focus()
            await pilot.press("end", "x")
            await ui.wait_until(pilot, lambda: checker.prepares == ["visible"])
            await pilot.press("backspace", "y", "ctrl+s", "z")  # clean, then dirty again
            await pilot.pause()
            assert screen.edited and checker.prepares == ["visible"]  # once a screen

    session()


def test_the_first_run_after_an_edit_starts_warm(tmp_path: Path) -> None:
    """ctrl+r after the first edit takes the run prepared at that edit; a session whose
    candidate never edits starts none (no WarmRuns is even made: nothing is imported)."""
    from fixtures import ui_support as ui

    from tui_assess.ui.checking import SessionChecker

    checker = SessionChecker()
    hooks = ui.RecordingHooks()
    app = ui.make_app(tmp_path, checker=checker, hooks=hooks)
    kept: list[PreparedRun | None] = []

    @ui.async_test
    async def session() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await ui.wait_until(pilot, lambda: bool(ui.workspace_screen(app).query("#brief")))
            await pilot.pause(LEFT_ALONE_S)
            assert checker._runs is None, "a screen left alone prepared a run"
            screen = ui.workspace_screen(app)
            screen.editors["calc.py"].focus()
            await pilot.press("end", "space")
            await ui.wait_until(pilot, lambda: checker.runs is not None and checker.runs.wait_ready(0), timeout=READY_S)
            assert checker.runs is not None
            kept.append(checker.runs.spare)
            await pilot.press("ctrl+r")
            await ui.wait_for_workers(pilot, "run", timeout=READY_S)
            result = screen.last_result
            assert not result.passed and len(result.tests) == 2, result.reason  # the bug
        # The app has exited: the screen went away and took the next run kept ready with it.

    session()
    [(suite, result)] = [args for name, args in hooks.calls if name == "run_finished"]
    assert suite == "visible"
    assert result.run.start == "warm" and result.to_json()["start"] == "warm"  # as run_end has it
    [spare] = kept
    assert spare is not None and not spare.sandbox.run_dir.exists()  # used, and closed
    assert checker.runs is not None and _until(lambda: checker.runs.spare is None)


def test_the_same_as_an_ordinary_user(ordinary_user: str) -> None:
    """Candidates are not root: the pollution and no-leak checks above, run by pytest as the
    ordinary user (its sandbox modes are those an unprivileged user gets here)."""
    home = Path(tempfile.mkdtemp(prefix="tui-assess-warm-user-"))  # outside root's 0700 folders
    try:
        home.chmod(0o777)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "TMPDIR": str(home),
            "TUI_ASSESS_HOME": str(home / "data"),
        }
        chosen = "sees_nothing or discarded or sigkill or time_limit"
        proc = subprocess.run(
            ["runuser", "-u", ordinary_user, "--", "env", "-i",
             *(f"{k}={v}" for k, v in env.items()),
             sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
             "--basetemp", str(home / "basetemp"), "-k", chosen, __file__],
            capture_output=True, text=True, cwd=home, timeout=600,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout, proc.stdout[-2000:]
