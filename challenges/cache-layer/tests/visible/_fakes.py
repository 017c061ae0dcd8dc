"""Test doubles: a hand-driven clock and an instant, call-counting upstream service."""

from __future__ import annotations

import threading
from typing import Any


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeService:
    def __init__(self, data: dict | None = None, default: Any = None) -> None:
        self.data = dict(data or {})
        self.default = default
        self.get_calls = 0
        self.put_calls = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            self.get_calls += 1
            return self.data.get(key, self.default)

    def put(self, key, value) -> None:
        with self._lock:
            self.put_calls += 1
            self.data[key] = value
