"""How the UI runs tests: a thin adapter over challenge.check.run_check (headless, blocking).

The app takes a `Checker` so tests can substitute a fake; the default imports the real
run_check lazily (it is only needed when a run starts, which keeps start-up fast).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, cast

from tui_assess.challenge.model import Challenge


class Checker(Protocol):
    def __call__(
        self,
        challenge: Challenge,
        workspace: Path,
        suite: str,
        on_event: Callable[[Any], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Any: ...


def default_checker(
    challenge: Challenge,
    workspace: Path,
    suite: str,
    on_event: Callable[[Any], None] | None = None,
    cancel: threading.Event | None = None,
) -> Any:
    from tui_assess.challenge.check import Suite, run_check

    return run_check(challenge, workspace, cast(Suite, suite), on_event=on_event, cancel=cancel)


def is_solved(result: Any) -> bool:
    """A hidden run solves the challenge when it passed and every test passed."""
    return result.status == "pass" and all(t.status in ("pass", "skip") for t in result.tests)
