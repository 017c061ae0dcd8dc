"""Visible tests: one payout end to end, and the ticket's complaint, scaled down."""

from _qc import FakeClock, Notifier, balances, new_queue, paid, seconds

import consumer


def test_one_paid_order_is_credited_notified_and_removed(tmp_path):
    clock = FakeClock()
    queue = new_queue(tmp_path, clock)
    queue.send(paid("evt_1", "m-7", 2500))
    notifier = Notifier()
    worker = consumer.Consumer(queue, tmp_path / "ledger.db", notifier)
    assert worker.poll() is True
    assert balances(tmp_path / "ledger.db") == {"m-7": 2500}
    assert notifier.sent == {"evt_1": ("m-7", 2500)}
    assert queue.counts() == {"visible": 0, "hidden": 0, "parked": 0}
    assert worker.poll() is False


def test_four_workers_drain_the_queue_faster_than_one(tmp_path):
    """OPS-733, scaled down: 16 payouts, a notifier that takes 50 ms a call. Four workers
    should take well under the time of one."""
    timings = {}
    for workers in (1, 4):
        clock = FakeClock()
        queue = new_queue(tmp_path, clock, f"queue-{workers}.db")
        for n in range(16):
            queue.send(paid(f"evt_{n}", f"m-{n % 5}", 100 + n))
        ledger = tmp_path / f"ledger-{workers}.db"
        notifier = Notifier(delay=0.05)
        timings[workers] = seconds(
            lambda: consumer.run_workers(queue, ledger, notifier, workers=workers)
        )
        assert sum(balances(ledger).values()) == sum(100 + n for n in range(16))
    ratio = timings[4] / timings[1]
    assert ratio <= 0.6, (
        f"four workers took {timings[4]:.2f} s, {ratio:.2f}x the {timings[1]:.2f} s of one "
        "worker: they wait for each other"
    )
