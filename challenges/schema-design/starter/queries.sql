-- The queries the booking API runs. Do not change them: make the schema serve them.
-- Timestamps are unix seconds (UTC), bound as integers.

-- name: resource_schedule
-- The calendar of one room: its bookings that overlap the window [:window_start, :window_end).
SELECT id, customer_id, starts_at, ends_at
FROM bookings
WHERE resource_id = :resource_id AND starts_at < :window_end AND ends_at > :window_start
ORDER BY starts_at;

-- name: customer_bookings
-- "My bookings" page: all bookings of one customer, earliest first.
SELECT id, resource_id, starts_at, ends_at
FROM bookings
WHERE customer_id = :customer_id
ORDER BY starts_at;

-- name: booking_payments
-- Payment attempts of one booking.
SELECT id, amount_cents, status
FROM payments
WHERE booking_id = :booking_id;

-- name: unpaid_upcoming
-- Reminder job: bookings starting at or after :from_ts that have no 'paid' payment yet.
SELECT b.id, b.resource_id, b.customer_id, b.starts_at
FROM bookings AS b
WHERE b.starts_at >= :from_ts
  AND NOT EXISTS (
      SELECT 1 FROM payments AS p WHERE p.booking_id = b.id AND p.status = 'paid'
  )
ORDER BY b.starts_at;
