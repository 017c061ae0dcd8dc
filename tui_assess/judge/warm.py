"""Runs prepared ahead: a test run that starts warm.

A cold run pays, before the first test, for the sandbox's supervisor, a judge interpreter
importing pytest, the plugin and the suite's conftest, and the candidate host's interpreter.
None of that depends on the candidate's code, so a `WarmRuns` keeps ONE run of the suite it
last ran (or was asked to keep ready) prepared ahead — a `PreparedRun`, waiting — and a run
asked for takes it: the workspace is copied in and the judge told to go. The next one is
prepared on a thread of its own after the run has closed.

Every guarantee of a run holds by construction: a run never reuses anything of another one
(its own run folder, supervisor, judge, host and results key; the workspace copied in fresh
at the start), the limits and the clock start when the run does, and the candidate's host
never sees the tests or the judge's folder. A spare never outlives its owner: `close()`
(a screen going away), interpreter exit, and a killed owner (its supervisor dies with the
thread that made it and removes the run) all end it.

Where a spare cannot be used (none ready for this suite, the suite's files changed since, the
judge died while waiting, or preparing failed) the run starts cold, and says so in
`RunResult.start`.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
import weakref

from tui_assess.judge.run import EventSink, PreparedRun, SuiteKey, run_suite
from tui_assess.judge.types import RunResult, RunSpec
from tui_assess.sandbox.spec import SandboxError

READY_WAIT_S = 15.0
"""How long a run waits for a spare still being prepared (it is ahead of a cold start)."""

_live: weakref.WeakSet[WarmRuns] = weakref.WeakSet()


class WarmRuns:
    """`run(spec)` like run_suite, from a run prepared ahead when one fits. Thread-safe.

    One per session (a workspace screen, a `challenge validate` of one folder): it keeps at
    most one spare, for the suite last run (or asked for). The next spare is prepared after a
    run has closed (a person waits for each run: it gets both cores), or, with `overlap`,
    while it goes (a batch of runs: validation).
    """

    def __init__(self, overlap: bool = False, hidden: bool = True) -> None:
        self.overlap = overlap
        self.hidden = hidden
        """Whether runs of a hidden suite are prepared ahead too. A candidate's session says
        no: outside namespaces mode a spare's suite waits on disk (in a folder only this user
        may read), and a hidden suite should be there only while it runs."""
        self._cond = threading.Condition()
        self._want: SuiteKey | None = None  # what to keep ready
        self._spare: PreparedRun | None = None
        self._preparing: SuiteKey | None = None
        self._failed: SuiteKey | None = None  # preparing this failed: no retry loop
        self._running = 0
        self._generation = 0  # discard() starts a new one: runs of an older one re-arm nothing
        self._closed = False
        self._thread: threading.Thread | None = None
        _live.add(self)

    # -- what to keep ready ----------------------------------------------------------------

    def keep_ready(self, spec: RunSpec) -> None:
        """Prepare a run of spec's suite (its workspace does not matter) in the background.
        A spare of another suite is no longer wanted: it is ended (in the background)."""
        key = SuiteKey.of(spec)
        with self._cond:
            if key.hidden and not self.hidden:
                return
            stale = self._spare if self._spare is not None and self._spare.key != key else None
            if stale is not None:
                self._spare = None
            self._arm(key)
        if stale is not None:
            threading.Thread(target=stale.discard, name="warm-discard").start()

    def _arm(self, key: SuiteKey) -> None:
        """Keep a run of `key` ready from now on (the lock held)."""
        if self._closed or (key.hidden and not self.hidden):
            return
        self._want = key
        self._failed = None
        if self._thread is None:
            # The thread that makes a spare must outlive it (its supervisor dies with it).
            self._thread = threading.Thread(target=self._keeper, name="warm-runs", daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def _keeper(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._needs_spare():
                    self._cond.wait()
                if self._closed:
                    break
                key = self._want
                assert key is not None
                self._preparing = key
            spare: PreparedRun | None = None
            with contextlib.suppress(SandboxError, OSError):
                spare = PreparedRun(key)
            with self._cond:
                keep = (
                    spare is not None
                    and not self._closed
                    and self._spare is None
                    and self._want == key
                )
                if spare is None:
                    self._failed = key
                elif keep:
                    self._spare = spare
            if spare is not None and not keep:
                spare.discard()  # no longer wanted: ended before anyone waiting hears of it
            with self._cond:
                self._preparing = None
                self._cond.notify_all()
        self._discard_spare()

    def _needs_spare(self) -> bool:
        return (
            self._want is not None
            and self._want != self._failed
            and self._spare is None
            and (self._running == 0 or self.overlap)
        )

    # -- runs -----------------------------------------------------------------------------

    def run(
        self,
        spec: RunSpec,
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        """Run spec like run_suite; warm when a spare fits, cold otherwise. Then keep a run of
        the same suite ready for the next call."""
        key = SuiteKey.of(spec)
        spare, generation = self._take(key)
        try:
            if spare is None:
                return run_suite(spec, on_event, cancel)
            # Normally ready long ago; if it is still starting, wait (it is ahead of a cold
            # start), but never past a cancel.
            deadline = time.monotonic() + READY_WAIT_S
            while spare.usable and not spare.wait_ready(0.05) and time.monotonic() < deadline:
                if cancel is not None and cancel.is_set():
                    break
            warm = spare.wait_ready(0)
            return spare.run(spec, on_event, cancel, start="warm" if warm else "cold")
        finally:
            with self._cond:
                self._running -= 1
                if generation == self._generation:
                    self._arm(key)
                self._cond.notify_all()

    def _take(self, key: SuiteKey) -> tuple[PreparedRun | None, int]:
        """The spare for `key` (waiting for one being prepared) or None, and the generation;
        counts a run."""
        stale: PreparedRun | None = None
        with self._cond:
            self._running += 1
            generation = self._generation
            while self._preparing == key and not self._closed:
                self._cond.wait()
            spare = self._spare
            if spare is not None and spare.key == key and spare.usable:
                self._spare = None
            elif spare is not None and (not spare.usable or _same_suite(spare.key, key)):
                stale, spare, self._spare = spare, None, None  # its suite changed since
            else:
                spare = None  # none, or one for another suite: kept for that one
            if self.overlap:
                self._arm(key)
        if stale is not None:
            stale.discard()
        return spare, generation

    @property
    def spare(self) -> PreparedRun | None:
        """The run kept ready now, if any (to look at, not to use: `run` uses it)."""
        with self._cond:
            return self._spare

    def wait_ready(self, timeout: float) -> bool:
        """True once a spare for what is kept ready is waiting (within `timeout` seconds)."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._spare is None or self._spare.key != self._want:
                left = end - time.monotonic()
                if left <= 0 or self._closed or self._want is None or self._want == self._failed:
                    return False
                self._cond.wait(left)
            spare = self._spare
        return spare.wait_ready(max(0.0, end - time.monotonic()))

    # -- the end ----------------------------------------------------------------------------

    def discard(self, wait: bool = True) -> None:
        """Keep nothing ready any more (until the next `keep_ready` or run): the spare, and one
        being prepared, are ended (with `wait`, before this returns). A run going on now does
        not re-arm it when it ends."""
        with self._cond:
            self._want = None
            self._generation += 1
            self._cond.notify_all()
            if not wait:
                spare, self._spare = self._spare, None
                if spare is not None:
                    threading.Thread(target=spare.discard, name="warm-discard").start()
                return
            while self._preparing is not None and not self._closed:
                self._cond.wait()
        self._discard_spare()

    def close(self, wait: bool = True) -> None:
        """End the spare (and one being prepared); no process or run folder of it is left once
        this returns (with `wait`). Later runs are cold."""
        with self._cond:
            self._closed = True
            self._want = None
            self._cond.notify_all()
            thread = self._thread
        self._discard_spare()
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join(READY_WAIT_S + 5.0)

    def _discard_spare(self) -> None:
        with self._cond:
            spare, self._spare = self._spare, None
        if spare is not None:
            with contextlib.suppress(Exception):
                spare.discard()

    def __enter__(self) -> WarmRuns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _same_suite(a: SuiteKey, b: SuiteKey) -> bool:
    return a.tests == b.tests and a.hidden == b.hidden


@atexit.register
def _close_all() -> None:
    for runs in list(_live):
        runs.close()
