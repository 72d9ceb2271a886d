"""The owner's CalDAV calendar, read for busy times (Fastmail, iCloud, Nextcloud, Radicale).

`sync_caldav_busy` fetches the events over the booking window as raw iCalendar, reads
them with domain/calendar/busy.py and replaces the BusyInterval rows of source "caldav"
in one transaction. The calls this site wrote into the calendar itself
(domain/calendar/caldav_write.py) are left out: they are busy as bookings already, and
counting them twice would stop a call being moved to a time that overlaps its old one.

A failure keeps the last rows and comes back as a `CalDAVSyncResult` with the error; the
password never appears in it (nor in the log).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import caldav
from icalendar import Calendar
from sqlalchemy import delete
from sqlalchemy.orm import Session

from domain.booking.slots import AvailabilityRules
from domain.calendar.busy import CalendarDataError, busy_intervals, merge, parse_calendars
from domain.calendar.files import booking_uid_pattern
from domain.platform.database import lock_for_transaction
from models import BusyInterval

log = logging.getLogger(__name__)

SOURCE = "caldav"
# The window is padded by a day so a call on the last bookable day still sees an event
# that starts before midnight UTC and runs into it.
WINDOW_PADDING = timedelta(days=1)


class CalDAVError(Exception):
    """The calendar could not be reached, found or read; the text is safe to show and log.

    `permanent` is True when trying again cannot help without the owner changing something
    the server refused outright (not a password or an outage: those are waited out)."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class CalDAVSettings:
    url: str
    username: str
    password: str
    calendar_name: str
    timeout: float = 15.0

    def __repr__(self) -> str:  # never print the password, even in a traceback
        return f"CalDAVSettings(url={safe_url(self.url)!r}, calendar={self.calendar_name!r})"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CalDAVSettings | None:
        """The settings, or None when CalDAV is off (CALDAV_URL empty)."""
        url = (config.get("CALDAV_URL") or "").strip()
        if not url:
            return None
        return cls(
            url=url,
            username=config.get("CALDAV_USERNAME") or "",
            password=config.get("CALDAV_PASSWORD") or "",
            calendar_name=(config.get("CALDAV_CALENDAR") or "").strip(),
            timeout=float(config.get("CALDAV_TIMEOUT") or 15),
        )


@dataclass(frozen=True)
class CalDAVSyncResult:
    ok: bool
    intervals: int = 0  # rows stored (0 on failure: the last rows stay)
    events: int = 0  # calendar objects read, the site's own calls included
    error: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"CalDAV: {self.intervals} busy interval(s) from {self.events} event(s)"
        return f"CalDAV: failed, last busy times kept: {self.error}"


