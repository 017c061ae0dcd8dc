"""429 and Retry-After over real HTTP on 127.0.0.1."""

from limiter import TokenBucketLimiter


def test_over_limit_is_429_with_retry_after_rounded_up(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=0.25, burst=2, clock=clock))
    assert client.get(api_key="k1")[0] == 200
    assert client.get(api_key="k1")[0] == 200
    status, headers, _ = client.get(api_key="k1")
    assert status == 429
    assert headers.get("retry-after") == "4"
    clock.advance(1.5)  # the next token is 2.5 s away
    status, headers, _ = client.get(api_key="k1")
    assert status == 429
    assert headers.get("retry-after") == "3"


def test_sub_second_retry_after_is_at_least_one(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=8, burst=1, clock=clock))
    assert client.get(api_key="fast")[0] == 200
    status, headers, _ = client.get(api_key="fast")
    assert status == 429
    assert headers.get("retry-after") == "1"


def test_waiting_retry_after_seconds_is_enough(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=0.4, burst=1, clock=clock))
    assert client.get(api_key="patient")[0] == 200
    for _ in range(3):
        status, headers, _ = client.get(api_key="patient")
        assert status == 429
        wait = int(headers["retry-after"])
        assert 1 <= wait <= 3
        clock.advance(wait)
        assert client.get(api_key="patient")[0] == 200


def test_each_api_key_has_its_own_limit_over_http(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=1, burst=2, clock=clock))
    assert [client.get(api_key="a")[0] for _ in range(3)] == [200, 200, 429]
    assert [client.get(api_key="b")[0] for _ in range(3)] == [200, 200, 429]
    # Without a key the client is identified by its address (127.0.0.1): a third bucket.
    assert [client.get()[0] for _ in range(3)] == [200, 200, 429]


def test_health_is_not_limited(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=1, burst=1, clock=clock))
    client.get()
    client.get()
    assert [client.get("/health")[0] for _ in range(5)] == [200] * 5
