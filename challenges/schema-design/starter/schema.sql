-- Room booking service: database schema (first draft).
-- Loaded into SQLite with PRAGMA foreign_keys = ON.
-- Column names are final: the API code already uses them.

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT,
    email TEXT
);

CREATE TABLE resources (
    id INTEGER PRIMARY KEY,
    name TEXT
);

CREATE TABLE bookings (
    id INTEGER PRIMARY KEY,
    resource_id TEXT,
    customer_id TEXT,
    starts_at TEXT,
    ends_at TEXT
);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    booking_id TEXT,
    amount_cents TEXT,
    status TEXT
);

-- TODO: the calendar page is slow and we had two double bookings last week.
