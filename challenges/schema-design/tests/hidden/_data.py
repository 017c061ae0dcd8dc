"""Deterministic booking data (random.Random(42)) and the expected answers of the app's queries."""

import random
from dataclasses import dataclass, field

DAY0 = 1_767_225_600  # 2026-01-01T00:00:00Z
HOUR = 3600

QUERIES = {
    "resource_schedule": """
        SELECT id, customer_id, starts_at, ends_at
        FROM bookings
        WHERE resource_id = :resource_id AND starts_at < :window_end AND ends_at > :window_start
        ORDER BY starts_at""",
    "customer_bookings": """
        SELECT id, resource_id, starts_at, ends_at
        FROM bookings
        WHERE customer_id = :customer_id
        ORDER BY starts_at""",
    "booking_payments": """
        SELECT id, amount_cents, status
        FROM payments
        WHERE booking_id = :booking_id""",
    "unpaid_upcoming": """
        SELECT b.id, b.resource_id, b.customer_id, b.starts_at
        FROM bookings AS b
        WHERE b.starts_at >= :from_ts
          AND NOT EXISTS (
              SELECT 1 FROM payments AS p WHERE p.booking_id = b.id AND p.status = 'paid'
          )
        ORDER BY b.starts_at""",
}


@dataclass
class Dataset:
    customers: list = field(default_factory=list)  # (name, email)
    resources: list = field(default_factory=list)  # name
    bookings: list = field(default_factory=list)  # (resource_no, customer_no, starts_at, ends_at)
    payments: list = field(default_factory=list)  # (booking_no, amount_cents, status)
    # filled by load(): database ids, by position in the lists above
    customer_ids: list = field(default_factory=list)
    resource_ids: list = field(default_factory=list)
    booking_ids: list = field(default_factory=list)
    payment_ids: list = field(default_factory=list)


def generate(seed: int = 42) -> Dataset:
    rng = random.Random(seed)
    ds = Dataset()
    ds.customers = [(f"Customer {i}", f"customer{i}@example.com") for i in range(30)]
    ds.resources = [f"Room {c}" for c in "ABCDEFGH"]
    for r in range(len(ds.resources)):
        t = DAY0 + 8 * HOUR + rng.randrange(4) * 900
        for _ in range(60):
            length = rng.choice([30, 60, 60, 90, 120, 180]) * 60
            ds.bookings.append((r, rng.randrange(len(ds.customers)), t, t + length))
            t += length + rng.choice([0, 0, 15, 30, 60, 240, 900]) * 60
    rng.shuffle(ds.bookings)
    for b in range(len(ds.bookings)):
        amount = rng.choice([1500, 2500, 4000, 9900])
        kind = rng.random()
        if kind < 0.5:
            statuses = ["paid"]
        elif kind < 0.65:
            statuses = ["failed", "paid"]
        elif kind < 0.75:
            statuses = ["pending"]
        elif kind < 0.82:
            statuses = ["refunded"]
        elif kind < 0.9:
            statuses = ["failed", "failed"]
        else:
            statuses = []
        ds.payments.extend((b, amount, s) for s in statuses)
    return ds


def load(conn, ds: Dataset) -> Dataset:
    conn.execute("BEGIN")
    for name, email in ds.customers:
        cur = conn.execute("INSERT INTO customers (name, email) VALUES (?, ?)", (name, email))
        ds.customer_ids.append(cur.lastrowid)
    for name in ds.resources:
        cur = conn.execute("INSERT INTO resources (name) VALUES (?)", (name,))
        ds.resource_ids.append(cur.lastrowid)
    for r, c, s, e in ds.bookings:
        cur = conn.execute(
            "INSERT INTO bookings (resource_id, customer_id, starts_at, ends_at) VALUES (?, ?, ?, ?)",
            (ds.resource_ids[r], ds.customer_ids[c], s, e),
        )
        ds.booking_ids.append(cur.lastrowid)
    for b, amount, status in ds.payments:
        cur = conn.execute(
            "INSERT INTO payments (booking_id, amount_cents, status) VALUES (?, ?, ?)",
            (ds.booking_ids[b], amount, status),
        )
        ds.payment_ids.append(cur.lastrowid)
    conn.execute("COMMIT")
    return ds


# ----------------------------------------------------------------- expected answers


def booking_rows(ds: Dataset):
    """(id, resource_id, customer_id, starts_at, ends_at) of every generated booking."""
    return [
        (ds.booking_ids[i], ds.resource_ids[r], ds.customer_ids[c], s, e)
        for i, (r, c, s, e) in enumerate(ds.bookings)
    ]


def expected_resource_schedule(ds, resource_id, window_start, window_end):
    return [
        (bid, cid, s, e)
        for bid, rid, cid, s, e in booking_rows(ds)
        if rid == resource_id and s < window_end and e > window_start
    ]


def expected_customer_bookings(ds, customer_id):
    return [(bid, rid, s, e) for bid, rid, cid, s, e in booking_rows(ds) if cid == customer_id]


def expected_booking_payments(ds, booking_id):
    return [
        (ds.payment_ids[i], amount, status)
        for i, (b, amount, status) in enumerate(ds.payments)
        if ds.booking_ids[b] == booking_id
    ]


def expected_unpaid_upcoming(ds, from_ts):
    paid = {ds.booking_ids[b] for b, _amount, status in ds.payments if status == "paid"}
    return [
        (bid, rid, cid, s)
        for bid, rid, cid, s, _e in booking_rows(ds)
        if s >= from_ts and bid not in paid
    ]
