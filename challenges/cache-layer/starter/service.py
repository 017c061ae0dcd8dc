"""The pricing service client the cache sits in front of. Do not change this file.

Every call is a network round trip to the pricing service (about 50 ms at p50, far worse at
the top of the hour). Each call is counted, so the on-call dashboard can show the load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from typing import Any


class ServiceError(Exception):
    """The pricing service failed (timeout, 5xx...). Retrying later may succeed."""


class SlowService:
    def __init__(self, data: dict[Hashable, Any] | None = None, latency_seconds: float = 0.05):
        self._data = dict(data or {})
        self._latency = latency_seconds
        self._lock = threading.Lock()
        self.get_calls = 0
        self.put_calls = 0

    def get(self, key: Hashable) -> Any:
        """The current value for key, or None if the service has none. May raise ServiceError."""
        with self._lock:
            self.get_calls += 1
        time.sleep(self._latency)
        with self._lock:
            return self._data.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        """Store value for key. May raise ServiceError (then nothing was stored)."""
        with self._lock:
            self.put_calls += 1
        time.sleep(self._latency)
        with self._lock:
            self._data[key] = value
