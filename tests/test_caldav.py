"""The owner's CalDAV calendar, two-way, against a real Radicale on loopback.

Bookings, reschedules and cancels reach the calendar through the outbox; a CalDAV outage
only delays them. The calendar's other events become busy intervals, the site's own calls
excepted.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from blueprints.booking.mail import plan_emails
from domain.booking.availability import load_rules
from domain.booking.calls import busy_bookings, cancel_call, reschedule_call
from domain.booking.location import save_location
from domain.booking.slots import Busy, available_slots
from domain.calendar.caldav_sync import sync_caldav_busy
from domain.calendar.files import booking_uid
from domain.mail.outbox import send_due_with_settings
from extensions import db
from models import Booking, BusyInterval, OutboxMessage
from tests.radicale_fixtures import PASSWORD

SITE_URL = "https://example.test"


@pytest.fixture
def settings(settings, caldav_settings):
    return settings | caldav_settings


def events_in(calendar) -> list:
    """Every VEVENT the calendar holds, read back over CalDAV and parsed with icalendar."""
    return [
        component
        for item in calendar.events()
        for component in Calendar.from_ical(item.data).walk("VEVENT")
    ]


def the_booking() -> Booking:
    db.session.expire_all()
    return db.session.scalars(select(Booking)).one()


def caldav_messages() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "caldav")))


def send_outbox(runner) -> str:
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    return result.output


def booked(app, visitor, runner) -> Booking:
    response = visitor.book()
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        booking = the_booking()
        db.session.expunge(booking)
    return booking


def test_a_booking_appears_in_the_caldav_calendar_with_the_invites_uid(
    app, visitor, runner, caldav_calendar
):
    booking = booked(app, visitor, runner)
    send_outbox(runner)

    (event,) = events_in(caldav_calendar)
    assert str(event["UID"]) == booking_uid(booking.id, SITE_URL)
    assert event.decoded("DTSTART") == booking.starts_at
    assert event.decoded("DTEND") == booking.ends_at
    assert "Ada Lovelace" in str(event["SUMMARY"])
    assert "Analytical Engines Ltd" in str(event["SUMMARY"])
    # No attendee: a scheduling server would otherwise send the visitor an invite of its own.
    assert "ATTENDEE" not in event and "ORGANIZER" not in event
    with app.app_context():
        visitor_invite = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "visitor_confirmation")
        )
        (invite_event,) = Calendar.from_ical(visitor_invite.attachments[0]["content"]).walk(
            "VEVENT"
        )
        assert str(invite_event["UID"]) == str(event["UID"])
        (message,) = caldav_messages()
        assert message.status == "sent"


def test_a_reschedule_moves_the_event_and_raises_its_sequence(
    app, visitor, runner, caldav_calendar
):
    booking = booked(app, visitor, runner)
    send_outbox(runner)
    new_start = datetime.fromisoformat(visitor.free_slots(days_ahead=4)[3])
    with app.test_request_context():
        reschedule_call(
            db.session,
            booking_id=booking.id,
            new_start=new_start,
            visitor_timezone="Europe/London",
            now=datetime.now(UTC),
            plan_emails=plan_emails,
        )
    send_outbox(runner)

    (event,) = events_in(caldav_calendar)
    assert str(event["UID"]) == booking_uid(booking.id, SITE_URL)
    assert event.decoded("DTSTART") == new_start
    assert int(event["SEQUENCE"]) == 1


def test_a_cancel_removes_the_event(app, visitor, runner, caldav_calendar):
    booking = booked(app, visitor, runner)
    send_outbox(runner)
    assert len(events_in(caldav_calendar)) == 1
    with app.test_request_context():
        cancel_call(
            db.session, booking_id=booking.id, now=datetime.now(UTC), plan_emails=plan_emails
        )
    send_outbox(runner)

    assert events_in(caldav_calendar) == []
    with app.app_context():
        assert {message.status for message in caldav_messages()} == {"sent"}


def test_writes_are_idempotent_so_a_late_or_repeated_one_does_no_harm(
    app, visitor, runner, caldav_calendar
):
    booking = booked(app, visitor, runner)
    with app.test_request_context():
        cancel_call(
            db.session, booking_id=booking.id, now=datetime.now(UTC), plan_emails=plan_emails
        )
        # The booking's first write, still waiting, is dropped: the cancel writes the state.
        assert [message.status for message in caldav_messages()] == ["cancelled", "pending"]
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.channel == "caldav")
            .values(status="pending", send_after=datetime.now(UTC) - timedelta(minutes=1))
        )
        db.session.commit()
    send_outbox(runner)  # both go out, in either order: the call is cancelled, so no event

    assert events_in(caldav_calendar) == []


def test_an_outage_only_delays_the_write_and_loses_nothing(
    app, visitor, runner, radicale, caldav_calendar, caplog
):
    radicale.stop()
    booking = booked(app, visitor, runner)
    output = send_outbox(runner)

    assert "retried 1" in output
    with app.app_context():
        assert the_booking().status == "active"
        (message,) = caldav_messages()
        assert message.status == "pending"
        assert message.attempts == 1
        assert "Connection" in message.last_error
        assert PASSWORD not in message.last_error
        emails = db.session.scalars(
            select(OutboxMessage.status).where(OutboxMessage.channel == "email")
        ).all()
        assert set(emails) == {"sent", "pending"}  # the reminder is due later
    assert PASSWORD not in caplog.text

    radicale.start()
    with app.app_context():  # the back-off has run its course
        db.session.execute(
            update(OutboxMessage)
            .values(send_after=datetime.now(UTC) - timedelta(seconds=1))
            .where(OutboxMessage.channel == "caldav")
        )
        db.session.commit()
    send_outbox(runner)

    (event,) = events_in(caldav_calendar)
    assert str(event["UID"]) == booking_uid(booking.id, SITE_URL)
    with app.app_context():
        (message,) = caldav_messages()
        assert message.status == "sent"


def test_a_calendar_that_is_not_there_is_waited_for_not_given_up(app, visitor, runner):
    app.config["CALDAV_CALENDAR"] = "No Such Calendar"
    booked(app, visitor, runner)
    send_outbox(runner)
    with app.app_context():
        (message,) = caldav_messages()
        assert message.status == "pending"
        assert "no calendar named 'No Such Calendar'" in message.last_error


def test_without_caldav_a_booking_queues_no_calendar_write(app, visitor, runner):
    app.config["CALDAV_URL"] = ""
    booked(app, visitor, runner)
    with app.app_context():
        assert caldav_messages() == []


CLIENT_MEETING = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Owner//Calendar app//EN
BEGIN:VEVENT
UID:client-meeting-1@owner.example
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/London:{day}T100000
DTEND;TZID=Europe/London:{day}T113000
SUMMARY:Board meeting at a client
END:VEVENT
END:VCALENDAR
"""


