"""Busy times from the owner's own calendars: iCalendar text in, merged UTC intervals out.

Feeds are hostile input. Recurrences (with EXDATE and RECURRENCE-ID exceptions) are
expanded by recurring-ical-events; floating times in a feed that names its zone in
X-WR-TIMEZONE (Google's habit) are placed in it by x-wr-timezone. Transparent ("free")
and cancelled events block nothing. All-day events and floating times in a feed that names
no zone are read in the owner's zone, as the owner sees them in their calendar app.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
import x_wr_timezone
from icalendar import Calendar, Component

# A feed that expands to more instances than this over the horizon is refused, rather than
# letting a FREQ=SECONDLY rule eat the worker.
MOST_INSTANCES = 50_000


class CalendarDataError(ValueError):
    """The text is not a calendar we can read; the message is safe to show the owner."""


def parse_calendars(text: str | bytes) -> list[Calendar]:
    """Every VCALENDAR in the text, with X-WR-TIMEZONE floating times made zoned."""
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise CalendarDataError("this is not iCalendar data") from error
    if not calendars:
        raise CalendarDataError("this is not iCalendar data")
    try:
        return [x_wr_timezone.to_standard(calendar) for calendar in calendars]
    except (ValueError, KeyError) as error:
        raise CalendarDataError("its X-WR-TIMEZONE is not a known time zone") from error


def event_count(calendars: Iterable[Calendar]) -> int:
    """Events as the owner would count them: a recurring series counts once."""
    return len({_event_key(event) for calendar in calendars for event in calendar.walk("VEVENT")})


def busy_intervals(
    calendars: Iterable[Calendar], start: datetime, end: datetime, owner_timezone: str
) -> list[tuple[datetime, datetime]]:
    """Merged, sorted UTC spans during which the calendars are busy within [start, end)."""
    zone = ZoneInfo(owner_timezone)
    spans = [
        span
        for calendar in calendars
        for span in _instance_spans(calendar, start, end, zone)
        if span[1] > start and span[0] < end
    ]
    return merge(spans)


def merge(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for span_start, span_end in sorted(spans):
        if merged and span_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span_end))
        else:
            merged.append((span_start, span_end))
    return merged


def _instance_spans(
    calendar: Calendar, start: datetime, end: datetime, zone: ZoneInfo
) -> Iterator[tuple[datetime, datetime]]:
    try:
        instances = recurring_ical_events.of(calendar, skip_bad_series=True).between(
            start.astimezone(zone), end.astimezone(zone)
        )
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        raise CalendarDataError("its recurring events cannot be read") from error
    for count, event in enumerate(instances, start=1):
        if count > MOST_INSTANCES:
            raise CalendarDataError(f"it has more than {MOST_INSTANCES:,} events in the window")
        if _blocks_time(event):
            span = _span(event, zone)
            if span is not None:
                yield span


def _blocks_time(event: Component) -> bool:
    transparency = str(event.get("TRANSP", "OPAQUE")).upper()
    status = str(event.get("STATUS", "CONFIRMED")).upper()
    return transparency != "TRANSPARENT" and status != "CANCELLED"


def _span(event: Component, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    if event.get("DTSTART") is None:
        return None
    starts = event.decoded("DTSTART")
    if event.get("DTEND") is not None:
        ends = event.decoded("DTEND")
    elif event.get("DURATION") is not None:
        ends = starts + event.decoded("DURATION")
    else:  # RFC 5545: a day for an all-day event, an instant (blocks nothing) otherwise
        ends = starts + timedelta(days=1) if not isinstance(starts, datetime) else starts
    span_start, span_end = _as_utc(starts, zone), _as_utc(ends, zone)
    return (span_start, span_end) if span_end > span_start else None


def _as_utc(moment: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _event_key(event: Component) -> str:
    uid = str(event.get("UID", "")) or repr(event.get("DTSTART"))
    return uid
