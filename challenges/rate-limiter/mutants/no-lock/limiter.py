"""Request limiting for the quotes API."""

from __future__ import annotations

import time
from collections import OrderedDict


class TokenBucketLimiter:
    """Per-client token bucket: `burst` requests at once, then `rate_per_s` requests a second.

    allow(client_id) -> (allowed, retry_after_s). len(limiter) = number of clients tracked.

    Each client has `tokens` (at most `burst`) refilled continuously at `rate_per_s`; a request
    takes one token, a denied request takes nothing. A bucket left alone for burst / rate_per_s
    seconds is full again, which is exactly the state of a client never seen: it is dropped.
    """

    def __init__(self, rate_per_s: float, burst: int, clock=time.monotonic):
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate_per_s = float(rate_per_s)
        self.burst = float(burst)
        self.clock = clock
        self._refill_s = self.burst / self.rate_per_s
        # client -> [tokens, time of last update], least recently updated first.
        self._buckets: OrderedDict[str, list[float]] = OrderedDict()

    def allow(self, client_id: str) -> tuple[bool, float]:
        now = self.clock()
        self._evict_full(now)
        bucket = self._buckets.pop(client_id, None)
        if bucket is None:
            tokens = self.burst
        else:
            elapsed = max(0.0, now - bucket[1])
            tokens = min(self.burst, bucket[0] + elapsed * self.rate_per_s)
        if tokens >= 1.0:
            self._buckets[client_id] = [tokens - 1.0, now]
            return True, 0.0
        self._buckets[client_id] = [tokens, now]
        return False, (1.0 - tokens) / self.rate_per_s

    def _evict_full(self, now: float) -> None:
        # Oldest first: stop at the first bucket that may not be full yet. Amortised O(1).
        buckets = self._buckets
        while buckets:
            _tokens, last = next(iter(buckets.values()))
            if now - last < self._refill_s:
                break
            buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)
