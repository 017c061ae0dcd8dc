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


class SessionChecker:
    """The app's checker: `Checks` (made on first use), so each run keeps the next run of its
    suite prepared ahead and the next ctrl+r starts warm. The first run of a session starts
    cold: preparing a run costs about a quarter of a second of CPU, which an idle screen does
    not spend before it is asked for one. A screen calls `discard` when it goes away (then no
    process or run folder of a run kept ready is left)."""

    def __init__(self) -> None:
        self._checks: Any = None
        self._lock = threading.Lock()

    def __call__(
        self,
        challenge: Challenge,
        workspace: Path,
        suite: str,
        on_event: Callable[[Any], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Any:
        with self._lock:
            if self._checks is None:
                from tui_assess.challenge.check import Checks

                self._checks = Checks(hidden=False)  # only ctrl+r's suite waits ready
        return self._checks(challenge, workspace, suite, on_event=on_event, cancel=cancel)

    def discard(self) -> None:
        """End the run kept ready, in the background (one being prepared ends once made)."""
        with self._lock:
            if self._checks is not None:
                self._checks.discard(wait=False)


def is_solved(result: Any) -> bool:
    """A hidden run solves the challenge when it passed and every test passed."""
    return result.status == "pass" and all(t.status in ("pass", "skip") for t in result.tests)
