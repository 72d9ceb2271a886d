"""Keeping the owner's busy times current: each feed read, parsed and stored.

A feed is claimed before it is fetched, with one conditional UPDATE on last_attempt_at,
so two workers (production runs two) fetch a feed once per period between them. The
fetch runs outside any transaction; what it yields is written in one: the copy, its
validators, and that feed's busy intervals over the booking horizon, replaced whole. A
failure writes only last_error: the last good copy and its intervals stay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, false, insert, or_, select, update
from sqlalchemy.orm import Session

from domain.booking.availability import load_rules
from domain.booking.slots import AvailabilityRules
from domain.calendar.busy import CalendarDataError, busy_intervals, event_count, parse_calendars
from domain.calendar.caldav_sync import sync_caldav_busy
from domain.calendar.feeds import FeedError, FetchOptions, fetch_feed, options_from_settings
from domain.platform.database import serialised_write
from domain.platform.utc_text import utc_text
from models import BusyInterval, CalendarFeed

log = logging.getLogger(__name__)

SYNC_PERIOD = timedelta(minutes=5)
STALE_AFTER = timedelta(hours=1)  # the dashboard warns about a feed older than this
FEED_SOURCE = "feed"

# A step run after the feeds on every pass, given (session, now); the CalDAV reader
# (domain/calendar/caldav_sync.py) is one. A failing step is logged and skipped.
SyncStep = Callable[[Session, datetime], object]


@dataclass(frozen=True)
class SyncResult:
    feed_id: int
    ok: bool
    message: str  # for the owner: what happened, or why it failed


def busy_window(rules: AvailabilityRules, now: datetime) -> tuple[datetime, datetime]:
    """From now to the last bookable moment, with a day to spare for zones and buffers."""
    return now, now + rules.min_notice + timedelta(days=rules.horizon_days + 1)


def calendar_spans(start: datetime, end: datetime) -> Select:
    """The statement for the stored busy intervals reaching into [start, end), in the
    columns of domain.booking.picker.calls_reaching (start, end, blocked until, is a
    call), so that one UNION ALL reads calls and busy times together."""
    ends_at = utc_text(BusyInterval.ends_at)
    return select(utc_text(BusyInterval.starts_at), ends_at, ends_at, false()).where(
        BusyInterval.ends_at > start, BusyInterval.starts_at < end
    )


def claim_feed(session: Session, feed_id: int, now: datetime, period: timedelta) -> bool:
    """Mark the feed attempted now, unless it was attempted within `period`; True if won."""
    with serialised_write(session):
        result = session.execute(
            update(CalendarFeed)
            .where(
                CalendarFeed.id == feed_id,
                or_(
                    CalendarFeed.last_attempt_at.is_(None),
                    CalendarFeed.last_attempt_at <= now - period,
                ),
            )
            .values(last_attempt_at=now)
        )
    return result.rowcount == 1


@dataclass(frozen=True)
class FeedCopy:
    """A feed read and expanded: what gets stored for it."""

    body: str
    etag: str | None
    last_modified: str | None
    changed: bool  # False on a 304: the stored copy was re-expanded
    spans: list[tuple[datetime, datetime]]
    count: int
    name: str | None  # the calendar's own name (X-WR-CALNAME), if it gives one


def read_feed(
    session: Session,
    url: str,
    *,
    now: datetime,
    options: FetchOptions,
    etag: str | None = None,
    last_modified: str | None = None,
    stored: str | None = None,
) -> FeedCopy:
    """Fetch (conditionally) and expand over the booking horizon; FeedError or
    CalendarDataError with a message for the owner."""
    if stored is None:  # validators without a copy to fall back on would be useless
        etag = last_modified = None
    fetched = fetch_feed(url, etag=etag, last_modified=last_modified, options=options)
    body = stored if fetched.not_modified else fetched.body
    if body is None:
        raise FeedError("The calendar server answered 304 (not modified) to a first request.")
    rules = load_rules(session)
    calendars = parse_calendars(body)
    spans = busy_intervals(calendars, *busy_window(rules, now), rules.timezone)
    names = [str(c.get("X-WR-CALNAME", "")).strip() for c in calendars]
    return FeedCopy(
        body=body,
        etag=etag if fetched.not_modified else fetched.etag,
        last_modified=last_modified if fetched.not_modified else fetched.last_modified,
        changed=not fetched.not_modified,
        spans=spans,
        count=event_count(calendars),
        name=next((name for name in names if name), None),
    )


def sync_feed(
    session: Session,
    feed_id: int,
    *,
    now: datetime,
    options: FetchOptions,
    period: timedelta = SYNC_PERIOD,
) -> SyncResult | None:
    """Fetch, parse and store one feed; None when another worker has it this period."""
    if not claim_feed(session, feed_id, now, period):
        return None
    feed = session.get(CalendarFeed, feed_id)
    if feed is None:
        return None
    known = {"etag": feed.etag, "last_modified": feed.last_modified, "stored": feed.body}
    url = feed.url
    session.commit()  # hold no transaction (nor SQLite's lock) while the network is slow
    try:
        copy = read_feed(session, url, now=now, options=options, **known)
    except (FeedError, CalendarDataError) as error:
        return _record_failure(session, feed_id, now, failure_message(error))
    except Exception:  # hostile content must never stop the worker or the page
        log.exception("calendar feed %s could not be read", feed_id)
        return _record_failure(session, feed_id, now, "The feed could not be read.")
    session.rollback()
    with serialised_write(session):
        store_copy(session, feed_id, copy, now)
    log.info("calendar feed %s synced: %s events, %s busy spans", feed_id, copy.count,
             len(copy.spans))  # fmt: skip
    return SyncResult(feed_id, True, summary(copy))


def summary(copy: FeedCopy) -> str:
    events = f"{copy.count} event{'' if copy.count == 1 else 's'}"
    return f"{events} read; {len(copy.spans)} busy times ahead."


def failure_message(error: Exception) -> str:
    if isinstance(error, CalendarDataError):
        return f"The feed could not be read: {error}."
    return str(error)


def store_copy(session: Session, feed_id: int, copy: FeedCopy, now: datetime) -> None:
    """Write the copy and replace the feed's intervals; call inside one transaction."""
    values = {"event_count": copy.count, "last_success_at": now, "last_error": None}
    if copy.changed:
        values |= {"body": copy.body, "etag": copy.etag, "last_modified": copy.last_modified}
    session.execute(update(CalendarFeed).where(CalendarFeed.id == feed_id).values(values))
    session.execute(delete(BusyInterval).where(BusyInterval.feed_id == feed_id))
    if copy.spans:
        session.execute(
            insert(BusyInterval),
            [
                {"source": FEED_SOURCE, "feed_id": feed_id, "starts_at": start, "ends_at": end}
                for start, end in copy.spans
            ],
        )