def client_meeting_day(days_ahead: int = 3):
    return (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=days_ahead)).date()


def london(day, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo("Europe/London"))


def test_a_client_meeting_in_the_calendar_becomes_busy_and_its_slots_go(
    app, visitor, runner, caldav_calendar
):
    day = client_meeting_day()
    caldav_calendar.save_event(CLIENT_MEETING.format(day=day.strftime("%Y%m%d")))
    booking = booked(app, visitor, runner)
    send_outbox(runner)  # the site's own call is in the calendar now too
    assert len(events_in(caldav_calendar)) == 2

    with app.app_context():
        rules = load_rules(db.session)
        now = datetime.now(UTC)
        result = sync_caldav_busy(db.session, app.config, rules, now)
        assert result.ok, result.error
        rows = db.session.scalars(select(BusyInterval)).all()
        # The meeting, and not the site's own call: that is busy as a booking already.
        assert [(row.source, row.feed_id, row.starts_at, row.ends_at) for row in rows] == [
            ("caldav", None, london(day, 10), london(day, 11, 30))
        ]
        busy = busy_bookings(db.session, rules, now) + [
            Busy(row.starts_at, row.ends_at) for row in rows
        ]
        free = available_slots(rules, busy, now)
    for taken in (london(day, 10), london(day, 10, 30), london(day, 11)):
        assert taken not in free
    assert london(day, 11, 30) in free and london(day, 9, 30) in free
    assert booking.starts_at not in free


