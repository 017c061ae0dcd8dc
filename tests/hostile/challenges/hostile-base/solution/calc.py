"""Small calculations."""


def add(a, b):
    return a + b


def mean(values):
    return sum(values) / len(values) if values else 0


def clamp(value, low, high):
    return min(high, max(low, value))


def total(conn):
    """Sum of column x of table t, through the connection the caller hands in."""
    return conn.execute("SELECT sum(x) FROM t").fetchone()[0]


def elapsed(clock, work):
    """Seconds `work()` took on `clock`."""
    start = clock()
    work()
    return clock() - start
