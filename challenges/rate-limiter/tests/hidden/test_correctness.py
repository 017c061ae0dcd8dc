"""Token-bucket arithmetic, driven by a fake clock."""

import pytest

from limiter import TokenBucketLimiter


def _drain(lim, client, n):
    return [lim.allow(client)[0] for _ in range(n)]


def test_burst_is_allowed_then_denied_with_retry_after(clock):
    lim = TokenBucketLimiter(rate_per_s=1, burst=5, clock=clock)
    for _ in range(5):
        assert lim.allow("a") == (True, 0.0)
    allowed, retry = lim.allow("a")
    assert allowed is False
    assert retry == pytest.approx(1.0)


def test_tokens_refill_at_the_configured_rate(clock):
    lim = TokenBucketLimiter(rate_per_s=4, burst=3, clock=clock)
    assert _drain(lim, "a", 4) == [True, True, True, False]
    clock.advance(0.25)  # one token
    assert _drain(lim, "a", 2) == [True, False]
    clock.advance(0.5)  # two tokens
    assert _drain(lim, "a", 3) == [True, True, False]


def test_refill_is_capped_at_burst(clock):
    lim = TokenBucketLimiter(rate_per_s=2, burst=4, clock=clock)
    _drain(lim, "a", 4)
    clock.advance(3600)
    assert _drain(lim, "a", 6) == [True] * 4 + [False] * 2


def test_retry_after_is_the_time_to_the_next_token(clock):
    lim = TokenBucketLimiter(rate_per_s=0.5, burst=1, clock=clock)
    assert lim.allow("a") == (True, 0.0)
    allowed, retry = lim.allow("a")
    assert not allowed and retry == pytest.approx(2.0)
    clock.advance(0.5)
    allowed, retry = lim.allow("a")
    assert not allowed and retry == pytest.approx(1.5)
    clock.advance(1.5)
    assert lim.allow("a")[0] is True


def test_denied_requests_cost_nothing(clock):
    lim = TokenBucketLimiter(rate_per_s=2, burst=2, clock=clock)
    _drain(lim, "a", 2)
    for _ in range(100):
        clock.advance(0.004)  # 0.4 s in total: not a whole token yet
        assert lim.allow("a")[0] is False
    clock.advance(0.1)  # 0.5 s since the bucket was emptied: exactly one token
    assert _drain(lim, "a", 2) == [True, False]


def test_clients_have_separate_buckets(clock):
    lim = TokenBucketLimiter(rate_per_s=1, burst=3, clock=clock)
    assert _drain(lim, "alice", 4) == [True, True, True, False]
    assert _drain(lim, "bob", 4) == [True, True, True, False]
    assert _drain(lim, "carol", 1) == [True]
    clock.advance(1)
    assert _drain(lim, "alice", 2) == [True, False]
    assert _drain(lim, "carol", 4) == [True, True, True, False]


def test_no_window_reset_lets_a_double_burst_through(clock):
    # A fixed window allows 2 x burst around a window edge; a bucket never does.
    lim = TokenBucketLimiter(rate_per_s=0.1, burst=5, clock=clock)
    clock.advance(59.9)
    first = sum(_drain(lim, "a", 5))
    clock.advance(0.2)
    second = sum(_drain(lim, "a", 5))
    assert first + second == 5
