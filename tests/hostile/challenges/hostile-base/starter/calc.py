"""Small calculations. The starter of the hostile-code corpus: two of them are wrong."""


def add(a, b):
    return a + b


def mean(values):
    return sum(values) / len(values)  # wrong for []: ZeroDivisionError


def clamp(value, low, high):
    return max(low, value)  # wrong: never caps at high


def total(conn):
    """Sum of column x of table t, through the connection the caller hands in."""
    return conn.execute("SELECT sum(x) FROM t").fetchone()[0]


def elapsed(clock, work):
    """Seconds `work()` took on `clock`."""
    start = clock()
    work()
    return clock() - start
