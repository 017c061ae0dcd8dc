"""No two bookings of one resource overlap, on insert or on update."""

import pytest

from _data import HOUR
from _helpers import T9, assert_rejected, seed

INSERT_BOOKING = "INSERT INTO bookings (resource_id, customer_id, starts_at, ends_at) VALUES (?, ?, ?, ?)"
M = 60


@pytest.fixture
def ids(db):
    return seed(db)  # Room A is booked 09:00-10:00


@pytest.mark.parametrize(
    "start,end",
    [
        pytest.param(T9, T9 + HOUR, id="same-slot"),
        pytest.param(T9 - 30 * M, T9 + 30 * M, id="overlaps-start"),
        pytest.param(T9 + 30 * M, T9 + 90 * M, id="overlaps-end"),
        pytest.param(T9 + 15 * M, T9 + 45 * M, id="inside"),
        pytest.param(T9 - HOUR, T9 + 2 * HOUR, id="encloses"),
        pytest.param(T9 + HOUR - 1, T9 + 2 * HOUR, id="one-second-overlap"),
    ],
)
def test_overlapping_insert_rejected(db, ids, start, end):
    assert_rejected(db, "bookings", INSERT_BOOKING, (ids["room_a"], ids["customer"], start, end))


def test_moving_a_booking_onto_another_rejected(db, ids):
    other = db.execute(INSERT_BOOKING, (ids["room_a"], ids["customer"], T9 + 2 * HOUR, T9 + 3 * HOUR)).lastrowid
    assert_rejected(
        db, "bookings", "UPDATE bookings SET starts_at = ?, ends_at = ? WHERE id = ?",
        (T9 + 30 * M, T9 + 90 * M, other),
    )


def test_stretching_a_booking_over_its_neighbour_rejected(db, ids):
    db.execute(INSERT_BOOKING, (ids["room_a"], ids["customer"], T9 + HOUR, T9 + 2 * HOUR))
    assert_rejected(db, "bookings", "UPDATE bookings SET ends_at = ? WHERE id = ?", (T9 + HOUR + 1, ids["booking"]))


def test_moving_a_booking_to_a_busy_room_rejected(db, ids):
    other = db.execute(INSERT_BOOKING, (ids["room_b"], ids["customer"], T9 + 30 * M, T9 + 90 * M)).lastrowid
    assert_rejected(db, "bookings", "UPDATE bookings SET resource_id = ? WHERE id = ?", (ids["room_a"], other))
