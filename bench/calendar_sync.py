"""Calendar feeds: syncing a feed of 2,000 events with recurrences, and slots beside 500
busy intervals.

The feed (seeded, so runs compare): 1,500 single events over the next 60 days, 400 weekly
series (every fourth with an EXDATE, every tenth with a moved RECURRENCE-ID instance) and
100 daily series of 10, in Europe/London across the March clock change; about 5,000
instances fall inside the 31-day booking window. Figures, medians of RUNS:
- parse (icalendar + x-wr-timezone) of the text alone;
- expand to merged busy spans over the window (recurring-ical-events);
- store: that feed's intervals replaced in one transaction (SQLite, migrated temp file);
- the whole `sync_feed` over loopback HTTP (a 200, then a 304 re-expanding the copy);
- 30 days of slots with 500 busy intervals: `available_slots` alone, and the picker's
  whole path (`busy_bookings` query, which now reads busy intervals too, + slots).
"""

import random
import threading
from datetime import UTC, datetime, timedelta

import recurring_ical_events
from sqlalchemy import delete

from bench import Figure, bench_app, migrated_sqlite, print_figures
from bench.slots import availability, median_ms

NAME = "calendar sync"
RUNS = 7
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the window crosses London's spring DST change
BUSY_INTERVALS = 500


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def event(uid: str, start: datetime, minutes: int, *lines: str) -> str:
    end = start + timedelta(minutes=minutes)
    return "\r\n".join([
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
        f"DTSTART;TZID=Europe/London:{stamp(start)}", f"DTEND;TZID=Europe/London:{stamp(end)}",
        f"SUMMARY:Meeting {uid}", *lines, "END:VEVENT",
    ])  # fmt: skip


def feed_text(seed: int = 2026) -> str:
    rng = random.Random(seed)
    base = datetime(2026, 3, 2, 0, 0)  # wall-clock London

    def moment(days: int) -> datetime:
        return base + timedelta(days=rng.randrange(days), hours=rng.randrange(7, 19),
                                minutes=rng.choice((0, 15, 30, 45)))  # fmt: skip

    events = [event(f"single-{n}", moment(60), rng.choice((30, 45, 60, 90))) for n in range(1500)]
    for n in range(400):
        start = moment(14)
        lines = ["RRULE:FREQ=WEEKLY;COUNT=12"]
        if n % 4 == 0:
            lines.append(f"EXDATE;TZID=Europe/London:{stamp(start + timedelta(weeks=1))}")
        events.append(event(f"weekly-{n}", start, 60, *lines))
        if n % 10 == 0:
            moved = start + timedelta(weeks=2)
            events.append(event(f"weekly-{n}", moved + timedelta(hours=1), 60,
                                f"RECURRENCE-ID;TZID=Europe/London:{stamp(moved)}"))  # fmt: skip
    events += [event(f"daily-{n}", moment(30), 30, "RRULE:FREQ=DAILY;COUNT=10") for n in range(100)]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Bench//Feed//EN", *events]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def busy_rows(session, count: int) -> None:
    from models import BusyInterval

    rng = random.Random(500)
    for _ in range(count):
        start = NOW + timedelta(days=1 + rng.random() * 29)
        start = start.replace(minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0)
        end = start + timedelta(minutes=rng.choice((30, 60)))
        session.add(BusyInterval(source="feed", starts_at=start, ends_at=end))
    session.commit()


