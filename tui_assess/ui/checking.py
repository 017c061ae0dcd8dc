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
    """The app's checker: `Checks` (made on first use), so each run keeps the next one of its
    suite prepared ahead and ctrl+r starts warm. A screen calls `prepare` when it opens and
    `discard` when it goes away (then no process or run folder of a spare is left)."""

    def __init__(self) -> None:
        self._checks: Any = None
        self._lock = threading.Lock()
        self._asked = 0  # prepare() and discard() count up: a late prepare of an old ask is void

    def _get(self) -> Any:
        with self._lock:
            if self._checks is None:
                from tui_assess.challenge.check import Checks

                self._checks = Checks(hidden=False)  # only ctrl+r's suite waits ready
            return self._checks

    def __call__(
        self,
        challenge: Challenge,
        workspace: Path,
        suite: str,
        on_event: Callable[[Any], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Any:
        return self._get()(challenge, workspace, suite, on_event=on_event, cancel=cancel)

    def prepare(self, challenge: Challenge, suite: str = "visible") -> None:
        """Start preparing a run of this suite in the background (never blocks the UI)."""
        with self._lock:
            self._asked += 1
            ask = self._asked

        def keep_ready() -> None:
            checks = self._get()
            with self._lock:
                if ask == self._asked:  # not discarded meanwhile
                    checks.keep_ready(challenge, suite)

        threading.Thread(target=keep_ready, name="prepare-run", daemon=True).start()

    def discard(self) -> None:
        """End the run kept ready, in the background (one being prepared ends once made)."""
        with self._lock:
            self._asked += 1
            if self._checks is not None:
                self._checks.discard(wait=False)


def is_solved(result: Any) -> bool:
    """A hidden run solves the challenge when it passed and every test passed."""
    return result.status == "pass" and all(t.status in ("pass", "skip") for t in result.tests)
