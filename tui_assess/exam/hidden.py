"""A hidden run during an exam: the suite comes from the opened pack, in memory."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from tui_assess.challenge.check import CheckResult, score_tests
from tui_assess.challenge.model import Challenge
from tui_assess.exam.pack import PackedChallenge
from tui_assess.judge.run import run_suite
from tui_assess.judge.types import RunSpec


def write_suite(files: dict[str, bytes], dest: Path) -> None:
    """Write an in-memory suite into a new folder only this user can read."""
    dest.mkdir(mode=0o700)
    for rel, data in files.items():
        target = dest.joinpath(*PurePosixPath(rel).parts)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def run_hidden(
    packed: PackedChallenge,
    challenge: Challenge,
    workspace: Path,
    *,
    on_event: Callable[[Any], None] | None = None,
    cancel: threading.Event | None = None,
) -> CheckResult:
    """Run the pack's hidden suite against ``workspace``; nothing of it stays on disk."""
    private = Path(tempfile.mkdtemp(prefix="tui-assess-exam-"))
    try:
        write_suite(packed.hidden_suite(), private / "tests")
        spec = RunSpec(workspace=workspace, tests=private / "tests", limits=challenge.limits,
                       show_details=False, generated=challenge.generated_files)
        run = run_suite(spec, on_event=on_event, cancel=cancel)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    result = score_tests(challenge, "hidden", run.tests)
    result.run = run
    return result