def feed_figures(session, text: str) -> list[Figure]:
    from domain.booking.availability import load_rules
    from domain.calendar.busy import busy_intervals, event_count, parse_calendars
    from domain.calendar.sync import FeedCopy, busy_window, store_copy
    from domain.platform.database import serialised_write
    from models import CalendarFeed

    rules = load_rules(session)
    calendars = parse_calendars(text)
    spans = busy_intervals(calendars, *busy_window(rules, NOW), rules.timezone)
    feed = CalendarFeed(name="bench", url="http://127.0.0.1/", created_at=NOW)
    session.add(feed)
    session.commit()
    copy = FeedCopy(text, None, None, True, spans, event_count(calendars), None)

    def store():
        with serialised_write(session):
            store_copy(session, feed.id, copy, NOW)

    many = [(NOW + timedelta(minutes=45 * n), NOW + timedelta(minutes=45 * n + 30))
            for n in range(2000)]  # fmt: skip
    copy_many = FeedCopy(text, None, None, True, many, copy.count, None)

    def store_many():
        with serialised_write(session):
            store_copy(session, feed.id, copy_many, NOW)

    instances = sum(
        1 for c in calendars for _ in recurring_ical_events.of(c).between(*busy_window(rules, NOW))
    )
    parse = median_ms(lambda: parse_calendars(text), RUNS)
    expand = median_ms(
        lambda: busy_intervals(calendars, *busy_window(rules, NOW), rules.timezone), RUNS
    )
    return [
        Figure(NAME, f"feed size ({copy.count:,} events, {len(spans):,} busy spans)",
               len(text.encode()) / 1024, "KB"),
        Figure(NAME, "parse (icalendar + x-wr-timezone)", parse, "ms"),
        Figure(NAME, "expand to busy spans over 31 days", expand, "ms"),
        Figure(NAME, "instances inside the window (before merging)", instances, ""),
        Figure(NAME, f"store: replace {len(spans):,} intervals in one transaction",
               median_ms(store, RUNS), "ms"),
        Figure(NAME, "store: replace 2,000 disjoint intervals in one transaction",
               median_ms(store_many, RUNS), "ms"),
    ]  # fmt: skip


def http_figures(session, text: str) -> list[Figure]:
    from domain.calendar.feeds import FetchOptions
    from domain.calendar.owner_feeds import add_feed, remove_feed
    from domain.calendar.sync import sync_feed
    from tests.feed_server import FeedServer

    server = FeedServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        options = FetchOptions(allow_private=True)
        url = server.serve("/bench.ics", text)
        added = []
        first = median_ms(
            lambda: added.append(add_feed(session, url, "", now=NOW, options=options)),
            RUNS, before=lambda: added and remove_feed(session, added.pop().feed_id),
        )  # fmt: skip
        not_modified = median_ms(
            lambda: sync_feed(session, added[0].feed_id, now=NOW, options=options,
                              period=timedelta(0)), RUNS)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    return [
        Figure(NAME, "first read over HTTP: fetch + parse + expand + store", first, "ms"),
        Figure(NAME, "sync_feed answered 304: re-expand the stored copy + store",
               not_modified, "ms"),
    ]  # fmt: skip


def slot_figures(session) -> list[Figure]:
    from domain.booking.availability import load_rules
    from domain.booking.calls import busy_bookings
    from domain.booking.slots import available_slots
    from models import BusyInterval

    session.execute(delete(BusyInterval))  # only these intervals, not the feed's
    session.commit()
    busy_rows(session, BUSY_INTERVALS)
    rules = load_rules(session)
    busy = busy_bookings(session, rules, NOW)
    left = len(available_slots(rules, busy, NOW))
    pure = median_ms(lambda: available_slots(rules, busy, NOW))
    full = median_ms(
        lambda: available_slots(rules, busy_bookings(session, rules, NOW), NOW),
        before=session.remove,
    )
    return [
        Figure(NAME, f"available_slots, 30 days, {BUSY_INTERVALS} busy intervals ({left:,} free)",
               pure, "ms"),
        Figure(NAME, f"busy_bookings query + available_slots, {BUSY_INTERVALS} busy intervals",
               full, "ms"),
    ]  # fmt: skip


def run() -> list[Figure]:
    from domain.booking.availability import save_values
    from extensions import db

    text = feed_text()
    with migrated_sqlite() as url:
        app = bench_app(url)
        with app.app_context():
            save_values(db.session, availability())
            db.session.commit()
            figures = feed_figures(db.session, text)
            figures += http_figures(db.session, text)
            figures += slot_figures(db.session)
            db.session.remove()
            db.engine.dispose()
    return figures


if __name__ == "__main__":
    print_figures(run())
