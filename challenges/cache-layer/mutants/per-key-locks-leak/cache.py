"""Mutant: single flight through a lock per key, kept forever (memory grows with every key)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable
from typing import Any


class Cache:
    def __init__(
        self,
        service: Any,
        ttl_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._service = service
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._key_locks: defaultdict[Hashable, threading.Lock] = defaultdict(threading.Lock)
        self._entries: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()
        self._generation: dict[Hashable, int] = {}

    def _lookup(self, key: Hashable):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self._clock() - entry[1] < self._ttl:
                self._entries.move_to_end(key)
                return True, entry[0]
            return False, None

    def get(self, key: Hashable) -> Any:
        hit, value = self._lookup(key)
        if hit:
            return value
        with self._lock:
            key_lock = self._key_locks[key]
        with key_lock:
            hit, value = self._lookup(key)  # somebody else may have loaded it meanwhile
            if hit:
                return value
            with self._lock:
                generation = self._generation.get(key, 0)
            value = self._service.get(key)
            with self._lock:
                if self._generation.get(key, 0) == generation:
                    self._entries[key] = (value, self._clock())
                    self._entries.move_to_end(key)
                    while len(self._entries) > self._max_entries:
                        self._entries.popitem(last=False)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        try:
            self._service.put(key, value)
        finally:
            with self._lock:
                self._entries.pop(key, None)
                self._generation[key] = self._generation.get(key, 0) + 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
