"""Idle clients are forgotten, so memory stays bounded; limited clients are never forgotten."""

from limiter import TokenBucketLimiter

from tui_assess.judge import candidate


def test_state_stays_bounded_with_6k_distinct_clients(clock):
    # burst / rate = 0.5 s to refill. One new client per millisecond: at any moment about 1000
    # clients were seen in the last 2 x 0.5 s; everyone older must have been dropped.
    # (6,000 rather than 100,000: each call crosses to the candidate's process and back.)
    lim = TokenBucketLimiter(rate_per_s=10, burst=5, clock=clock)
    largest = 0
    for i in range(6_000):
        clock.advance(0.001)
        assert lim.allow(f"203.0.113.{i}")[0] is True, "a client's first request was denied"
        if i % 997 == 0:
            largest = max(largest, len(lim))
    largest = max(largest, len(lim))
    assert largest <= 1100, f"{largest} clients tracked; idle buckets are not evicted"


def test_memory_does_not_grow_with_one_off_clients(clock):
    lim = TokenBucketLimiter(rate_per_s=10, burst=5, clock=clock)
    # Long ids (1 kB, like long API keys): what a limiter keeps per client then dwarfs what
    # the process's allocator holds back from earlier tests, so memory measured from outside
    # the candidate's process shows it.
    pad = "k" * 1000
    for i in range(2_000):  # reach the steady state first
        clock.advance(0.001)
        lim.allow(f"warm-{i}-{pad}")
    process = candidate.process()  # the limiter's process, measured from outside it
    base = process.memory_info().rss
    for i in range(6_000):
        clock.advance(0.001)
        lim.allow(f"198.51.100.{i}-{pad}")
    grown = process.memory_info().rss - base
    print(f"\nmemory grew by {grown / 1000:.0f} kB after 6k one-off clients")
    # Keeping 6k more clients costs megabytes; a bounded limiter stays flat.
    assert grown < 1_000_000, f"{grown} bytes more after 6k one-off clients"


def test_a_limited_client_is_not_forgotten_under_a_flood_of_new_ids(clock):
    lim = TokenBucketLimiter(rate_per_s=1, burst=3, clock=clock)
    got = [lim.allow("abuser")[0] for _ in range(4)]
    assert got == [True, True, True, False], f"burst 3, four requests: {got}"
    for i in range(5_000):  # all at the same instant: none of them may be dropped yet
        lim.allow(f"fresh-{i}")
    assert lim.allow("abuser")[0] is False, (
        "a client with an empty bucket was allowed again after 5,000 new clients arrived at "
        "the same instant: its bucket was forgotten while it was limited"
    )
    assert len(lim) >= 5_000, (
        f"{len(lim)} clients tracked: buckets that are not full yet were dropped"
    )


def test_a_partly_refilled_bucket_is_kept(clock):
    lim = TokenBucketLimiter(rate_per_s=10, burst=5, clock=clock)  # 0.5 s to refill
    got = [lim.allow("a")[0] for _ in range(6)]
    assert got == [True] * 5 + [False], f"burst 5, six requests: {got}"
    for i in range(300):  # 0.3 s of other traffic: "a" has 3 tokens back, not 5
        clock.advance(0.001)
        lim.allow(f"other-{i}")
    clock.advance(0.0005)
    got = [lim.allow("a")[0] for _ in range(4)]
    assert got == [True, True, True, False], (
        f"0.3 s after emptying its bucket (3 tokens back), a client's four requests were {got}: "
        "a bucket that is not full again must be kept"
    )


def test_a_forgotten_client_comes_back_with_a_full_bucket(clock):
    lim = TokenBucketLimiter(rate_per_s=10, burst=5, clock=clock)
    got = [lim.allow("a")[0] for _ in range(6)]
    assert got == [True] * 5 + [False], f"burst 5, six requests: {got}"
    clock.advance(5)
    lim.allow("someone-else")
    assert len(lim) <= 2, f"{len(lim)} clients tracked after every bucket refilled: idle ones stay"
    got = [lim.allow("a")[0] for _ in range(6)]
    assert got == [True] * 5 + [False], f"a client idle for 5 s, six requests: {got}"
