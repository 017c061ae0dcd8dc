"""Read-through cache in front of the pricing service (see service.py and brief.md)."""

from __future__ import annotations

import time
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
        self._data: dict[Hashable, Any] = {}

    def get(self, key: Hashable) -> Any:
        if key in self._data:
            return self._data[key]
        value = self._service.get(key)
        self._data[key] = value
        return value

    def put(self, key: Hashable, value: Any) -> None:
        self._service.put(key, value)

    def __len__(self) -> int:
        """How many entries the cache holds right now."""
        return len(self._data)