def _record_failure(session, feed_id: int, now: datetime, message: str) -> SyncResult:
    log.warning("calendar feed %s failed: %s", feed_id, message)
    with serialised_write(session):
        session.execute(
            update(CalendarFeed)
            .where(CalendarFeed.id == feed_id)
            .values(last_error=message, last_attempt_at=now)
        )
    return SyncResult(feed_id, False, message)


def sync_all(
    session: Session,
    *,
    now: datetime,
    options: FetchOptions,
    period: timedelta = SYNC_PERIOD,
    extra_steps: Sequence[SyncStep] = (),
) -> list[SyncResult]:
    """Sync every feed due in this period, then run the extra steps (CalDAV at merge)."""
    feed_ids = list(
        session.scalars(
            select(CalendarFeed.id)
            .where(
                or_(
                    CalendarFeed.last_attempt_at.is_(None),
                    CalendarFeed.last_attempt_at <= now - period,
                )
            )
            .order_by(CalendarFeed.id)
        )
    )
    session.commit()
    results = []
    for feed_id in feed_ids:
        result = sync_feed(session, feed_id, now=now, options=options, period=period)
        if result is not None:
            results.append(result)
    for step in extra_steps:
        try:
            step(session, now)
        except Exception:
            session.rollback()
            log.exception("calendar sync step %s failed", getattr(step, "__name__", step))
    return results


def extra_sync_steps(settings, period: timedelta = SYNC_PERIOD) -> list[SyncStep]:
    """THE HOOK for other calendar readers: steps run after the feeds on every pass,
    given (session, now); a step does its own claiming if it must not run twice at once.
    The CalDAV reader (domain/calendar/caldav_sync.py) joins here when CALDAV_URL is set."""
    if not settings.get("CALDAV_URL"):
        return []
    return [CalDAVStep(settings, period)]


class CalDAVStep:
    """Reads the CalDAV calendar at most once a period in this process (a worker's pass
    comes every 30 s); "Read now" and `flask calendar sync` give a period of 0, so they read
    at once. Two workers may both read: the rows are replaced under a lock, so no harm."""

    last_read: dict[str, datetime] = {}

    def __init__(self, settings, period: timedelta) -> None:
        self.settings, self.period = settings, period

    def __call__(self, session: Session, now: datetime) -> object:
        previous = self.last_read.get(self.settings["CALDAV_URL"])
        if previous is not None and now - previous < self.period:
            return None
        self.last_read[self.settings["CALDAV_URL"]] = now
        return sync_caldav_busy(session, self.settings, load_rules(session), now)


def sync_calendars(
    session: Session, settings, *, now: datetime, period: timedelta = SYNC_PERIOD
) -> list[SyncResult]:
    """One pass as the app runs it: the feeds due, with the app's fetch limits, then
    the other readers. The worker, `flask calendar sync` and "Read now" all come here."""
    return sync_all(
        session, now=now, options=options_from_settings(settings), period=period,
        extra_steps=extra_sync_steps(settings, period),
    )  # fmt: skip


def stale_feeds(session: Session, now: datetime) -> list[CalendarFeed]:
    """Feeds whose last good read is more than STALE_AFTER old, or that never had one."""
    return list(
        session.scalars(
            select(CalendarFeed)
            .where(
                or_(
                    CalendarFeed.last_success_at.is_(None),
                    CalendarFeed.last_success_at < now - STALE_AFTER,
                )
            )
            .order_by(CalendarFeed.id)
        )
    )
