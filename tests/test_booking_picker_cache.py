"""The picker's per-process cache never offers a time that is no longer free: every write
to the calls or busy times changes the availability stamp in its own transaction, so the
very next page is computed afresh (issue 10)."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from sqlalchemy import delete

from domain.booking.calls import cancel_call
from domain.booking.picker import next_minute
from domain.booking.stamp import current_stamp
from extensions import db
from models import Booking, BusyInterval
from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS


def offered(client, path: str, day: str) -> list[str]:
    html = client.get(
        path, query_string={"article": ARTICLE_SLUG, "timezone": "Europe/London", "day": day}
    ).get_data(as_text=True)
    return [unquote(s) for s in re.findall(r"slot=([0-9T%A-Z:\-]+Z)", html)]


def parse(slot: str) -> datetime:
    return datetime.strptime(slot, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_a_slot_just_booked_is_no_longer_offered(client, visitor):
    slot = visitor.free_slots()[0]
    day = parse(slot).date().isoformat()
    for path in ("/book", "/book/times"):
        assert slot in offered(client, path, day)  # both views now cached with the slot
    form = visitor.form_for(slot)
    response = client.post(
        "/book", query_string={"article": ARTICLE_SLUG}, data={**form, **VALID_ANSWERS}
    )
    assert response.status_code == 303
    for path in ("/book", "/book/times"):
        times = offered(client, path, day)
        assert times and slot not in times


def test_busy_times_and_a_cancelled_call_show_at_once(app, client, visitor):
    slot = visitor.free_slots()[2]
    day = parse(slot).date().isoformat()
    assert slot in offered(client, "/book", day)
    with app.app_context():
        db.session.add(
            BusyInterval(
                source="feed",
                feed_id=None,
                starts_at=parse(slot),
                ends_at=parse(slot) + timedelta(minutes=30),
            )  # fmt: skip
        )
        db.session.commit()
    assert slot not in offered(client, "/book", day)
    with app.app_context():
        db.session.execute(delete(BusyInterval))  # as a sync replaces a feed's rows
        db.session.commit()
    assert slot in offered(client, "/book", day)
    assert visitor.book().status_code == 303
    booked = visitor.free_slots()  # the first time is taken now
    assert slot != booked[0]
    with app.app_context():
        booking = db.session.scalars(db.select(Booking)).one()
        taken = booking.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert taken not in offered(client, "/book", booking.starts_at.date().isoformat())
        cancel_call(
            db.session, booking_id=booking.id, now=datetime.now(UTC), plan_emails=lambda *_: []
        )
        db.session.commit()
    assert taken in offered(client, "/book", parse(taken).date().isoformat())


def test_a_write_rolled_back_leaves_the_stamp_and_a_committed_one_changes_it(app):
    with app.app_context():
        before = current_stamp(db.session)
        db.session.add(
            BusyInterval(
                source="feed",
                feed_id=None,
                starts_at=datetime(2030, 1, 1, tzinfo=UTC),
                ends_at=datetime(2030, 1, 1, 1, tzinfo=UTC),
            )  # fmt: skip
        )
        db.session.flush()
        db.session.rollback()
        assert current_stamp(db.session) == before
        db.session.execute(delete(BusyInterval))
        db.session.commit()
        assert current_stamp(db.session) not in (None, before)


def test_views_are_computed_at_the_next_whole_minute():
    assert next_minute(datetime(2026, 6, 1, 9, 0, tzinfo=UTC)) == datetime(
        2026, 6, 1, 9, 0, tzinfo=UTC
    )
    assert next_minute(datetime(2026, 6, 1, 9, 0, 0, 1, tzinfo=UTC)) == datetime(
        2026, 6, 1, 9, 1, tzinfo=UTC
    )


def test_the_owners_new_hours_show_on_the_next_page(app, client, visitor):
    from domain.booking.availability import load_values, save_values

    slot = visitor.free_slots()[0]
    day = parse(slot).date().isoformat()
    assert slot in offered(client, "/book", day)
    with app.app_context():
        values = load_values(db.session)
        values.dates_off = [day]
        save_values(db.session, values)
        db.session.commit()
    for path in ("/book", "/book/times"):
        assert slot not in offered(client, path, day)


def test_a_flashed_message_shows_on_a_page_otherwise_reused(client, open_hours):
    first = client.get("/book").get_data(as_text=True)
    with client.session_transaction() as browser:
        browser["_flashes"] = [("message", "Your call is cancelled.")]
    page = client.get("/book").get_data(as_text=True)
    assert "Your call is cancelled." in page and "Your call is cancelled." not in first
    assert "Your call is cancelled." not in client.get("/book").get_data(as_text=True)
