"""RecorderHooks: the UI's SessionHooks seam, recorded."""

from __future__ import annotations

import inspect
import time
from pathlib import Path

from tui_assess.challenge.check import CheckResult, ScoredTest
from tui_assess.challenge.model import load_challenge
from tui_assess.judge import types as rt
from tui_assess.session import Timeline, verify
from tui_assess.session.hooks import RecorderHooks

FIXTURE = Path(__file__).parent / "fixtures" / "challenges" / "tiny-sum"


def make_workspace(root: Path) -> Path:
    ws = root / "ws"
    ws.mkdir()
    (ws / "orders.py").write_text("def total(xs):\n    return 0\n")
    (ws / "__pycache__").mkdir()
    (ws / "__pycache__" / "orders.cpython-311.pyc").write_bytes(b"\0")
    return ws


def result(suite: str, status: str, score: float) -> CheckResult:
    run = rt.RunResult(status, [], rt.Resources(1.0, 0.5, 40.0, 2, None), "rlimits", {},
                       "s" * 64, samples=[rt.ResourceSample(0.1, 20.0, 30.0, 2)])
    tests = [ScoredTest("test_sum", "correctness", status, 0.1, "", 100.0, "test_orders.py")]
    return CheckResult("tiny-sum", suite, run, tests, score, 100.0)  # type: ignore[arg-type]


def test_a_tui_session_through_the_hooks(tmp_path: Path) -> None:
    challenge = load_challenge(FIXTURE)
    ws = make_workspace(tmp_path)
    hooks = RecorderHooks(candidate="ada", sessions_dir=tmp_path / "sessions",
                          sample_interval=None)
    hooks.session_started(challenge, ws, "exam", 600.0)
    left = hooks.seconds_left()
    assert left is not None and 590 < left <= 600
    hooks.file_opened("orders.py", "def total(xs):\n    return 0\n")
    hooks.edited("orders.py", 26, 1, "sum(xs)")
    (ws / "orders.py").write_text("def total(xs):\n    return sum(xs)\n")
    hooks.saved("orders.py", "def total(xs):\n    return sum(xs)\n")
    hooks.pasted("orders.py", "x")
    hooks.focus_changed(False)
    hooks.focus_changed(True)
    hooks.run_started("visible")
    hooks.resource_sample(rt.ResourceSample(0.2, 55.0, 33.3, 3))
    hooks.run_finished("visible", result("visible", "pass", 100.0))
    hooks.hint_shown(0, "a hint")
    hooks.resized(90, 30)
    hooks.note("used sum()")
    hooks.run_started("hidden")
    hooks.run_finished("hidden", result("hidden", "pass", 100.0))
    hooks.submitted(result("hidden", "pass", 100.0))
    hooks.session_ended()
    assert hooks.recorder is None and hooks.final_link
    path = tmp_path / "sessions" / "exam-tiny-sum.tasession"
    report = verify(path)
    assert report.ok and report.final_link == hooks.final_link
    with Timeline.open(path) as tl:
        assert tl.session_start is not None
        assert tl.session_start["challenge_hash"] == challenge.content_hash()
        assert tl.session_start["candidate"] == "ada"
        state = tl.state_at()
        runs = tl.runs()
        submit = next(e for e in tl.events() if e.kind == "submit")
        run_samples = tl.resource_series(scope="run")
    assert state == {"orders.py": "def total(xs):\n    return sum(xs)\n"}  # no __pycache__
    assert [(r["suite"], r["status"], r["score"]) for r in runs] == [
        ("visible", "pass", 100.0), ("hidden", "pass", 100.0)]
    assert runs[0]["tests"][0]["group"] == "correctness" and runs[0]["samples"]
    assert submit.payload["score"] == 100.0 and submit.payload["status"] == "pass"
    assert run_samples and run_samples[0]["cpu"] == 55.0


def test_restarting_resumes_with_the_recorded_deadline(tmp_path: Path) -> None:
    challenge = load_challenge(FIXTURE)
    ws = make_workspace(tmp_path)
    first = RecorderHooks(sessions_dir=tmp_path / "s", sample_interval=None)
    first.session_started(challenge, ws, "exam", 600.0)
    assert first.recorder is not None
    deadline = first.recorder.deadline
    first.recorder.flush()
    first.recorder._closed = True  # the app was killed
    time.sleep(0.05)
    again = RecorderHooks(sessions_dir=tmp_path / "s", sample_interval=None)
    again.session_started(challenge, ws, "exam", 600.0)  # the app offers a full time again
    assert again.recorder is not None and again.recorder.resumed
    assert again.recorder.deadline == deadline
    left = again.seconds_left()
    assert left is not None and left < 600 - 0.05
    again.session_ended()


def test_recorder_hooks_provide_every_ui_hook() -> None:
    """Every SessionHooks method of the UI exists here with the same parameters."""
    ui_hooks = Path(__file__).resolve().parents[1] / "tui_assess" / "ui" / "hooks.py"
    if not ui_hooks.exists():  # the UI seam lands with the TUI branch
        return
    from tui_assess.ui.hooks import SessionHooks

    for name, fn in inspect.getmembers(SessionHooks, inspect.isfunction):
        if name.startswith("_"):
            continue
        ours = getattr(RecorderHooks, name)
        assert list(inspect.signature(ours).parameters) == \
            list(inspect.signature(fn).parameters), name
