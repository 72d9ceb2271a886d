"""Busy times from the owner's calendars at booking time: the check inside the booking
lock sees them, the daily limit does not count them, and rescheduling still works."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from domain.booking.availability import load_values, save_values
from domain.booking.slots import AvailabilityRules, Busy, available_slots
from extensions import db
from models import Booking, BusyInterval
from tests.conftest import VALID_ANSWERS
from tests.test_booking_pages import errors_in

pytestmark = pytest.mark.usefixtures("allow_private")


def parse(slot: str) -> datetime:
    return datetime.strptime(slot, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def busy_row(app, start: datetime, minutes: int = 30, source: str = "feed") -> None:
    """A busy interval as a sync (or the CalDAV reader, feed_id NULL) stores it."""
    with app.app_context():
        db.session.add(
            BusyInterval(
                source=source,
                feed_id=None,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
            )  # fmt: skip
        )
        db.session.commit()


def test_a_slot_that_became_busy_since_the_page_was_shown_is_refused(app, visitor):
    slot = visitor.free_slots()[3]
    form = visitor.form_for(slot)
    busy_row(app, parse(slot))  # the owner's calendar fills the time meanwhile
    response = visitor.client.post("/book", data={**form, **VALID_ANSWERS, "slot": slot})
    assert response.status_code in (400, 409)
    assert "That time was just taken, please pick another." in errors_in(response)
    page = response.get_data(as_text=True)
    others = re.findall(r'name="slot" id="slot-\d+" value="([^"]+)"', page)
    assert others and slot not in others
    with app.app_context():
        assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_busy_times_from_any_source_keep_the_buffer_like_calls(app, visitor):
    with app.app_context():
        values = load_values(db.session)
        values.buffer_minutes = 30
        values.call_minutes = 30
        save_values(db.session, values)
        db.session.commit()
    slots = [parse(s) for s in visitor.free_slots()]  # a grid every hour (call + buffer)
    busy_row(app, slots[2] + timedelta(minutes=45), minutes=15, source="caldav")
    free = [parse(s) for s in visitor.free_slots()]
    # Busy 45..60 min past slot 2: slot 2 overlaps it, and slot 3 starts inside its buffer.
    assert slots[2] not in free and slots[3] not in free
    assert slots[1] in free and slots[4] in free


def test_busy_times_do_not_count_towards_the_daily_limit():
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    rules = AvailabilityRules(
        timezone="Europe/London",
        weekly_hours={day: [(time(9), time(17))] for day in range(7)},
        call_minutes=60,
        min_notice=timedelta(hours=1),
        horizon_days=3,
        daily_limit=1,
    )
    day = datetime(2026, 12, 2, tzinfo=UTC)
    busy = [Busy(day.replace(hour=9), day.replace(hour=11), is_call=False)]
    on_the_day = [s for s in available_slots(rules, busy, now) if s.date() == day.date()]
    assert on_the_day[0] == day.replace(hour=11)
    call = [Busy(day.replace(hour=12), day.replace(hour=13))]
    assert not [s for s in available_slots(rules, call, now) if s.date() == day.date()]


def test_reschedule_works_beside_busy_times_and_refuses_them(app, client, visitor):
    location = visitor.book().headers["Location"]
    token = re.match(r"^/booking/([A-Za-z0-9_-]{43})/confirmed$", location).group(1)
    manage_url = f"/booking/{token}"
    free = visitor.free_slots()
    busy_row(app, parse(free[4]))
    refused = client.post(
        f"{manage_url}/reschedule",
        data={"slot": free[4], "timezone": "Europe/London"},
        follow_redirects=True,
    )
    assert "That time was just taken, please pick another." in refused.get_data(as_text=True)
    moved = client.post(
        f"{manage_url}/reschedule", data={"slot": free[6], "timezone": "Europe/London"}
    )
    assert moved.status_code == 303
    with app.app_context():
        starts = db.session.scalar(select(Booking.starts_at))
    assert starts == parse(free[6])
