"""Many threads, one bucket: exactly `burst` requests get through at a frozen instant."""

import threading

import pytest

from limiter import TokenBucketLimiter

from tui_assess.judge import candidate

THREADS = 16
CALLS = 60
BURST = 250
TRIALS = 12


@pytest.fixture
def frequent_switches():
    # Switch threads every microsecond instead of every 5 ms, so an unlocked
    # read-modify-write is interleaved in practice rather than once in a blue moon.
    sys = candidate.module("sys")  # the limiter's process, where the race would happen
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def _frozen_clock():
    """A clock stopped at 500.0 s that lives in the limiter's process, so that the threads'
    many reads of it do not each cross back to the test (functools.partial(float, 500.0))."""
    return candidate.module("functools").partial(candidate.module("builtins").float, 500.0)


def _hammer(lim, client_ids):
    barrier = threading.Barrier(THREADS)
    counts = [0] * THREADS
    errors = []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            n = 0
            for k in range(CALLS):
                if lim.allow(client_ids[(i + k) % len(client_ids)])[0]:
                    n += 1
            counts[i] = n
        except Exception as exc:  # e.g. a dict changed size during iteration
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "allow() hung under concurrency"
    assert not errors, f"allow() raised under concurrency: {errors[0]}"
    return sum(counts)


def test_exactly_burst_allowed_when_threads_race_one_client(frequent_switches):
    for trial in range(TRIALS):
        lim = TokenBucketLimiter(rate_per_s=1, burst=BURST, clock=_frozen_clock())
        allowed = _hammer(lim, [f"client-{trial}"])
        assert allowed == BURST, f"trial {trial}: {allowed} allowed, burst is {BURST}"


def test_exactly_burst_per_client_when_threads_race_several_clients(frequent_switches):
    ids = ["x", "y", "z"]
    for trial in range(TRIALS // 2):
        lim = TokenBucketLimiter(rate_per_s=1, burst=BURST // 2, clock=_frozen_clock())
        allowed = _hammer(lim, ids)
        assert allowed == len(ids) * (BURST // 2), (
            f"trial {trial}: {allowed} allowed for 3 clients with a burst of {BURST // 2} each"
        )


def test_concurrent_http_requests_respect_the_burst(serve, clock):
    client = serve(TokenBucketLimiter(rate_per_s=1, burst=10, clock=clock))
    statuses = []
    lock = threading.Lock()
    barrier = threading.Barrier(5)

    def worker():
        barrier.wait(timeout=10)
        for _ in range(6):
            status = client.get(api_key="shared")[0]
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    ok, limited = statuses.count(200), statuses.count(429)
    assert (ok, limited) == (10, 20), (
        f"30 concurrent requests with a burst of 10 got {ok} answers 200 and {limited} 429; "
        "expected 10 and 20"
    )
