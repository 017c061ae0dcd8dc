"""Request limiting for the quotes API."""

from __future__ import annotations

import time


class TokenBucketLimiter:
    """Per-client token bucket: `burst` requests at once, then `rate_per_s` requests a second.

    allow(client_id) -> (allowed, retry_after_s). len(limiter) = number of clients tracked.

    NOTE: shipped in a hurry for the beta. This is not a token bucket yet: it lets `burst`
    requests through per 60-second window, counted for everybody together.
    """

    def __init__(self, rate_per_s: float, burst: int, clock=time.monotonic):
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.clock = clock
        self.window_start = clock()
        self.count = 0

    def allow(self, client_id: str) -> tuple[bool, float]:
        now = self.clock()
        if now - self.window_start >= 60:
            self.window_start = now
            self.count = 0
        if self.count >= self.burst:
            return False, 0.0
        self.count += 1
        return True, 0.0

    def __len__(self) -> int:
        return 1