def safe_url(url: str) -> str:
    """The URL without any user name or password written into it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def redacted(text: str, settings: CalDAVSettings) -> str:
    """`text` with the password, and any credentials in a URL, taken out."""
    if settings.password:
        text = text.replace(settings.password, "***")
    return re.sub(r"(https?://)[^/@\s]*@", r"\1", text)


def describe(error: BaseException, settings: CalDAVSettings) -> str:
    """A one-line account of a failure, fit for last_error and the log."""
    return redacted(f"{type(error).__name__}: {error}", settings)[:500]


def open_calendar(settings: CalDAVSettings) -> tuple[caldav.DAVClient, caldav.Calendar]:
    """The client and the calendar of that display name; raises CalDAVError."""
    try:
        client = _client(settings)
    except Exception as error:  # a URL the library cannot use
        raise CalDAVError(describe(error, settings)) from None
    try:
        calendars = client.principal().calendars()
        names = [(calendar.get_display_name() or "", calendar) for calendar in calendars]
    except Exception as error:
        client.close()
        raise CalDAVError(describe(error, settings)) from None
    wanted = settings.calendar_name
    exact = [calendar for name, calendar in names if name == wanted]
    loose = [calendar for name, calendar in names if name.casefold() == wanted.casefold()]
    if exact or loose:  # "work" finds "Work", unless there is a "work" as well
        return client, (exact or loose)[0]
    client.close()
    found = ", ".join(sorted(name for name, _ in names)) or "none"
    raise CalDAVError(f"no calendar named {settings.calendar_name!r} (found: {found})")


def _client(settings: CalDAVSettings) -> caldav.DAVClient:
    return caldav.DAVClient(
        url=settings.url,
        username=settings.username,
        password=settings.password,
        # Basic at once: a first unauthenticated request costs a 401 and, on servers that
        # slow down failed logins (Radicale waits a second), a delay on every connection.
        auth_type="basic",
        timeout=settings.timeout,
        # A 429 or 503 is an outage to wait out in the outbox, not a sleep in the worker.
        rate_limit_handle=False,
        enable_rfc6764=False,
    )


def sync_window(rules: AvailabilityRules, now: datetime) -> tuple[datetime, datetime]:
    return now, now + rules.min_notice + timedelta(days=rules.horizon_days) + WINDOW_PADDING


def fetch_calendar_data(settings: CalDAVSettings, start: datetime, end: datetime) -> list[str]:
    """Each calendar object with an instance in [start, end), as raw iCalendar text."""
    client, calendar = open_calendar(settings)
    try:
        # expand=False: the server picks the objects, recurring-ical-events expands them,
        # the same way as for feeds (servers differ in how well they expand).
        found = calendar.search(start=start, end=end, event=True, expand=False)
        return [str(item.data) for item in found if item.data]
    except Exception as error:
        raise CalDAVError(describe(error, settings)) from None
    finally:
        client.close()


def without_own_calls(calendars: list[Calendar], site_url: str) -> list[Calendar]:
    """The calendars with the events this site wrote (its bookings, by UID) taken out."""
    own = booking_uid_pattern(site_url)
    for calendar in calendars:
        calendar.subcomponents[:] = [
            component
            for component in calendar.subcomponents
            if not (component.name == "VEVENT" and own.fullmatch(str(component.get("UID", ""))))
        ]
    return calendars


def caldav_busy_spans(
    texts: list[str], rules: AvailabilityRules, now: datetime, site_url: str
) -> list[tuple[datetime, datetime]]:
    """Merged UTC busy spans over the window; an object that cannot be read is skipped,
    since one odd event must not hide every other commitment."""
    start, end = sync_window(rules, now)
    spans: list[tuple[datetime, datetime]] = []
    for text in texts:
        try:
            calendars = without_own_calls(parse_calendars(text), site_url)
            spans.extend(busy_intervals(calendars, start, end, rules.timezone))
        except CalendarDataError as error:
            log.warning("CalDAV: an event could not be read and was skipped: %s", error)
    return merge(spans)


def replace_busy_rows(session: Session, spans: list[tuple[datetime, datetime]]) -> None:
    """The "caldav" rows become `spans`, in the caller's transaction (no commit)."""
    # Two workers may read at once: without the lock both deletes could miss the other's
    # inserts, and the rows would double until the next read.
    lock_for_transaction(session, "busy_interval:caldav")
    session.execute(delete(BusyInterval).where(BusyInterval.source == SOURCE))
    session.add_all(
        BusyInterval(source=SOURCE, feed_id=None, starts_at=start, ends_at=end)
        for start, end in spans
    )


def sync_caldav_busy(
    session: Session, config: Mapping[str, Any], rules: AvailabilityRules, now: datetime
) -> CalDAVSyncResult | None:
    """Read the CalDAV calendar's busy times into BusyInterval; None when CalDAV is off.

    Commits on success. On failure nothing is written and the last rows stay."""
    settings = CalDAVSettings.from_config(config)
    if settings is None:
        return None
    start, end = sync_window(rules, now)
    try:
        texts = fetch_calendar_data(settings, start, end)
    except CalDAVError as error:
        log.warning("CalDAV busy times not read, the last ones are kept: %s", error)
        return CalDAVSyncResult(ok=False, error=str(error))
    spans = caldav_busy_spans(texts, rules, now, config.get("SITE_URL", ""))
    try:
        replace_busy_rows(session, spans)
        session.commit()
    except Exception:
        session.rollback()
        raise
    log.info("CalDAV: %s busy interval(s) from %s event(s)", len(spans), len(texts))
    return CalDAVSyncResult(ok=True, intervals=len(spans), events=len(texts))
