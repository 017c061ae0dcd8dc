"""At-least-once delivery: however often an event arrives, it is credited once."""

from _qc import Notifier, balances, new_queue, paid

import consumer


def credited_once(ledger, want, when):
    got = balances(ledger)
    assert got == want, f"{when}: balances are {got}; each event should be credited once: {want}"


def test_the_same_event_sent_three_times_is_credited_once(queue, ledger):
    for _ in range(3):  # the producer retried its own send
        queue.send(paid("evt_dup", "m-1", 700))
    notifier = Notifier()
    worker = consumer.Consumer(queue, ledger, notifier)
    while worker.poll():
        pass
    credited_once(ledger, {"m-1": 700}, "one event in three messages")
    assert queue.counts()["visible"] == 0, "a duplicate message was left in the queue"


class CrashingQueue:
    """The queue, but the worker's first delete() dies: the worker crashed after its work
    and before acknowledging it, so the message comes back after its visibility timeout."""

    __host_methods__ = ("receive", "delete", "release", "extend", "park")

    def __init__(self, queue):
        self.queue = queue
        self.deletes = 0

    def receive(self, visibility_timeout):
        return self.queue.receive(visibility_timeout)

    def delete(self, receipt):
        self.deletes += 1
        if self.deletes == 1:
            raise ConnectionResetError("worker lost its connection")
        return self.queue.delete(receipt)

    def release(self, receipt, delay):
        return self.queue.release(receipt, delay)

    def extend(self, receipt, seconds):
        return self.queue.extend(receipt, seconds)

    def park(self, receipt, reason):
        return self.queue.park(receipt, reason)


def test_a_message_redelivered_after_a_crash_is_credited_once(queue, ledger, clock):
    queue.send(paid("evt_crash", "m-2", 1250))
    crashing = CrashingQueue(queue)
    first = consumer.Consumer(crashing, ledger, Notifier(), visibility_timeout=30)
    try:
        first.poll()
    except Exception:  # noqa: BLE001 - the crash we arranged
        pass
    clock.advance(31)  # the visibility timeout ends: the message is delivered again
    second = consumer.Consumer(crashing, ledger, Notifier(), visibility_timeout=30)
    assert second.poll() is True, "the message was not delivered again after its timeout"
    credited_once(ledger, {"m-2": 1250}, "a message delivered again after a worker crashed")


def test_a_duplicate_reaching_a_restarted_worker_is_credited_once(tmp_path, clock, ledger):
    queue = new_queue(tmp_path, clock)
    queue.send(paid("evt_restart", "m-3", 400))
    consumer.Consumer(queue, ledger, Notifier()).poll()
    queue.send(paid("evt_restart", "m-3", 400))
    consumer.Consumer(queue, ledger, Notifier()).poll()  # a new process, same ledger
    credited_once(ledger, {"m-3": 400}, "a duplicate handled by a restarted worker")


def test_duplicates_handled_by_eight_workers_at_once_are_credited_once(queue, ledger):
    for _ in range(8):
        queue.send(paid("evt_race", "m-4", 999))
    for n in range(8):
        queue.send(paid(f"evt_other_{n}", "m-5", 10))
    consumer.run_workers(queue, ledger, Notifier(delay=0.01), workers=8)
    credited_once(ledger, {"m-4": 999, "m-5": 80}, "8 copies of one event across 8 workers")


def test_every_event_is_notified_once(queue, ledger):
    for n in range(6):
        queue.send(paid(f"evt_n{n}", f"m-{n % 2}", 100))
    queue.send(paid("evt_n0", "m-0", 100))
    notifier = Notifier()
    consumer.run_workers(queue, ledger, notifier, workers=3)
    missing = sorted({f"evt_n{n}" for n in range(6)} - set(notifier.sent))
    assert not missing, f"merchants were never told about {missing}"
