"""The visibility timeout, retries with backoff, and parking messages that can never succeed."""

import json
import sqlite3
from contextlib import closing

import pytest
from _qc import Notifier, balances, paid

import consumer


def parked(queue):
    with closing(sqlite3.connect(queue.path)) as db:
        return db.execute("SELECT body, attempts, reason FROM parked ORDER BY id").fetchall()


def hidden_for(queue, clock):
    """Seconds until the only message in the queue is visible again."""
    with closing(sqlite3.connect(queue.path)) as db:
        rows = db.execute("SELECT visible_at FROM messages").fetchall()
    assert len(rows) == 1, f"the queue holds {len(rows)} messages instead of the one retried"
    return round(rows[0][0] - clock(), 3)


def poll(worker, what):
    try:
        return worker.poll()
    except Exception as exc:  # noqa: BLE001 - a worker must never die on a message
        raise AssertionError(
            f"poll() raised {type(exc).__name__} on {what}: handle it, do not crash the worker"
        ) from None


def test_a_message_is_not_given_to_another_worker_while_it_is_handled(queue, ledger, clock):
    queue.send(paid("evt_slow", "m-1", 500))
    seen = []

    def slow_call():  # the notifier takes 45 s; meanwhile a second worker asks for work
        clock.advance(45)
        seen.append(queue.receive(visibility_timeout=60))

    worker = consumer.Consumer(queue, ledger, Notifier(during_call=slow_call), visibility_timeout=60)
    worker.poll()
    assert seen == [None], (
        "with visibility_timeout=60, the message was handed to a second worker 45 s into its "
        "handling"
    )


@pytest.mark.parametrize("base_delay", [2.0, 0.5])
def test_a_failed_notification_is_retried_with_doubling_delays(queue, ledger, clock, base_delay):
    queue.send(paid("evt_retry", "m-2", 800))
    notifier = Notifier(failures=3)
    worker = consumer.Consumer(queue, ledger, notifier, base_delay=base_delay, max_attempts=5)
    waits = []
    for _ in range(3):
        poll(worker, "a notifier that answered 503")
        waits.append(hidden_for(queue, clock))
        clock.advance(waits[-1])
    expected = [base_delay, base_delay * 2, base_delay * 4]
    assert waits == expected, (
        f"after 1, 2 and 3 failed attempts the message came back after {waits} s; with "
        f"base_delay={base_delay} expected {expected}"
    )
    assert poll(worker, "a notifier that is back") is True, "the retried message was not delivered"
    assert notifier.sent == {"evt_retry": ("m-2", 800)}, "the merchant was never notified"
    assert balances(ledger) == {"m-2": 800}, f"balances are {balances(ledger)} after 3 retries"
    assert queue.counts() == {"visible": 0, "hidden": 0, "parked": 0}, (
        f"after a successful retry the queue holds {queue.counts()}"
    )


def test_gives_up_after_max_attempts_and_parks_the_message(queue, ledger, clock):
    queue.send(paid("evt_down", "m-3", 300))
    worker = consumer.Consumer(queue, ledger, Notifier(failures=100), max_attempts=3, base_delay=1)
    for attempt in range(1, 4):
        poll(worker, "a notifier that is down")
        clock.advance(3600)
    rows = parked(queue)
    assert len(rows) == 1, (
        f"after 3 failed attempts with max_attempts=3, {len(rows)} messages are parked and the "
        f"queue holds {queue.counts()}"
    )
    assert rows[0][1] == 3, f"the message was parked after {rows[0][1]} attempts, not 3"
    assert "503" in rows[0][2] or "ConnectionError" in rows[0][2], (
        f"the parking reason {rows[0][2]!r} does not say what failed"
    )
    assert worker.poll() is False, "a parked message was delivered again"


MALFORMED = {
    "not-json": "order 42 paid",
    "not-an-object": json.dumps(["evt_x", "m-1", 100]),
    "no-merchant": json.dumps({"event_id": "evt_x", "type": "order.paid", "amount_cents": 100}),
    "negative-amount": json.dumps(
        {"event_id": "evt_x", "type": "order.paid", "merchant": "m-1", "amount_cents": -100}
    ),
    "amount-as-text": json.dumps(
        {"event_id": "evt_x", "type": "order.paid", "merchant": "m-1", "amount_cents": "100"}
    ),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_message_is_parked_at_once_with_a_reason(queue, ledger, kind):
    queue.send(MALFORMED[kind])
    worker = consumer.Consumer(queue, ledger, Notifier())
    assert poll(worker, f"a malformed message ({kind})") is True, "poll() saw no message"
    rows = parked(queue)
    assert len(rows) == 1 and rows[0][1] == 1, (
        f"a message that can never succeed ({kind}) should be parked on its first attempt; "
        f"parked: {len(rows)}, queue: {queue.counts()}"
    )
    assert rows[0][2].strip(), "a message was parked without a reason"
    assert balances(ledger) == {}, f"a malformed message credited {balances(ledger)}"


def test_a_poison_message_does_not_hold_up_the_others(queue, ledger):
    queue.send("{not json")
    for n in range(5):
        queue.send(paid(f"evt_ok{n}", "m-9", 100))
    consumer.run_workers(queue, ledger, Notifier(), workers=2)
    assert balances(ledger) == {"m-9": 500}, (
        f"with a poison message first in the queue, balances are {balances(ledger)}"
    )
    assert len(parked(queue)) == 1, "the poison message was not parked"


def test_other_event_types_are_acknowledged_without_a_credit(queue, ledger):
    queue.send(json.dumps({"event_id": "evt_r", "type": "order.refunded", "merchant": "m-1"}))
    worker = consumer.Consumer(queue, ledger, Notifier())
    assert poll(worker, "an order.refunded event") is True, "poll() saw no message"
    assert queue.counts() == {"visible": 0, "hidden": 0, "parked": 0}, (
        f"an event of another type should be deleted; the queue holds {queue.counts()}"
    )
    assert balances(ledger) == {}, "an event of another type credited a merchant"
