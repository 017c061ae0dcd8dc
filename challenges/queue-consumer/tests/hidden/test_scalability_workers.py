"""Eight workers must drain the queue much faster than one: measured in this run, as a ratio."""

from _qc import FakeClock, Notifier, balances, new_queue, paid, seconds

import consumer

MESSAGES = 40
NOTIFY_SECONDS = 0.05  # the notification service's latency: I/O, not CPU
MAX_RATIO = 0.4  # ideal is 1/8; the queue and the ledger serialise a little of each message


def drain(tmp_path, workers):
    queue = new_queue(tmp_path, FakeClock(), f"queue-{workers}.db")
    for n in range(MESSAGES):
        queue.send(paid(f"evt_{n}", f"m-{n % 7}", 100 + n))
    ledger = tmp_path / f"ledger-{workers}.db"
    notifier = Notifier(delay=NOTIFY_SECONDS)
    took = seconds(lambda: consumer.run_workers(queue, ledger, notifier, workers=workers))
    total = sum(balances(ledger).values())
    assert total == sum(100 + n for n in range(MESSAGES)), (
        f"{workers} workers credited {total} cents in all, not the {MESSAGES} payouts"
    )
    return took


def test_eight_workers_drain_the_queue_several_times_faster_than_one(tmp_path):
    one = drain(tmp_path, 1)
    eight = drain(tmp_path, 8)
    ratio = eight / one
    print(f"\none worker {one:.2f} s, eight workers {eight:.2f} s, ratio {ratio:.2f}")
    assert ratio <= MAX_RATIO, (
        f"eight workers took {eight:.2f} s, {ratio:.2f}x the {one:.2f} s of one worker; at most "
        f"{MAX_RATIO}x expected: the workers wait for each other"
    )


def test_workers_do_not_hold_the_ledger_while_they_call_the_notifier(tmp_path):
    import sqlite3
    from contextlib import closing

    ledger = tmp_path / "ledger.db"
    queue = new_queue(tmp_path, FakeClock())
    queue.send(paid("evt_lock", "m-1", 100))
    blocked = []

    def write_meanwhile():  # another worker's quick ledger write, during the slow call
        with closing(sqlite3.connect(ledger, timeout=0.5)) as db:
            try:
                db.execute("CREATE TABLE IF NOT EXISTS probe (x)")
                db.execute("INSERT INTO probe VALUES (1)")
                db.commit()
            except sqlite3.OperationalError as exc:
                blocked.append(str(exc))

    consumer.Consumer(queue, ledger, Notifier(during_call=write_meanwhile)).poll()
    assert not blocked, (
        "while a worker waited for the notifier, the ledger was locked for every other "
        f"worker ({blocked[0]})"
    )
