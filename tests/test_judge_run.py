"""run_suite end to end: what the judge reports, and what the runner makes of it.

Real runs (judge process, sandboxed candidate host); each test asserts on what a candidate
or a grader would see: statuses, capped one-line hidden messages, tests that never reported,
a results pipe written to by anyone but the judge.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui_assess.challenge.check import score_tests
from tui_assess.challenge.model import load_challenge
from tui_assess.judge.plugin import ResultStream, verify_line
from tui_assess.judge.run import _read_results, _State, run_suite
from tui_assess.judge.types import Limits, RunSpec, TestOutcome
from tui_assess.sandbox import modes

FIXTURES = Path(__file__).parent / "fixtures" / "challenges"

MODULE = '''
import os

def value():
    return 1

def long_error():
    raise ValueError("x" * 5000)

def quit_now():
    os._exit(3)
'''

OUTCOMES = '''
import pytest
import mod

def test_passes():
    assert mod.value() == 1

def test_fails_with_a_long_message():
    mod.long_error()

@pytest.mark.skip(reason="s" * 5000)
def test_skipped():
    pass

@pytest.mark.xfail(reason="known to fail: " + "f" * 5000)
def test_xfails():
    assert mod.value() == 2

@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded " + "e" * 5000)

def test_errors(broken):
    pass
'''

DIES = '''
import mod

def test_a_first():
    assert mod.value() == 1

def test_b_kills_the_host():
    mod.quit_now()

def test_c_after():
    assert mod.value() == 1
'''


def _run(tmp_path: Path, tests: dict[str, str], hidden: bool, **limits: float) -> object:
    ws, td = tmp_path / "ws", tmp_path / "tests"
    ws.mkdir()
    td.mkdir()
    (ws / "mod.py").write_text(MODULE)
    for name, code in tests.items():
        (td / name).write_text(code)
    return run_suite(RunSpec(ws, td, Limits(timeout_seconds=60, **limits), show_details=not hidden))


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_every_status_is_reported_with_a_capped_message(tmp_path: Path, hidden: bool) -> None:
    result = _run(tmp_path, {"test_outcomes.py": OUTCOMES}, hidden)
    by_name = {t.name: t for t in result.tests}  # type: ignore[attr-defined]
    assert {n: t.status for n, t in by_name.items()} == {
        "test_passes": "pass",
        "test_fails_with_a_long_message": "fail",
        "test_skipped": "skip",
        "test_xfails": "skip",
        "test_errors": "error",
    }
    cap = 300 if hidden else 4000
    for t in by_name.values():
        assert len(t.message) <= cap, (t.name, len(t.message))
        if hidden:
            assert "\n" not in t.message
    assert by_name["test_passes"].message == ""
    assert "ValueError" in by_name["test_fails_with_a_long_message"].message
    assert "fixture exploded" in by_name["test_errors"].message
    assert by_name["test_xfails"].message.startswith("known to fail")
    # Files are named as in the challenge, never by the run's private layout.
    for t in by_name.values():
        assert "private" not in t.message and "../" not in t.message, t.message
    if not hidden:
        assert "tests/test_outcomes.py:" in by_name["test_fails_with_a_long_message"].message
    assert [n.partition("::")[2] for n in result.expected] == list(by_name)  # type: ignore[attr-defined]
    assert result.judge == "isolated"  # type: ignore[attr-defined]


def test_a_host_that_dies_fails_the_rest_with_a_plain_reason(tmp_path: Path) -> None:
    result = _run(tmp_path, {"test_dies.py": DIES}, hidden=True)
    by_name = {t.name: t for t in result.tests}  # type: ignore[attr-defined]
    assert by_name["test_a_first"].status == "pass"
    assert by_name["test_b_kills_the_host"].status == "fail"
    assert "the candidate's process is gone" in by_name["test_b_kills_the_host"].message
    after = by_name["test_c_after"]
    assert after.status == "fail" and after.message.startswith("Not run: the candidate's process")
    assert result.status == "fail"  # type: ignore[attr-defined]
    assert "exit code 3" in after.message


def test_a_judge_killed_mid_suite_leaves_the_rest_failed_never_pass(tmp_path: Path) -> None:
    suite = '''
import os, signal
import mod

def test_a():
    assert mod.value() == 1

def test_b_the_judge_dies():
    os.kill(os.getpid(), signal.SIGKILL)

def test_c():
    assert mod.value() == 1
'''
    result = _run(tmp_path, {"test_judge_dies.py": suite}, hidden=True)
    by_name = {t.name: t for t in result.tests}  # type: ignore[attr-defined]
    assert set(by_name) == {"test_a", "test_b_the_judge_dies", "test_c"}
    assert by_name["test_a"].status == "pass"
    assert by_name["test_c"].status == "fail"
    assert "never reported" in by_name["test_c"].message.lower()
    assert result.status == "fail"  # type: ignore[attr-defined]


UNREACHABLE_SERVER = '''
import http.server
import socket
import threading
import urllib.request

import pytest

from tui_assess.sandbox.client import current_run


@pytest.fixture(scope="module")
def port():
    """A server on a fixed port, as a suite might hard-code one: outside the run's pool."""
    pool = set(current_run().ports)
    while True:
        probe = socket.socket()
        probe.bind(("127.0.0.2", 0))  # a free port, left as the kernel chose it
        port = probe.getsockname()[1]
        probe.close()
        if port not in pool:
            break
    server = http.server.HTTPServer(("127.0.0.1", port), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port
    server.shutdown()


def test_needs_nothing():
    assert True


def test_calls_the_server(port):
    import mod
    mod.fetch(port)
'''

FETCH = '''
import urllib.error
import urllib.request

def fetch(port):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
    except urllib.error.HTTPError:
        return  # the server answered (501: it has no handlers): reachable
'''


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_a_port_that_cannot_be_forwarded_is_said_on_the_test_and_the_run(
    tmp_path: Path, hidden: bool
) -> None:
    """Landlock mode forwards only the run's port pool: a suite's server on another port is
    not reachable from the candidate's code, and the run says so instead of a bare refusal."""
    why = modes.unavailable("landlock")
    if why:
        pytest.skip(f"the landlock sandbox is not available here: {why}")
    ws, td = tmp_path / "ws", tmp_path / "tests"
    ws.mkdir()
    td.mkdir()
    (ws / "mod.py").write_text(FETCH)
    (td / "test_server.py").write_text(UNREACHABLE_SERVER)
    spec = RunSpec(ws, td, Limits(timeout_seconds=60), show_details=not hidden, sandbox="landlock")
    result = run_suite(spec)
    by_name = {t.name: t for t in result.tests}
    assert by_name["test_needs_nothing"].status == "pass", result.reason
    assert by_name["test_needs_nothing"].message == ""
    failed = by_name["test_calls_the_server"]
    assert failed.status == "fail", (failed.message, result.reason)
    note = "The tests' server on 127.0.0.1:"
    assert failed.message.startswith(note), failed.message
    assert "cannot be reached from the candidate's code: port " in failed.message
    assert "not in this run's port pool" in failed.message
    if hidden:
        assert "\n" not in failed.message
    assert note in result.reason and "port pool" in result.reason, result.reason


def test_lines_not_signed_by_the_judge_mark_the_run_tampered(tmp_path: Path) -> None:
    key = b"k" * 32
    rfd, wfd = os.pipe()
    stream = ResultStream(wfd, key)
    stream.emit({"event": "collected", "tests": ["t.py::test_a"], "errors": []})
    os.write(wfd, b'{"event": "result", "nodeid": "t.py::test_a", "status": "pass", "seq": 2} 00\n')
    stream.emit({"event": "result", "nodeid": "t.py::test_a", "status": "fail", "duration": 0,
                 "message": ""})
    os.write(wfd, b"garbage with no line break")  # must not swallow the judge's next line
    stream.emit({"event": "result", "nodeid": "t.py::test_b", "status": "pass", "duration": 0,
                 "message": ""})
    os.close(wfd)
    state = _State(RunSpec(tmp_path, tmp_path), None, key)
    _read_results(state, rfd)
    assert state.tampered
    assert {n: t.status for n, t in state.results.items()} == {
        "t.py::test_a": "fail", "t.py::test_b": "pass"}
    assert verify_line('{"seq": 1} ' + "0" * 64, key) is None


def test_a_group_is_divided_over_its_expected_tests() -> None:
    challenge = load_challenge(FIXTURES / "tiny-sum")
    reported = [TestOutcome("test_correctness.py::test_one", "test_one", "test_correctness.py", "pass")]
    expected = [f"test_correctness.py::test_{n}" for n in ("one", "two", "three", "four")]
    scored = score_tests(challenge, "hidden", reported, expected)
    assert scored.groups["correctness"] == (17.5, 70.0)  # 1 of 4 expected, not 1 of 1
    assert [t.status for t in scored.tests].count("fail") == 3
