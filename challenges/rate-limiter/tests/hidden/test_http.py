"""429 and Retry-After over real HTTP on 127.0.0.1."""

from limiter import TokenBucketLimiter


def test_over_limit_is_429_with_retry_after_rounded_up(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=0.25, burst=2, clock=clock))
    first = [client.get(api_key="k1")[0] for _ in range(2)]
    assert first == [200, 200], f"a burst of 2 answered {first}"
    status, headers, _ = client.get(api_key="k1")
    assert status == 429, f"the request past the burst answered {status}, not 429"
    assert headers.get("retry-after") == "4", (
        f"Retry-After was {headers.get('retry-after')!r} for a token 4 s away; expected '4'"
    )
    clock.advance(1.5)  # the next token is 2.5 s away
    status, headers, _ = client.get(api_key="k1")
    assert status == 429, f"a request before the next token answered {status}, not 429"
    assert headers.get("retry-after") == "3", (
        f"Retry-After was {headers.get('retry-after')!r} for a token 2.5 s away; whole seconds, "
        "rounded up, so '3'"
    )


def test_sub_second_retry_after_is_at_least_one(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=8, burst=1, clock=clock))
    assert client.get(api_key="fast")[0] == 200, "the first request was refused"
    status, headers, _ = client.get(api_key="fast")
    assert status == 429, f"the request past the burst answered {status}, not 429"
    assert headers.get("retry-after") == "1", (
        f"Retry-After was {headers.get('retry-after')!r} for a token 0.125 s away; expected '1'"
    )


def test_waiting_retry_after_seconds_is_enough(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=0.4, burst=1, clock=clock))
    assert client.get(api_key="patient")[0] == 200, "the first request was refused"
    for _ in range(3):
        status, headers, _ = client.get(api_key="patient")
        assert status == 429, f"the request past the burst answered {status}, not 429"
        wait = int(headers.get("retry-after") or 0)
        assert 1 <= wait <= 3, f"Retry-After was {wait} s for a token 2.5 s away"
        clock.advance(wait)
        status = client.get(api_key="patient")[0]
        assert status == 200, f"waiting the Retry-After of {wait} s was not enough ({status})"


def test_each_api_key_has_its_own_limit_over_http(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=1, burst=2, clock=clock))
    for who, key in (("api key a", "a"), ("api key b", "b"), ("no api key", None)):
        # Without a key the client is identified by its address (127.0.0.1): a third bucket.
        got = [(client.get(api_key=key) if key else client.get())[0] for _ in range(3)]
        assert got == [200, 200, 429], f"{who}, burst 2: three requests answered {got}"


def test_health_is_not_limited(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=1, burst=1, clock=clock))
    client.get()
    client.get()
    got = [client.get("/health")[0] for _ in range(5)]
    assert got == [200] * 5, f"/health of a limited client answered {got}: it is never limited"
