"""Hostile candidate code is contained and reported in plain words, in every sandbox mode.

Each case asserts the status, the limit hit, the words of the reason, how long containment
took, and that no process of the run survives it. The same cases run as an unprivileged user in
test_hostile_unprivileged.py.
"""

from __future__ import annotations

import socket

import pytest
from sandbox_cases import CASES, check_case, network_case, run_case

from tui_assess.sandbox import modes

NS_WHY = modes.unavailable("namespaces")
NS_OK = not NS_WHY
MODES = [
    pytest.param(m, marks=pytest.mark.skipif(bool(modes.unavailable(m)), reason=f"{m} unavailable here: {modes.unavailable(m)}"))
    for m in modes.MODES
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case_is_contained(case, mode: str) -> None:
    result, elapsed, left = run_case(case, mode)
    assert result.sandbox == mode
    problems = check_case(case, result, elapsed, left)
    assert not problems, f"{case.name} in {mode}: {problems}\n{result.output[-1500:]}"


@pytest.mark.parametrize("mode", MODES)
def test_output_flood_keeps_a_marker(mode: str) -> None:
    case = next(c for c in CASES if c.name == "output_flood")
    result, _, _ = run_case(case, mode)
    assert len(result.output.encode()) < 80 * 1024
    assert "output cut at 64 KB" in result.output


@pytest.fixture
def host_listener():
    """A listener on the host's loopback, outside any run. Only 127.0.0.1 is ever used."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    s.settimeout(0.2)
    yield s
    s.close()


def _reached(listener: socket.socket) -> bool:
    try:
        conn, _ = listener.accept()
    except OSError:
        return False
    conn.close()
    return True


@pytest.mark.skipif(not NS_OK, reason=f"namespaces unavailable here: {NS_WHY}")
def test_namespaces_see_only_loopback_and_cannot_reach_host(host_listener) -> None:
    case = network_case(host_listener.getsockname()[1])
    result, elapsed, left = run_case(case, "namespaces")
    assert result.status == "pass", result.output
    assert "INTERFACES ['lo']" in result.output
    assert "CONNECT refused" in result.output
    assert not _reached(host_listener)
    assert result.guarantees["network"].startswith("isolated")
    assert not left


def test_rlimits_fallback_reports_no_network_isolation(host_listener) -> None:
    """The fallback cannot isolate the network; it must say so rather than pretend."""
    case = network_case(host_listener.getsockname()[1])
    result, _, left = run_case(case, "rlimits")
    assert result.guarantees["network"].startswith("NOT isolated")
    assert "CONNECT reached" in result.output
    assert result.status == "fail"
    assert not left
