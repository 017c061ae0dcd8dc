"""Token-bucket arithmetic, driven by a fake clock."""

import pytest

from limiter import TokenBucketLimiter


def _drain(lim, client, n):
    return [lim.allow(client)[0] for _ in range(n)]


def _says(decisions):
    return ", ".join("allowed" if d else "denied" for d in decisions)


def _expect(got, want, when):
    """Fail in words unless the allow() decisions `got` are `want`."""
    assert got == want, f"{when}: requests were {_says(got)}; expected {_says(want)}"


def test_burst_is_allowed_then_denied_with_retry_after(clock):
    lim = TokenBucketLimiter(rate_per_s=1, burst=5, clock=clock)
    for n in range(5):
        got = lim.allow("a")
        assert got == (True, 0.0), f"request {n + 1} of a burst of 5 gave {got}, not (True, 0.0)"
    allowed, retry = lim.allow("a")
    assert allowed is False, "the 6th request of a burst of 5 was allowed"
    assert retry == pytest.approx(1.0), (
        f"at 1 token per second, an empty bucket's retry_after was {retry}, not 1.0 s"
    )


def test_tokens_refill_at_the_configured_rate(clock):
    lim = TokenBucketLimiter(rate_per_s=4, burst=3, clock=clock)
    _expect(_drain(lim, "a", 4), [True, True, True, False], "burst 3, 4 requests at once")
    clock.advance(0.25)  # one token
    _expect(_drain(lim, "a", 2), [True, False], "at 4 tokens/s, 0.25 s after emptying")
    clock.advance(0.5)  # two tokens
    _expect(_drain(lim, "a", 3), [True, True, False], "at 4 tokens/s, 0.5 s after emptying")


def test_refill_is_capped_at_burst(clock):
    lim = TokenBucketLimiter(rate_per_s=2, burst=4, clock=clock)
    _drain(lim, "a", 4)
    clock.advance(3600)
    _expect(_drain(lim, "a", 6), [True] * 4 + [False] * 2, "burst 4, an hour after emptying")


def test_retry_after_is_the_time_to_the_next_token(clock):
    lim = TokenBucketLimiter(rate_per_s=0.5, burst=1, clock=clock)
    assert lim.allow("a") == (True, 0.0), "the first request was not (True, 0.0)"
    allowed, retry = lim.allow("a")
    assert not allowed and retry == pytest.approx(2.0), (
        f"at 0.5 tokens/s with an empty bucket: ({allowed}, {retry}); expected (False, 2.0)"
    )
    clock.advance(0.5)
    allowed, retry = lim.allow("a")
    assert not allowed and retry == pytest.approx(1.5), (
        f"0.5 s later: ({allowed}, {retry}); expected (False, 1.5): the time to the next token"
    )
    clock.advance(1.5)
    assert lim.allow("a")[0] is True, "waiting exactly retry_after seconds was not enough"


def test_denied_requests_cost_nothing(clock):
    lim = TokenBucketLimiter(rate_per_s=2, burst=2, clock=clock)
    _drain(lim, "a", 2)
    for _ in range(100):
        clock.advance(0.004)  # 0.4 s in total: not a whole token yet
        assert lim.allow("a")[0] is False, "a request was allowed before a whole token refilled"
    clock.advance(0.1)  # 0.5 s since the bucket was emptied: exactly one token
    _expect(
        _drain(lim, "a", 2), [True, False], "0.5 s at 2 tokens/s after 100 denied requests"
    )


def test_clients_have_separate_buckets(clock):
    lim = TokenBucketLimiter(rate_per_s=1, burst=3, clock=clock)
    _expect(_drain(lim, "alice", 4), [True, True, True, False], "alice, burst 3")
    _expect(_drain(lim, "bob", 4), [True, True, True, False], "bob after alice emptied hers")
    _expect(_drain(lim, "carol", 1), [True], "carol after alice and bob")
    clock.advance(1)
    _expect(_drain(lim, "alice", 2), [True, False], "alice 1 s later")
    _expect(_drain(lim, "carol", 4), [True, True, True, False], "carol 1 s later")


def test_no_window_reset_lets_a_double_burst_through(clock):
    # A fixed window allows 2 x burst around a window edge; a bucket never does.
    lim = TokenBucketLimiter(rate_per_s=0.1, burst=5, clock=clock)
    clock.advance(59.9)
    first = sum(_drain(lim, "a", 5))
    clock.advance(0.2)
    second = sum(_drain(lim, "a", 5))
    assert first + second == 5, (
        f"{first + second} requests of a burst of 5 got through within 0.2 s: a new window "
        "must not refill the bucket"
    )
