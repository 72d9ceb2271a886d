"""The .ics invite and the Google / Outlook links carry the call's exact UTC times."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event, vCalAddress
from icalendar.parser import Contentline

from domain.booking.links import fill_links, fill_links_in_calendar
from domain.calendar import files
from domain.calendar.files import booking_ics, google_calendar_url, outlook_calendar_url

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
NOW = datetime(2026, 11, 20, 9, 15, 42, 123456, tzinfo=UTC)


INVITE = {
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


def invite(**overrides) -> str:
    return booking_ics(**(INVITE | overrides))


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


FOLD_EDGES = {
    "short": {},
    "at the fold": {"summary": "S" * (75 - len("SUMMARY:") - 1)},
    "one past it": {"summary": "S" * (75 - len("SUMMARY:"))},
    "two past it": {"summary": "S" * (75 - len("SUMMARY:") + 1)},
    "escape at the fold": {"summary": "S" * 66 + ",;\\" * 10},
    "non-ASCII": {"attendee_name": "Zoë Ñúñez-Brontë", "summary": "Appel — é" * 12},
    "a caret": {"attendee_name": "Ada ^ Lovelace " * 5},
    "long everything": {"description": "Where: a video call.\nManage: " + "x/" * 80},
}


def icalendar_invite(**overrides) -> str:
    """The invite as icalendar writes it from Calendar and Event objects (how booking_ics
    made it before it wrote the lines itself)."""
    values = {**INVITE, **overrides}
    calendar = Calendar()
    calendar.add("prodid", files.PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", values.get("method", "REQUEST"))
    event = Event()
    event.add("uid", values["uid"])
    event.add("dtstamp", values["now"].astimezone(UTC).replace(microsecond=0))
    event.add("dtstart", values["start"].astimezone(UTC))
    event.add("dtend", values["end"].astimezone(UTC))
    event.add("summary", values["summary"])
    event.add("description", values["description"])
    event.add("url", values["location_url"])
    if values.get("location"):
        event.add("location", values["location"])
    organizer = vCalAddress(f"mailto:{values['organizer_email']}")
    organizer.params["CN"] = values["organizer_name"]
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{values['attendee_email']}")
    attendee.params["CN"] = values["attendee_name"]
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["RSVP"] = "TRUE"
    event.add("attendee", attendee)
    event.add("sequence", values.get("sequence", 0))
    event.add("status", files.ICS_METHODS[values.get("method", "REQUEST")])
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


WRITTEN_EDGES = {
    "a location": {"location": "Phone: +44 20 7946 0000, ext. 12; ask for Ada"},
    "a cancellation": {"method": "CANCEL", "sequence": 3},
    "quotes and colons in names": {"organizer_name": 'Saed "S" Shafane: AI', "attendee_name":
                                   'Ada "The Countess"; Lovelace, CTO'},  # fmt: skip
    "line ends of every kind": {"description": "one\r\ntwo\rthree\nfour\\N five\\n"},
    "a time in another zone": {"start": START.astimezone(ZoneInfo("Asia/Kolkata")),
                               "end": END.astimezone(ZoneInfo("America/New_York"))},
    "seconds and microseconds": {"start": START.replace(second=5, microsecond=7),
                                 "now": NOW.replace(year=999)},
    "a long UID and URL": {"uid": "booking-123456789@" + "sub." * 20 + "example.test",
                           "location_url": "https://example.test/" + "é" * 40},
}  # fmt: skip


@pytest.mark.parametrize("edge", sorted(FOLD_EDGES | WRITTEN_EDGES))
def test_invite_is_written_and_folded_exactly_as_icalendar_writes_it(edge):
    overrides = (FOLD_EDGES | WRITTEN_EDGES)[edge]
    assert invite(**overrides) == icalendar_invite(**overrides)


def refolded_whole(ics_text: str, urls) -> str:
    """fill_links_in_calendar as it was: every line unfolded and folded again."""
    unfolded = re.sub(r"\r\n[ \t]", "", ics_text)
    lines = fill_links(unfolded, urls).split("\r\n")
    return "\r\n".join(Contentline(line).to_ical().decode("utf-8") for line in lines)


@pytest.mark.parametrize("edge", sorted(FOLD_EDGES))
def test_links_fill_an_invite_as_refolding_it_whole_did(edge):
    placeholder = "[[manage-link:7]]"
    description = FOLD_EDGES[edge].get("description", "Call.") + f"\nManage: {placeholder}"
    ics = invite(**FOLD_EDGES[edge] | {"location_url": placeholder, "description": description})
    urls = {7: "https://example.test/booking/" + "T" * 43}
    assert fill_links_in_calendar(ics, urls) == refolded_whole(ics, urls)
    assert fill_links_in_calendar(ics, {}) == refolded_whole(ics, {})
    _, event = only_event(fill_links_in_calendar(ics, urls))
    assert str(event["URL"]) == urls[7]
