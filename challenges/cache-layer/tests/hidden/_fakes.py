"""Test doubles: a hand-driven clock and an upstream service the tests can hold and fail."""

from __future__ import annotations

import contextlib
import threading
from typing import Any


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class UpstreamError(Exception):
    pass


class FakeService:
    """Counts calls. Instant unless told otherwise:

    - hold(n): the next n get() calls read their value, then wait until release();
    - fail(n): the next n get() calls raise UpstreamError (after any hold);
    - fail_puts(n): the next n put() calls raise UpstreamError and store nothing;
    - rendezvous(n): get() calls wait until n of them are in flight at once (or time out).
    """

    def __init__(self, data: dict | None = None, default: Any = "missing", record: bool = True):
        self.data = dict(data or {})
        self.default = default
        self.record = record  # keep keys_loaded (memory tests turn it off)
        self.get_calls = 0
        self.put_calls = 0
        self.keys_loaded: list = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.entered = threading.Semaphore(0)  # released once per get() call
        self._lock = threading.Lock()
        self._gate = threading.Event()
        self._gate.set()
        self._hold_next = 0
        self._fail_next = 0
        self._fail_puts = 0
        self._barrier: threading.Barrier | None = None

    def hold(self, n: int = 1) -> None:
        self._hold_next = n
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def fail(self, n: int = 1) -> None:
        self._fail_next = n

    def fail_puts(self, n: int = 1) -> None:
        self._fail_puts = n

    def rendezvous(self, n: int, timeout: float) -> None:
        self._barrier = threading.Barrier(n, timeout=timeout)

    def wait_entered(self, n: int = 1, timeout: float = 5.0) -> bool:
        return all(self.entered.acquire(timeout=timeout) for _ in range(n))

    def get(self, key):
        with self._lock:
            self.get_calls += 1
            if self.record:
                self.keys_loaded.append(key)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            value = self.data.get(key, self.default)
            held = self._hold_next > 0
            if held:
                self._hold_next -= 1
            failing = self._fail_next > 0
            if failing:
                self._fail_next -= 1
        self.entered.release()
        try:
            if held:
                self._gate.wait(timeout=10)
            if self._barrier is not None:
                with contextlib.suppress(threading.BrokenBarrierError):
                    self._barrier.wait()  # on timeout the test reads max_in_flight
            if failing:
                raise UpstreamError(f"pricing service timed out for {key!r}")
            return value
        finally:
            with self._lock:
                self.in_flight -= 1

    def put(self, key, value) -> None:
        with self._lock:
            self.put_calls += 1
            if self._fail_puts > 0:
                self._fail_puts -= 1
                raise UpstreamError(f"pricing service rejected the write to {key!r}")
            self.data[key] = value


class Call:
    """Run fn(*args) in a daemon thread, so a cache that deadlocks fails a test, not the run."""

    def __init__(self, fn, *args) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn, args) -> None:
        try:
            self.result = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def wait(self, timeout: float = 5.0) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()


def call(fn, *args, timeout: float = 5.0):
    """fn(*args) with a deadline: returns its result, re-raises its error, fails if it hangs."""
    c = Call(fn, *args)
    name = getattr(fn, "__name__", repr(fn))
    assert c.wait(timeout), f"{name}{args!r} did not return within {timeout} s"
    if c.error is not None:
        raise c.error
    return c.result
