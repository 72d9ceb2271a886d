"""The booking's slot check reads only what can refuse the chosen time (the calls of its
day, and the calls and calendar busy times that reach it), yet answers exactly as the
full picture of every busy span over the horizon does."""

import random
from datetime import UTC, datetime, time, timedelta

from domain.booking.availability import AvailabilityValues, load_rules, save_values
from domain.booking.calls import BookingRequest, book_call, busy_bookings, slot_problem_at
from domain.booking.slots import available_slots, slot_problem
from extensions import db
from models import BusyInterval

NOW = datetime(2026, 3, 20, 9, 17, tzinfo=UTC)  # the horizon crosses London's clock change


def owner_hours(call_minutes: int, buffer_minutes: int, daily_limit: int | None):
    return AvailabilityValues(
        timezone="Europe/London",
        weekly_hours={str(day): [["07:00", "12:00"], ["13:00", "21:00"]] for day in range(7)},
        call_minutes=call_minutes,
        buffer_minutes=buffer_minutes,
        min_notice_minutes=60,
        horizon_days=14,
        daily_limit=daily_limit,
        dates_off=[],
    )


def book(start: datetime, number: int) -> int:
    """A call booked through book_call at `start` (its id); `number` makes the visitor."""
    request = BookingRequest(
        name=f"Visitor {number}", email=f"visitor{number}@example.org", company="Example Ltd",
        role="CTO", company_size="51-200", signals=(), message="", consent_version="test",
        start=start, visitor_timezone="Europe/London", submission_key=f"{number:032x}",
    )  # fmt: skip
    return book_call(db.session, request, now=NOW, plan_emails=lambda *_: []).booking_id


def calendar_busy_time(start: datetime, minutes: int) -> None:
    db.session.add(
        BusyInterval(
            source="caldav",
            feed_id=None,
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
        )  # fmt: skip
    )


def every_grid_start(rules) -> list[datetime]:
    """Each candidate a visitor could send, free or not, plus a few off the grid."""
    starts = available_slots(rules, [], NOW)
    too_soon = NOW.replace(hour=10, minute=0)  # on the grid, inside the hour's notice
    return [too_soon, *starts, *(start + timedelta(minutes=10) for start in starts[::7])]


def test_the_slot_check_agrees_with_every_busy_span(app):
    shuffled = random.Random(11)
    with app.app_context():
        save_values(db.session, owner_hours(call_minutes=30, buffer_minutes=0, daily_limit=None))
        db.session.commit()
        free = available_slots(load_rules(db.session), [], NOW)
        for number, start in enumerate(sorted(shuffled.sample(free, 40))):
            book(start, number)
        # Calendar busy times: short ones, one across midnight, and a three-day absence.
        for start in shuffled.sample(free, 8):
            calendar_busy_time(start + timedelta(minutes=shuffled.choice([5, 40, 70])), 25)
        calendar_busy_time(datetime.combine(free[0].date(), time(23, 0), UTC), 9 * 60)
        calendar_busy_time(free[200], 3 * 24 * 60)
        db.session.commit()
        # The owner then changes the call length, buffer and limit: stored spans carry
        # the old buffer, and the check applies today's.
        save_values(db.session, owner_hours(call_minutes=45, buffer_minutes=20, daily_limit=3))
        db.session.commit()
        rules = load_rules(db.session)
        everything = busy_bookings(db.session, rules, NOW)
        answers = {
            start: (
                slot_problem_at(db.session, rules, NOW, start),
                slot_problem(rules, everything, NOW, start),
            )
            for start in every_grid_start(rules)
        }
    assert {start: pair for start, pair in answers.items() if pair[0] != pair[1]} == {}
    codes = {full for _, full in answers.values()}
    # The comparison covered every way a time can be refused here, and free times too.
    assert {None, "taken", "daily_limit", "outside_hours", "notice"} <= codes


def test_a_booking_sees_hours_the_owner_changed_after_the_last_booking(app):
    """The process keeps the rules it read; the owner's save must still reach the very
    next booking: a time the new hours leave out is refused, one they add is taken."""
    import pytest

    from domain.booking.calls import SlotUnavailable

    with app.app_context():
        save_values(db.session, owner_hours(call_minutes=30, buffer_minutes=0, daily_limit=None))
        db.session.commit()
        day = (NOW + timedelta(days=2)).date()
        at = lambda hour: datetime.combine(day, time(hour), UTC)  # noqa: E731 (London = UTC in March)
        book(at(8), 1)  # read and kept the morning hours
        evenings = owner_hours(call_minutes=30, buffer_minutes=0, daily_limit=None)
        evenings.weekly_hours = {str(d): [["17:00", "23:00"]] for d in range(7)}
        save_values(db.session, evenings)
        db.session.commit()
        with pytest.raises(SlotUnavailable):
            book(at(9), 2)
        book(at(22), 3)


def test_a_booking_uses_the_rules_saved_after_this_process_last_read_them(app):
    """The write checks when the settings were saved inside its own transaction: a save
    made elsewhere after the request read the rules still decides the booking."""
    from sqlalchemy.orm import Session

    from domain.booking.calls import current_settings

    with app.app_context():
        save_values(db.session, owner_hours(call_minutes=30, buffer_minutes=0, daily_limit=None))
        db.session.commit()
        current_settings(db.session)  # this process now holds the 30-minute rules
        db.session.commit()
        with Session(db.engine) as elsewhere:  # the owner's save, in another process
            save_values(elsewhere, owner_hours(call_minutes=45, buffer_minutes=0, daily_limit=None))
            elsewhere.commit()
        start = datetime.combine((NOW + timedelta(days=2)).date(), time(10, 0), UTC)  # both grids
        booking_id = book(start, 1)
        db.session.expire_all()
        from models import Booking

        assert db.session.get(Booking, booking_id).ends_at == start + timedelta(minutes=45)


def test_a_time_the_rules_saved_elsewhere_open_is_booked_though_this_process_held_older(app):
    """The rules this process holds may refuse a time only once they are checked against
    the stored ones: the owner opened the evening in another process, 22:00 is booked."""
    from sqlalchemy.orm import Session

    from domain.booking.calls import current_settings

    with app.app_context():
        save_values(db.session, owner_hours(call_minutes=30, buffer_minutes=0, daily_limit=None))
        db.session.commit()
        current_settings(db.session)  # this process now holds hours that end at 21:00
        db.session.commit()
        evenings = owner_hours(call_minutes=30, buffer_minutes=0, daily_limit=None)
        evenings.weekly_hours = {str(d): [["17:00", "23:00"]] for d in range(7)}
        with Session(db.engine) as elsewhere:
            save_values(elsewhere, evenings)
            elsewhere.commit()
        book(datetime.combine((NOW + timedelta(days=2)).date(), time(22), UTC), 1)
