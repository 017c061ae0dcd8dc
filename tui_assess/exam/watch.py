"""Two watchers an exam runs beside its sessions: wall-clock jumps and, when the policy says
so, the names of programs the candidate starts.

Both are signals for a reviewer, recorded as events, never verdicts. The exam's countdown runs
on the monotonic clock, so moving the wall clock changes nothing on screen; a jump is recorded
(``clock_jump``) so a reviewer sees it next to the resume gaps and deadline.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

#: A wall clock that moves this many seconds away from the monotonic clock is a jump.
CLOCK_JUMP_S = 2.0
#: How often the watchers look.
CLOCK_INTERVAL_S = 1.0
PROCESS_INTERVAL_S = 3.0

Record = Callable[..., None]
"""record(kind, **payload): into every open session of the exam."""


class ExamWatch:
    """A daemon thread: clock jumps every second, new process names every few seconds."""

    def __init__(self, record: Record, *, processes: bool, started_wall: float | None = None,
                 clock_interval: float = CLOCK_INTERVAL_S,
                 process_interval: float = PROCESS_INTERVAL_S) -> None:
        self.record = record
        self.processes = processes
        self.clock_interval = clock_interval
        self.process_interval = process_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="exam-watch", daemon=True)
        self._offset = time.time() - time.monotonic()
        self._since = started_wall if started_wall is not None else time.time()
        self._seen: set[tuple[int, float]] = set()
        self._names: set[str] = set()

    def start(self) -> None:
        if self.processes:
            self._seen = {key for key, _ in self._list()}  # what ran before: not recorded
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)

    def _loop(self) -> None:
        next_processes = time.monotonic() + self.process_interval
        while not self._stop.wait(self.clock_interval):
            try:
                self.check_clock()
                if self.processes and time.monotonic() >= next_processes:
                    next_processes = time.monotonic() + self.process_interval
                    self.check_processes()
            except Exception:  # a failed look is not worth stopping the exam for
                continue

    def check_clock(self) -> None:
        offset = time.time() - time.monotonic()
        jump = offset - self._offset
        if abs(jump) >= CLOCK_JUMP_S:
            self.record("clock_jump", jump_s=round(jump, 3), wall_now=round(time.time(), 3))
            self._offset = offset

    def _list(self) -> list[tuple[tuple[int, float], str]]:
        import psutil

        uid = os.getuid()
        out = []
        for p in psutil.process_iter(["pid", "name", "create_time", "uids"]):
            info: dict[str, Any] = p.info
            uids = info.get("uids")
            if uids is None or uids.real != uid or info.get("create_time") is None:
                continue
            out.append(((int(info["pid"]), float(info["create_time"])), str(info["name"])))
        return out

    def check_processes(self) -> None:
        """Record the names of this user's programs started since the last look (names only:
        no arguments, no paths, no process ids)."""
        started: dict[str, int] = {}
        for key, name in self._list():
            if key in self._seen:
                continue
            self._seen.add(key)
            if key[1] + 1.0 < self._since:
                continue  # it was running before the exam began
            started[name] = started.get(name, 0) + 1
        if started:
            new = sorted(n for n in started if n not in self._names)
            self._names.update(started)
            self.record("processes_started", counts=dict(sorted(started.items())),
                        first_seen=new)
