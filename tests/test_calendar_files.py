"""The .ics invite and the Google / Outlook links carry the call's exact UTC times."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from domain.calendar.files import booking_ics, google_calendar_url, outlook_calendar_url

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
NOW = datetime(2026, 11, 20, 9, 15, 42, 123456, tzinfo=UTC)


def invite(**overrides) -> str:
    values = {
        "uid": "booking-7@example.test",
        "start": START,
        "end": END,
        "summary": "AI strategy call with Saed Shafane",
        "description": "Strategy call. Manage: https://example.test/booking/tok",
        "location_url": "https://example.test/booking/tok",
        "organizer_name": "Saed Shafane",
        "organizer_email": "owner@example.test",
        "attendee_name": "Ada Lovelace, CTO",
        "attendee_email": "ada@analytical.example",
        "now": NOW,
    }
    return booking_ics(**(values | overrides))


def only_event(text: str):
    calendar = Calendar.from_ical(text)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_invite_parses_back_with_utc_times_people_and_identity():
    calendar, event = only_event(invite())
    assert str(calendar["VERSION"]) == "2.0"
    assert "Strategy calls" in str(calendar["PRODID"])
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "booking-7@example.test"
    assert event.decoded("DTSTART") == START
    assert event.decoded("DTEND") == END
    assert event.decoded("DTSTAMP") == NOW.replace(microsecond=0)
    assert str(event["SUMMARY"]) == "AI strategy call with Saed Shafane"
    assert str(event["URL"]) == "https://example.test/booking/tok"
    assert "Manage: https://example.test/booking/tok" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:owner@example.test"
    assert event["ORGANIZER"].params["CN"] == "Saed Shafane"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:ada@analytical.example"
    assert attendee.params["CN"] == "Ada Lovelace, CTO"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["RSVP"] == "TRUE"
    assert event.decoded("SEQUENCE") == 0
    assert str(event["STATUS"]) == "CONFIRMED"


def test_invite_writes_times_in_utc_with_z_and_crlf_lines():
    text = invite(start=START.astimezone(ZoneInfo("Asia/Kolkata")))
    assert "DTSTART:20261126T140000Z\r\n" in text
    assert "DTEND:20261126T143000Z\r\n" in text
    assert "TZID" not in text
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    # RFC 5545 folds lines at 75 octets; a long description must not break that.
    long_text = invite(description="word " * 60)
    assert all(len(line.encode()) <= 75 for line in long_text.split("\r\n"))


def test_cancellation_keeps_the_uid_and_carries_method_status_and_sequence():
    calendar, event = only_event(invite(method="CANCEL", sequence=2))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("SEQUENCE") == 2
    assert str(event["UID"]) == "booking-7@example.test"


def test_invite_refuses_naive_times_unknown_methods_and_backwards_calls():
    with pytest.raises(ValueError, match="aware"):
        invite(start=START.replace(tzinfo=None))
    with pytest.raises(ValueError, match="method"):
        invite(method="PUBLISH")
    with pytest.raises(ValueError, match="end after"):
        invite(end=START)


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_google_link_carries_utc_times_title_and_details():
    url = google_calendar_url(
        title="Strategy call & next steps #1",
        start=START.astimezone(ZoneInfo("America/New_York")),
        end=END,
        details="Manage: https://example.test/booking/a+b?x=1",
    )
    assert url.startswith("https://calendar.google.com/calendar/render?")
    assert " " not in url and "+" not in url
    assert query_of(url) == {
        "action": "TEMPLATE",
        "text": "Strategy call & next steps #1",
        "dates": "20261126T140000Z/20261126T143000Z",
        "details": "Manage: https://example.test/booking/a+b?x=1",
    }


def test_outlook_link_carries_iso_utc_times_subject_and_body():
    url = outlook_calendar_url(
        title="Strategy call & next steps", start=START, end=END, details="Line one\nLine two"
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://outlook.live.com/calendar/0/deeplink/compose"
    )
    assert query_of(url) == {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": "Strategy call & next steps",
        "startdt": "2026-11-26T14:00:00Z",
        "enddt": "2026-11-26T14:30:00Z",
        "body": "Line one\nLine two",
    }
    assert "%20" in url and "+" not in url
