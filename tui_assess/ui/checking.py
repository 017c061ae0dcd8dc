"""How the UI runs tests: one checker, a thin adapter over challenge.check.run_check.

A `SessionChecker` is called like run_check (blocking, on a worker thread) and keeps, for the
app's session, the next run of the visible suite prepared ahead (tui_assess.judge.warm), so
ctrl+r starts warm. The plain checker (`default_checker`, the replay's) is the same class with
nothing kept ready. How one run happens is its `run` method: the real sandboxed run here, the
exam's (hidden runs from the pack) in the exam, a scripted one in the UI tests. Everything it
needs is imported on first use, which keeps start-up fast.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from tui_assess.challenge.model import Challenge

if TYPE_CHECKING:
    from tui_assess.judge.warm import WarmRuns


@dataclass(frozen=True)
class CheckRequest:
    """One run a screen asks for."""

    challenge: Challenge
    workspace: Path
    suite: str
    """"visible" or "hidden"."""
    on_event: Callable[[Any], None] | None = None
    """Called (from the run's threads) with each TestStarted, TestFinished, ResourceSample."""
    cancel: threading.Event | None = None
    """Set to stop the run (its processes are killed)."""


class SessionChecker:
    """Runs a challenge's tests for a screen, and keeps the next run ready.

    With `warm` (the app's checker) a `WarmRuns`, made on first use, keeps ONE run of the
    visible suite prepared ahead: `prepare` asks for it (the workspace screen does at the
    first edit: preparing costs about a quarter of a second of CPU, which a screen left alone
    does not spend), and each run re-arms it for the next ctrl+r. Hidden suites are never
    kept waiting. A screen calls `discard` when it goes away (then no process or run folder
    of a run kept ready is left). Without `warm` every run starts cold and nothing is kept.
    Thread-safe.
    """

    def __init__(self, warm: bool = True) -> None:
        self.warm = warm
        self._runs: WarmRuns | None = None
        self._generation = 0  # discard() starts a new one: older prepare() calls do nothing
        self._lock = threading.Lock()

    def __call__(
        self,
        challenge: Challenge,
        workspace: Path,
        suite: str,
        on_event: Callable[[Any], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Any:
        return self.run(CheckRequest(challenge, workspace, suite, on_event, cancel))

    def run(self, request: CheckRequest) -> Any:
        """One run (blocking): a CheckResult, through a run prepared ahead when one fits."""
        from tui_assess.challenge.check import Suite, run_check

        return run_check(request.challenge, request.workspace, cast(Suite, request.suite),
                         request.on_event, request.cancel, runs=self.runs)

    @property
    def runs(self) -> WarmRuns | None:
        """The session's runs kept ready (made on first use); None when not `warm`."""
        if not self.warm:
            return None
        with self._lock:
            if self._runs is None:
                from tui_assess.judge.warm import WarmRuns

                self._runs = WarmRuns(hidden=False)  # only ctrl+r's suite waits ready
            return self._runs

    def prepare(self, challenge: Challenge, suite: str = "visible") -> None:
        """Have a run of `suite` prepared ahead, so that the next run starts warm (a spare of
        another challenge's suite is ended). Returns at once: what it imports and starts
        happens on a thread (the caller is the UI's). Nothing when not `warm`, or for a
        hidden suite."""
        if not self.warm:
            return
        with self._lock:
            generation = self._generation
        threading.Thread(target=self._prepare, args=(challenge, suite, generation),
                         name="warm-prepare", daemon=True).start()

    def _prepare(self, challenge: Challenge, suite: str, generation: int) -> None:
        from tui_assess.challenge.check import Suite, check_spec

        spec = check_spec(challenge, Path(), cast(Suite, suite))
        runs = self.runs
        with self._lock:
            if runs is not None and generation == self._generation:  # not discarded since
                runs.keep_ready(spec)

    def discard(self) -> None:
        """End the run kept ready, in the background (one being prepared ends once made)."""
        with self._lock:
            self._generation += 1
            runs = self._runs
        if runs is not None:
            runs.discard(wait=False)


Checker = SessionChecker
"""What a screen takes to run tests (the type; any SessionChecker, whatever its `run`)."""

default_checker = SessionChecker(warm=False)
"""The plain checker: every run cold, nothing kept ready (the replay's re-runs)."""


def is_solved(result: Any) -> bool:
    """A hidden run solves the challenge when it passed and every test passed."""
    return result.status == "pass" and all(t.status in ("pass", "skip") for t in result.tests)
