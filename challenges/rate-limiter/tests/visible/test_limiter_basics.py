"""Happy paths; the clock is a fake you move by hand (see conftest.py)."""

from limiter import TokenBucketLimiter


def test_first_burst_goes_through(clock):
    lim = TokenBucketLimiter(rate_per_s=1, burst=3, clock=clock)
    assert [lim.allow("k")[0] for _ in range(3)] == [True, True, True]
    allowed, retry_after = lim.allow("k")
    assert allowed is False
    assert retry_after > 0


def test_one_token_back_after_one_interval(clock):
    lim = TokenBucketLimiter(rate_per_s=2, burst=1, clock=clock)
    assert lim.allow("k")[0] is True
    assert lim.allow("k")[0] is False
    clock.advance(0.5)
    assert lim.allow("k")[0] is True


def test_len_counts_tracked_clients(clock):
    lim = TokenBucketLimiter(rate_per_s=1, burst=2, clock=clock)
    lim.allow("a")
    lim.allow("b")
    assert len(lim) == 2


def test_quote_endpoint_answers(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=1, burst=2, clock=clock))
    status, _headers, data = client.get("/quote", api_key="demo")
    assert status == 200
    assert "quote" in data


def test_too_many_requests_is_429_with_retry_after(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=1, burst=1, clock=clock))
    assert client.get("/quote", api_key="demo")[0] == 200
    status, headers, _data = client.get("/quote", api_key="demo")
    assert status == 429
    assert "retry-after" in headers
