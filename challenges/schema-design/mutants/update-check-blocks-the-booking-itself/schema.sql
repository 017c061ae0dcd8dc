-- Room booking service: database schema.
-- Loaded into SQLite with PRAGMA foreign_keys = ON.
-- Timestamps are unix seconds (UTC) stored as INTEGER; money is integer cents.
-- STRICT tables reject values of the wrong type ('2026-03-02 09:00' as a start, 12.5 cents).

CREATE TABLE customers (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL,
    email TEXT NOT NULL COLLATE NOCASE UNIQUE
) STRICT;

CREATE TABLE resources (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL
) STRICT;

CREATE TABLE bookings (
    id          INTEGER PRIMARY KEY,
    resource_id INTEGER NOT NULL REFERENCES resources (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
) STRICT;

CREATE TABLE payments (
    id           INTEGER PRIMARY KEY,
    booking_id   INTEGER NOT NULL REFERENCES bookings (id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'refunded', 'failed'))
) STRICT;

-- resource_schedule (and the overlap triggers): equality on the room, range on the start,
-- rows already in start order.
CREATE INDEX bookings_resource_start ON bookings (resource_id, starts_at);
-- customer_bookings; also serves the foreign key check when a customer is deleted.
CREATE INDEX bookings_customer_start ON bookings (customer_id, starts_at);
-- unpaid_upcoming: range on the start across all rooms.
CREATE INDEX bookings_start ON bookings (starts_at);
-- booking_payments and the NOT EXISTS probe of unpaid_upcoming; also the FK check.
CREATE INDEX payments_booking_status ON payments (booking_id, status);

-- No two bookings of one room may overlap: [s1, e1) and [s2, e2) overlap when
-- s1 < e2 AND e1 > s2. Back-to-back bookings (e1 = s2) are fine.
CREATE TRIGGER bookings_no_overlap_insert
BEFORE INSERT ON bookings
WHEN EXISTS (
    SELECT 1 FROM bookings AS b
    WHERE b.resource_id = NEW.resource_id
      AND b.starts_at < NEW.ends_at
      AND b.ends_at > NEW.starts_at
)
BEGIN
    SELECT RAISE(ABORT, 'booking overlaps another booking of this resource');
END;

CREATE TRIGGER bookings_no_overlap_update
BEFORE UPDATE OF resource_id, starts_at, ends_at ON bookings
WHEN EXISTS (
    SELECT 1 FROM bookings AS b
    WHERE b.resource_id = NEW.resource_id
      AND b.starts_at < NEW.ends_at
      AND b.ends_at > NEW.starts_at
)
BEGIN
    SELECT RAISE(ABORT, 'booking overlaps another booking of this resource');
END;