def test_a_failed_read_keeps_the_last_busy_times(app, radicale, caldav_calendar, open_hours):
    day = client_meeting_day()
    caldav_calendar.save_event(CLIENT_MEETING.format(day=day.strftime("%Y%m%d")))
    with app.app_context():
        rules = load_rules(db.session)
        assert sync_caldav_busy(db.session, app.config, rules, datetime.now(UTC)).ok
        radicale.stop()
        result = sync_caldav_busy(db.session, app.config, rules, datetime.now(UTC))
        assert not result.ok
        assert PASSWORD not in result.error
        spans = db.session.execute(select(BusyInterval.starts_at, BusyInterval.ends_at)).all()
        assert spans == [(london(day, 10), london(day, 11, 30))]


def test_a_recurring_meeting_blocks_each_of_its_days(app, caldav_calendar, open_hours):
    day = client_meeting_day(2)
    weekly = CLIENT_MEETING.format(day=day.strftime("%Y%m%d")).replace(
        "SUMMARY:", "RRULE:FREQ=DAILY;COUNT=3\nSUMMARY:"
    )
    caldav_calendar.save_event(weekly)
    with app.app_context():
        result = sync_caldav_busy(db.session, app.config, load_rules(db.session), datetime.now(UTC))
        assert result.ok and result.intervals == 3
        starts = db.session.scalars(select(BusyInterval.starts_at).order_by("starts_at")).all()
    assert starts == [london(day + timedelta(days=n), 10) for n in range(3)]


def test_the_outbox_sender_also_works_for_caldav_through_the_settings(
    app, visitor, runner, caldav_calendar
):
    booked(app, visitor, runner)
    with app.app_context():
        report = send_due_with_settings(db.session, app.config, now=datetime.now(UTC))
    assert report.sent >= 3  # the visitor's and the owner's emails, and the calendar write
    assert len(events_in(caldav_calendar)) == 1


def test_caldav_sync_command_reads_the_calendar_and_says_what_it_found(
    app, runner, caldav_calendar, open_hours
):
    caldav_calendar.save_event(CLIENT_MEETING.format(day=client_meeting_day().strftime("%Y%m%d")))
    result = runner.invoke(args=["caldav", "sync"])
    assert result.exit_code == 0, result.output
    assert "1 busy interval(s) from 1 event(s)" in result.output


def test_caldav_sync_command_fails_loudly_but_safely_when_the_server_is_down(
    app, runner, radicale, caldav_calendar, open_hours
):
    radicale.stop()
    result = runner.invoke(args=["caldav", "sync"])
    assert result.exit_code == 1
    assert "failed, last busy times kept" in result.output
    assert PASSWORD not in result.output


def test_a_write_queued_before_caldav_was_turned_off_fails_visibly_on_the_dashboard(
    app, visitor, runner, owner
):
    booked(app, visitor, runner)
    app.config["CALDAV_URL"] = ""
    send_outbox(runner)
    with app.app_context():
        (message,) = caldav_messages()
        assert message.status == "failed"
        assert "CalDAV is off" in message.last_error
    page = owner.get("/owner/").get_data(as_text=True)
    assert "Call written into your CalDAV calendar" in page
    assert "CalDAV is off" in page
    assert owner.get("/metrics").status_code == 200


def test_erasing_a_lead_takes_its_calls_out_of_the_calendar(
    app, visitor, runner, caldav_calendar, owner
):
    booking = booked(app, visitor, runner)
    send_outbox(runner)
    assert len(events_in(caldav_calendar)) == 1
    response = owner.post(f"/owner/leads/{booking.lead_id}/erase", data={"confirm": booking.email})
    assert response.status_code == 303
    with app.app_context():
        (message,) = caldav_messages()
        assert message.lead_id is None and "Ada" not in message.subject + message.body_text
    send_outbox(runner)

    assert events_in(caldav_calendar) == []
    with app.app_context():
        assert [message.status for message in caldav_messages()] == ["sent"]


