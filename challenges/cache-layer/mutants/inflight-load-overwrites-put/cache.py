"""Mutant: a load that was in flight during put() stores its old value afterwards."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class _Load:
    """One upstream load in flight; callers that miss on the same key wait on it."""

    __slots__ = ("done", "value", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class Cache:
    def __init__(
        self,
        service: Any,
        ttl_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._service = service
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()  # guards the two dicts; never held during upstream calls
        self._entries: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()
        self._loads: dict[Hashable, _Load] = {}

    def get(self, key: Hashable) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                value, stored_at = entry
                if self._clock() - stored_at < self._ttl:
                    self._entries.move_to_end(key)
                    return value
                del self._entries[key]
            load = self._loads.get(key)
            leader = load is None
            if leader:
                load = self._loads[key] = _Load()

        if not leader:
            load.done.wait()
            if load.error is not None:
                raise load.error
            return load.value

        try:
            value = self._service.get(key)
        except BaseException as exc:
            with self._lock:
                if self._loads.get(key) is load:
                    del self._loads[key]
            load.error = exc
            load.done.set()
            raise

        with self._lock:
            self._loads.pop(key, None)
            if True:
                self._entries[key] = (value, self._clock())
                self._entries.move_to_end(key)
                while len(self._entries) > self._max_entries:
                    self._entries.popitem(last=False)
        load.value = value
        load.done.set()
        return value

    def put(self, key: Hashable, value: Any) -> None:
        try:
            self._service.put(key, value)
        finally:
            # Even a failed write may have reached the service: forget what we know either way.
            with self._lock:
                self._entries.pop(key, None)
                self._loads.pop(key, None)

    def __len__(self) -> int:
        """How many entries the cache holds right now."""
        with self._lock:
            return len(self._entries)
