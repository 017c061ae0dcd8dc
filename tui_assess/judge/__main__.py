"""The judge process: `python -P -m tui_assess.judge --tests DIR --workspace DIR ...`.

Started by the runner (tui_assess.judge.run) inside the run, never sandboxed: it runs the
suite, which is trusted. It makes itself non-dumpable first, so processes of the same user
(the candidate's, in the modes that cannot isolate them) cannot read its memory or open its
file descriptors through /proc, nor attach a debugger.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from pathlib import Path

PR_SET_DUMPABLE = 4
KEY_ENV = "TUI_ASSESS_RESULT_KEY"


def not_dumpable() -> None:
    """Processes of the same user can no longer open this one's /proc entries or attach to it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def pytest_args(tests: Path, scratch: Path, suite: str) -> list[str]:
    return [
        "-p",
        "no:cacheprovider",
        "-c",
        str(tests / "pytest.ini"),
        "--rootdir",
        str(tests),
        "--confcutdir",
        str(tests),
        "--basetemp",
        str(scratch / "pytest"),
        "-s",
        "-q",
        "--no-header",
        "-rN",
        "--color=no",
        "--tb=short" if suite == "visible" else "--tb=no",
        str(tests),
    ]


def main(argv: list[str] | None = None) -> int:
    not_dumpable()
    key = bytes.fromhex(os.environ.pop(KEY_ENV, ""))
    parser = argparse.ArgumentParser(prog="python -m tui_assess.judge")
    parser.add_argument("--tests", type=Path, required=True)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--scratch", type=Path, required=True)
    parser.add_argument("--host-dir", type=Path, required=True)
    parser.add_argument("--suite", choices=("visible", "hidden"), default="visible")
    parser.add_argument("--results-fd", type=int, default=-1)
    args = parser.parse_args(argv)

    import pytest

    from tui_assess.judge.plugin import JudgeConfig, JudgePlugin

    config = JudgeConfig(
        tests=args.tests.resolve(),
        workspace=args.workspace.resolve(),
        scratch=args.scratch.resolve(),
        host_dir=args.host_dir.resolve(),
        suite=args.suite,
        results_fd=args.results_fd,
        key=key,
    )
    plugin = JudgePlugin(config)
    return int(pytest.main(pytest_args(config.tests, config.scratch, args.suite), plugins=[plugin]))


if __name__ == "__main__":
    sys.exit(main())
