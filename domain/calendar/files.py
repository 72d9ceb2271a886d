"""Calendar files and links for a strategy call: the .ics invite, Google and Outlook links.

Pure functions over aware datetimes. Every time leaves here in UTC, so a calendar in
any zone shows the call at the right instant without knowing where it was booked.
"""

import re
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import quote, urlencode

from icalendar import vCalAddress, vInt, vText, vUri
from icalendar.parser import Contentline

PRODUCT_ID = "-//Intelligence Library//Strategy calls//EN"
ICS_METHODS = {"REQUEST": "CONFIRMED", "CANCEL": "CANCELLED"}  # METHOD -> event STATUS
GOOGLE_CALENDAR_URL = "https://calendar.google.com/calendar/render"
OUTLOOK_CALENDAR_URL = "https://outlook.live.com/calendar/0/deeplink/compose"


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is refused, since its zone is a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(UTC)


def _calendar_address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    return address


def _attendee(email: str, name: str) -> vCalAddress:
    address = _calendar_address(email, name)
    address.params["ROLE"] = "REQ-PARTICIPANT"
    address.params["RSVP"] = "TRUE"
    return address


def booking_ics(
    *,
    uid: str,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    location_url: str,
    organizer_name: str,
    organizer_email: str,
    attendee_name: str,
    attendee_email: str,
    sequence: int = 0,
    method: str = "REQUEST",
    now: datetime,
    location: str | None = None,
) -> str:
    """An iCalendar (RFC 5545) invite, or its cancellation, as text with CRLF line endings.

    Calendars match an update to the event they hold by UID and keep the one with the
    highest SEQUENCE, so a reschedule or cancellation must reuse the UID and raise it.
    """
    if method not in ICS_METHODS:
        raise ValueError(f"method must be one of {sorted(ICS_METHODS)}, not {method!r}")
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise ValueError("a call must end after it starts")
    # The lines Calendar.to_ical() wrote, in its order (canonical properties first, the
    # rest by name), each value through the icalendar type it used: building Calendar and
    # Event objects only to walk them again was most of what an invite cost.
    lines = [
        *_CALENDAR_HEAD,
        f"METHOD:{_text(method)}",
        "BEGIN:VEVENT",
        f"SUMMARY:{_text(summary)}",
        f"DTSTART:{_time(start)}",
        f"DTEND:{_time(end)}",
        # iCalendar has no fractions of a second; keep DTSTAMP a whole second.
        f"DTSTAMP:{_time(as_utc(now).replace(microsecond=0))}",
        f"UID:{_text(uid)}",
        f"SEQUENCE:{vInt(sequence).to_ical().decode()}",
        _address_line("ATTENDEE", _attendee(attendee_email, attendee_name)),
        f"DESCRIPTION:{_text(description)}",
        *([f"LOCATION:{_text(location)}"] if location else []),
        _organizer_line(organizer_email, organizer_name),
        f"STATUS:{_text(ICS_METHODS[method])}",
        f"URL:{vUri(location_url).to_ical().decode()}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(map(folded_line, lines)) + "\r\n"


_CALENDAR_HEAD = (
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    f"PRODID:{vText(PRODUCT_ID).to_ical().decode()}",
    "CALSCALE:GREGORIAN",
)


def _text(value: str) -> str:
    return vText(value).to_ical().decode("utf-8")


def _time(moment: datetime) -> str:
    """A UTC time as icalendar's vDatetime writes it (without its type lookups)."""
    return (
        f"{moment.year:04}{moment.month:02}{moment.day:02}"
        f"T{moment.hour:02}{moment.minute:02}{moment.second:02}Z"
    )


def _address_line(name: str, address: vCalAddress) -> str:
    return str(Contentline.from_parts(name, address.params, address))


@lru_cache(maxsize=8)
def _organizer_line(email: str, name: str) -> str:
    # The owner, the same in every invite.
    return _address_line("ORGANIZER", _calendar_address(email, name))


# icalendar folds a line before the octet that would make it 75 (RFC 5545 3.1).
FOLD_AT = 75


def folded_line(line: str) -> str:
    """The content line as icalendar folds it."""
    if line.isascii() and len(line) < FOLD_AT and "\n" not in line:
        return line
    return Contentline(line).to_ical().decode("utf-8")


def _compact_utc(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y%m%dT%H%M%SZ")


def _iso_utc(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _url(base: str, query: dict[str, str]) -> str:
    # %20 rather than "+" for spaces: Outlook shows a "+" literally in the event body.
    # "/" and ":" are legal in a query and keep the times readable.
    return base + "?" + urlencode(query, quote_via=quote, safe="/:")


def google_calendar_url(*, title: str, start: datetime, end: datetime, details: str) -> str:
    """Google Calendar's "add event" page, filled in; times in UTC (the trailing Z)."""
    return _url(
        GOOGLE_CALENDAR_URL,
        {
            "action": "TEMPLATE",
            "text": title,
            "dates": f"{_compact_utc(start)}/{_compact_utc(end)}",
            "details": details,
        },
    )


def outlook_calendar_url(*, title: str, start: datetime, end: datetime, details: str) -> str:
    """Outlook.com's "new event" page, filled in; times as ISO 8601 in UTC."""
    return _url(
        OUTLOOK_CALENDAR_URL,
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": title,
            "startdt": _iso_utc(start),
            "enddt": _iso_utc(end),
            "body": details,
        },
    )


def uid_host(site_url: str) -> str:
    """The host part of a booking's UID: the site's host name, without scheme or port."""
    return site_url.split("://", 1)[-1].split("/")[0].split(":")[0] or "localhost"


def booking_uid(booking_id: int, site_url: str) -> str:
    """The UID of a call's event: the same in the visitor's invite, the owner's invite and
    the owner's CalDAV calendar, so every calendar sees one event, updated in place."""
    return f"booking-{booking_id}@{uid_host(site_url)}"


def booking_uid_pattern(site_url: str) -> re.Pattern[str]:
    """Matches the UID of any call this site booked (to tell its own events apart)."""
    return re.compile(rf"booking-\d+@{re.escape(uid_host(site_url))}", re.IGNORECASE)