def test_racing_senders_write_each_call_once(app, caldav_calendar, open_hours):
    import threading

    from sqlalchemy.orm import Session

    from domain.calendar.caldav_write import enqueue_calendar_write
    from domain.mail.outbox import SendReport
    from models import Lead
    from tests.conftest import call_row

    now = datetime.now(UTC)
    with app.app_context():
        lead = Lead(
            email="ada@analytical-engines.co.uk",
            email_normalised="ada@analytical-engines.co.uk",
            name="Ada Lovelace",
            company="Analytical Engines Ltd",
            role="CTO",
            company_size="51-200",
            suggested_engagement="architect",
            consent_version="v1",
            consent_given_at=now,
        )
        for day in range(2, 8):
            booking = call_row(now + timedelta(days=day), lead=lead)
            db.session.add(booking)
            enqueue_calendar_write(db.session, booking, calendar_name="Work", now=now)
        db.session.commit()
        engine = db.engine
    start_together = threading.Barrier(3)
    reports: list[SendReport] = []

    def sender():
        with app.app_context(), Session(engine) as own_session:
            start_together.wait()
            reports.append(send_due_with_settings(own_session, app.config, now=now))

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(reports) == 3 and sum(report.sent for report in reports) == 6
    assert sum(report.retried + report.failed for report in reports) == 0
    assert len(events_in(caldav_calendar)) == 6


def test_an_event_filed_under_another_name_with_the_calls_uid_is_updated_in_place(
    app, visitor, runner, radicale, caldav_calendar
):
    """A mail client that files the owner's invite makes the call's event itself, under a
    name of its own: the site updates that one, and the calendar still shows one call."""
    booking = booked(app, visitor, runner)
    uid = booking_uid(booking.id, SITE_URL)
    filed = CLIENT_MEETING.format(day=client_meeting_day().strftime("%Y%m%d")).replace(
        "client-meeting-1@owner.example", uid
    )
    href = str(caldav_calendar.url.join("filed-by-mail-client.ics"))
    with radicale.client() as client:
        assert client.put(href, filed, {"Content-Type": "text/calendar"}).status == 201
    send_outbox(runner)

    (item,) = caldav_calendar.events()
    assert str(item.url).endswith("filed-by-mail-client.ics")
    (event,) = Calendar.from_ical(item.data).walk("VEVENT")
    assert event.decoded("DTSTART") == booking.starts_at
    with app.test_request_context():
        cancel_call(
            db.session, booking_id=booking.id, now=datetime.now(UTC), plan_emails=plan_emails
        )
    send_outbox(runner)
    assert events_in(caldav_calendar) == []


def test_a_wrong_password_is_waited_out_and_never_shown(app, visitor, runner):
    app.config["CALDAV_PASSWORD"] = "wrong-password-Qx81"
    booked(app, visitor, runner)
    send_outbox(runner)
    with app.app_context():
        (message,) = caldav_messages()
        assert message.status == "pending"  # the owner can fix the password; nothing is lost
        assert "Unauthorized" in message.last_error
        assert "wrong-password-Qx81" not in message.last_error


def test_the_calendar_name_is_found_whatever_its_case(app, visitor, runner, caldav_calendar):
    app.config["CALDAV_CALENDAR"] = caldav_calendar.get_display_name().upper()
    booked(app, visitor, runner)
    send_outbox(runner)
    assert len(events_in(caldav_calendar)) == 1


def test_the_calendar_sync_reads_caldav_too_and_the_meeting_leaves_book(
    app, visitor, runner, caldav_calendar
):
    day = client_meeting_day()
    caldav_calendar.save_event(CLIENT_MEETING.format(day=day.strftime("%Y%m%d")))
    meeting = london(day, 10).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    before_the_meeting = london(day, 9).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert meeting in visitor.free_slots()

    result = runner.invoke(args=["calendar", "sync"])  # what the worker runs every 5 min

    assert result.exit_code == 0, result.output
    free = visitor.free_slots()
    assert meeting not in free
    assert before_the_meeting in free


def test_the_calendar_event_says_where_the_call_happens(app, visitor, runner, caldav_calendar):
    with app.app_context():
        save_location(db.session, "video:https://meet.example.com/abc-defg-hij")
        db.session.commit()
    booked(app, visitor, runner)
    send_outbox(runner)

    (event,) = events_in(caldav_calendar)
    assert str(event["LOCATION"]) == "https://meet.example.com/abc-defg-hij"
    assert "https://meet.example.com/abc-defg-hij" in str(event["DESCRIPTION"])
    assert "Company size: 51–200 people" in str(event["DESCRIPTION"])
