"""The owner's busy spans as the picker and the booking check read them (busy_between):
exactly the instants stored, whatever zone they were given in, only those that can reach
the window, and from a bounded range of the index on active starts."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert, text

from domain.booking.availability import AvailabilityValues, load_rules, save_values
from domain.booking.calls import cancel_call
from domain.booking.picker import busy_between, calls_reaching
from domain.booking.slots import Busy
from extensions import db
from models import Booking, BusyInterval
from tests.test_booking_slot_check import NOW, book

NEW_YORK = ZoneInfo("America/New_York")


def owner_hours(call_minutes: int, buffer_minutes: int) -> AvailabilityValues:
    return AvailabilityValues(
        timezone="Europe/London",
        weekly_hours={str(day): [["07:00", "21:00"]] for day in range(7)},
        call_minutes=call_minutes,
        buffer_minutes=buffer_minutes,
        min_notice_minutes=60,
        horizon_days=14,
        daily_limit=None,
        dates_off=[],
    )


def test_busy_spans_come_back_as_the_utc_instants_stored(app):
    with app.app_context():
        save_values(db.session, owner_hours(call_minutes=30, buffer_minutes=20))
        db.session.commit()
        kept = datetime(2026, 3, 24, 12, tzinfo=UTC)  # on the 50-minute grid from 07:00
        cancelled = datetime(2026, 3, 24, 13, 40, tzinfo=UTC)
        book(kept, 1)
        cancel_call(db.session, booking_id=book(cancelled, 2), now=NOW, plan_emails=lambda *_: [])
        # Given in New York's zone, to the microsecond: stored as UTC, read back the same.
        away = datetime(2026, 3, 25, 8, 15, 30, 123456, tzinfo=NEW_YORK)
        db.session.add(
            BusyInterval(
                source="caldav",
                feed_id=None,
                starts_at=away,
                ends_at=away + timedelta(hours=2, microseconds=7),
            )  # fmt: skip
        )
        db.session.commit()
        # The owner drops the buffer: the stored span still ends 20 minutes after the call,
        # and today's rule keeps that longer end rather than shortening it.
        save_values(db.session, owner_hours(call_minutes=30, buffer_minutes=0))
        db.session.commit()
        busy = busy_between(db.session, load_rules(db.session), NOW, NOW + timedelta(days=14))
    assert sorted(busy) == [
        Busy(kept, kept + timedelta(minutes=50)),
        Busy(away, away + timedelta(hours=2, microseconds=7), is_call=False),
    ]
    assert {span.start.utcoffset() for span in busy} == {timedelta(0)}
    assert busy[1].start == datetime(2026, 3, 25, 12, 15, 30, 123456, tzinfo=UTC)


def test_a_long_call_that_began_before_the_window_still_reaches_into_it(app):
    with app.app_context():
        save_values(db.session, owner_hours(call_minutes=480, buffer_minutes=240))
        db.session.commit()
        start = datetime(2026, 3, 24, 7, tzinfo=UTC)
        book(start, 1)
        rules = load_rules(db.session)
        # 07:00 + 8 h call + 4 h buffer: busy until 19:00, so a window from 18:00 meets it
        # and one from 19:00 does not.
        window_end = start + timedelta(days=1)
        reaching = busy_between(db.session, rules, start + timedelta(hours=11), window_end)
        after = busy_between(db.session, rules, start + timedelta(hours=12), window_end)
    assert reaching == [Busy(start, start + timedelta(hours=8))]
    assert after == []


def query_plan(session, statement) -> str:
    """The database's plan for `statement`, run with its real parameters."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"

    def explain(conn, cursor, sql, parameters, context, executemany):
        return ("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + sql, parameters

    if not sqlite:
        connection.execute(text("ANALYZE booking"))  # the planner sees the rows just added
    event.listen(connection, "before_cursor_execute", explain, retval=True)
    try:
        # The raw rows: the statement's own column types do not fit the plan's columns.
        rows = connection.execute(statement).cursor.fetchall()
    finally:
        event.remove(connection, "before_cursor_execute", explain)
    return "\n".join(str(row[-1]) for row in rows)


def two_years_of_calls() -> None:
    """One active call a day from a year before NOW to a year after, copied from one booked
    through book_call: history a site gathers, most of it far from any window."""
    first = datetime(2025, 3, 20, 10, tzinfo=UTC)
    book_id = book(datetime(2026, 3, 23, 10, tzinfo=UTC), 0)
    model = db.session.get(Booking, book_id)
    copied = {
        column.key: getattr(model, column.key)
        for column in Booking.__table__.columns
        if column.key not in ("id", "starts_at", "ends_at", "blocked_until", "submission_key")
    }
    rows = []
    for day in range(730):
        start = first + timedelta(days=day, minutes=30)  # beside the booked call, never on it
        rows.append({**copied, "starts_at": start, "ends_at": start + timedelta(minutes=30),
                     "blocked_until": start + timedelta(minutes=30),
                     "submission_key": f"history-{day}"})  # fmt: skip
    db.session.execute(insert(Booking), rows)
    db.session.commit()


def test_busy_calls_read_only_their_window_of_the_active_start_index(app):
    with app.app_context():
        save_values(db.session, owner_hours(call_minutes=30, buffer_minutes=0))
        db.session.commit()
        two_years_of_calls()
        plan = query_plan(db.session, calls_reaching(NOW, NOW + timedelta(days=30)))
        sqlite = db.engine.dialect.name == "sqlite"
    assert "uq_booking_active_start" in plan
    if sqlite:
        assert "starts_at>? AND starts_at<?" in plan
    else:
        index_condition = next(line for line in plan.splitlines() if "Index Cond" in line)
        assert "starts_at >=" in index_condition and "starts_at <" in index_condition
