"""Happy path: the schema loads, valid rows go in, the app's queries read them back."""

DAY0 = 1_767_225_600  # 2026-01-01T00:00:00Z, unix seconds
HOUR = 3600


def add_sample(db):
    ana = db.execute("INSERT INTO customers (name, email) VALUES ('Ana', 'ana@example.com')").lastrowid
    room = db.execute("INSERT INTO resources (name) VALUES ('Room A')").lastrowid
    ids = []
    for start_hour in (14, 9, 11):
        start = DAY0 + start_hour * HOUR
        ids.append(
            db.execute(
                "INSERT INTO bookings (resource_id, customer_id, starts_at, ends_at) VALUES (?, ?, ?, ?)",
                (room, ana, start, start + HOUR),
            ).lastrowid
        )
    db.execute(
        "INSERT INTO payments (booking_id, amount_cents, status) VALUES (?, 2500, 'paid')", (ids[1],)
    )
    return ana, room, ids


def test_visible_schema_loads(db):
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"customers", "resources", "bookings", "payments"} <= tables


def test_visible_booking_round_trip(db):
    ana, room, ids = add_sample(db)
    row = db.execute(
        "SELECT resource_id, customer_id, starts_at, ends_at FROM bookings WHERE id = ?", (ids[1],)
    ).fetchone()
    assert row == (room, ana, DAY0 + 9 * HOUR, DAY0 + 10 * HOUR)


def test_visible_customer_bookings_by_start(db):
    ana, room, ids = add_sample(db)
    rows = db.execute(
        "SELECT id, resource_id, starts_at, ends_at FROM bookings WHERE customer_id = :customer_id "
        "ORDER BY starts_at",
        {"customer_id": ana},
    ).fetchall()
    assert [r[0] for r in rows] == [ids[1], ids[2], ids[0]]


def test_visible_unpaid_upcoming(db):
    ana, room, ids = add_sample(db)
    rows = db.execute(
        "SELECT b.id FROM bookings AS b WHERE b.starts_at >= :from_ts AND NOT EXISTS ("
        "SELECT 1 FROM payments AS p WHERE p.booking_id = b.id AND p.status = 'paid') "
        "ORDER BY b.starts_at",
        {"from_ts": DAY0},
    ).fetchall()
    assert [r[0] for r in rows] == [ids[2], ids[0]]
