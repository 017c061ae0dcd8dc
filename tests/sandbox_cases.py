"""Hostile candidate code (resource abuse) and the checks every case must pass.

The attack lives where a candidate's would: in the workspace (`hostile.py`), run in the
sandboxed candidate host; the test that calls it is trusted and runs in the judge.

Shared by tests/test_hostile.py (as root, in each sandbox mode) and by the unprivileged-user
run in tests/test_hostile_unprivileged.py, which executes this module as a script.
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from tui_assess.judge.run import run_suite
from tui_assess.judge.types import Limits, RunResult, RunSpec

CALL_IT = "import hostile\n\n\ndef test_it():\n    hostile.run()\n"
"""The trusted side of most cases: one test calling the candidate's code."""


@dataclass(frozen=True)
class Case:
    name: str
    module: str
    """hostile.py, in the workspace: the candidate's code."""
    limits: Limits
    expect_status: str
    expect_limit: str | None
    max_seconds: float
    words: str  # plain words the reason must contain
    test_code: str = CALL_IT


FAST = Limits(timeout_seconds=4, memory_mb=256, processes=24, output_kb=64)

CASES = [
    Case(
        "endless_loop",
        "def run():\n    while True:\n        pass\n",
        FAST,
        "timeout",
        "time",
        15,
        "time limit",
    ),
    Case(
        "sleep_past_wall",
        "import time\n\n\ndef run():\n    time.sleep(600)\n",
        FAST,
        "timeout",
        "time",
        15,
        "time limit",
    ),
    Case(
        "fork_storm",
        textwrap.dedent(
            """
            import os
            def run():
                while True:
                    try:
                        os.fork()
                    except OSError:
                        pass
            """
        ),
        Limits(timeout_seconds=30, memory_mb=512, processes=24, output_kb=64),
        "limit",
        "processes",
        15,
        "processes",
    ),
    Case(
        "memory_bomb",
        textwrap.dedent(
            """
            def run():
                hoard = []
                while True:
                    hoard.append(bytearray(8 * 1024 * 1024))
                    hoard[-1][::4096] = b"x" * len(hoard[-1][::4096])
            """
        ),
        Limits(timeout_seconds=30, memory_mb=256, processes=24, output_kb=64),
        "limit",
        "memory",
        15,
        "memory",
    ),
    Case(
        "output_flood",
        textwrap.dedent(
            """
            import os, sys
            def run():
                chunk = b"y" * 65536
                for _ in range(1700):  # about 110 MB, half to stdout, half to stderr
                    os.write(1, chunk)
                    os.write(2, chunk)
            """
        ),
        Limits(timeout_seconds=30, memory_mb=512, processes=24, output_kb=64),
        "limit",
        "output",
        15,
        "output",
    ),
    Case(
        "setsid_escape",
        textwrap.dedent(
            """
            import os, subprocess, sys, time
            def run():
                # A grandchild in its own session, whose parent exits at once.
                pid = os.fork()
                if pid == 0:
                    os.setsid()
                    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                                     start_new_session=True)
                    os._exit(0)
                os.waitpid(pid, 0)
                time.sleep(0.5)
            """
        ),
        Limits(timeout_seconds=30, memory_mb=512, processes=24, output_kb=64),
        "pass",
        None,
        20,
        "",
    ),
]


def network_case(port: int) -> Case:
    return Case(
        "loopback_listener",
        textwrap.dedent(
            """
            import socket
            def interfaces():
                print("INTERFACES", sorted(name for _, name in socket.if_nameindex()))
            def reach(port):
                s = socket.socket()
                s.settimeout(2)
                try:
                    s.connect(("127.0.0.1", port))
                except OSError as exc:
                    print("CONNECT", "refused", exc)
                    return "refused"
                s.sendall(b"escaped")
                print("CONNECT", "reached")
                return "reached"
            """
        ),
        Limits(timeout_seconds=20, memory_mb=512, processes=24, output_kb=64),
        "pass",
        None,
        20,
        "",
        test_code=textwrap.dedent(
            f"""
            import hostile
            def test_interfaces():
                hostile.interfaces()
            def test_reach_host_listener():
                assert hostile.reach({port}) == "refused", "reached the host's loopback listener"
            """
        ),
    )


def run_case(case: Case, sandbox: str = "auto") -> tuple[RunResult, float, list[int]]:
    """Run one case; return the result, its duration and the pids of any survivor."""
    with tempfile.TemporaryDirectory() as tmp:
        ws, tests = Path(tmp, "ws"), Path(tmp, "tests")
        ws.mkdir()
        tests.mkdir()
        (ws / "hostile.py").write_text(case.module)
        (tests / f"test_{case.name}.py").write_text(case.test_code)
        spec = RunSpec(ws, tests, case.limits, sandbox=sandbox)
        start = time.monotonic()
        result = run_suite(spec)
        elapsed = time.monotonic() - start
    time.sleep(0.2)
    return result, elapsed, survivors_of(result.run_id)


def survivors_of(run_id: str) -> list[int]:
    """Processes whose command line or working folder belongs to the run."""
    found = []
    for p in psutil.process_iter(["pid", "cmdline", "cwd"]):
        try:
            text = " ".join(p.info["cmdline"] or []) + " " + (p.info["cwd"] or "")
        except (psutil.Error, TypeError):
            continue
        if run_id and run_id in text and p.status() != psutil.STATUS_ZOMBIE:
            found.append(p.info["pid"])
    return found


def check_case(case: Case, result: RunResult, elapsed: float, left: list[int]) -> list[str]:
    """Problems with one case's outcome (empty when contained and reported)."""
    problems = []
    if result.status != case.expect_status:
        problems.append(f"status {result.status!r}, expected {case.expect_status!r}")
    if result.resources.limit_hit != case.expect_limit:
        problems.append(f"limit_hit {result.resources.limit_hit!r}, expected {case.expect_limit!r}")
    if case.words and case.words not in result.reason:
        problems.append(f"reason {result.reason!r} lacks {case.words!r}")
    if elapsed > case.max_seconds:
        problems.append(f"took {elapsed:.1f} s, more than {case.max_seconds} s")
    if left:
        problems.append(f"{len(left)} process(es) outlived the run: {left}")
    return problems


def main() -> int:
    """Script mode (unprivileged user): run every case, print one JSON line per case."""
    sandbox = sys.argv[1] if len(sys.argv) > 1 else "auto"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    cases = [*CASES, network_case(listener.getsockname()[1])]
    for case in cases:
        result, elapsed, left = run_case(case, sandbox)
        print(
            json.dumps(
                {
                    "case": case.name,
                    "sandbox": result.sandbox,
                    "guarantees": result.guarantees,
                    "elapsed": round(elapsed, 2),
                    "problems": check_case(case, result, elapsed, left),
                    "output_head": result.output[:2000],
                }
            ),
            flush=True,
        )
    listener.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
