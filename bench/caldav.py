"""The owner's CalDAV calendar against a real Radicale on loopback: reading busy times and
writing calls.

- read: a calendar of 500 events (400 single, 100 weekly series with an EXDATE each) over
  the next 45 days; `sync_caldav_busy` fetches, parses and stores the busy intervals of
  the 30-day window. Median of 5 runs, and the fetch alone.
- write: 50 bookings, each with its queued CalDAV write; one outbox pass writes them all
  (a connection, a calendar look-up and a PUT each). Per write, from that pass.
`now` is fixed; Radicale runs with its own folder and port and is stopped at the end.
"""

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import Figure, bench_app, migrated_sqlite, print_figures

NAME = "caldav"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the window crosses London's spring DST change
SINGLE, SERIES, WRITES, RUNS = 400, 100, 50, 5


def event(uid: str, start: datetime, extra: str = "") -> str:
    stamp = "%Y%m%dT%H%M%SZ"
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{start.strftime(stamp)}\r\n"
        f"DTEND:{(start + timedelta(minutes=45)).strftime(stamp)}\r\n{extra}"
        "SUMMARY:Client work\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def seed(calendar) -> float:
    started = time.perf_counter()
    for number in range(SINGLE):
        start = NOW + timedelta(hours=8 + number * 45 * 24 // SINGLE)
        calendar.save_event(event(f"single-{number}@bench", start))
    for number in range(SERIES):
        start = NOW + timedelta(days=number % 7, hours=9 + number % 10)
        skipped = (start + timedelta(weeks=2)).strftime("%Y%m%dT%H%M%SZ")
        extra = f"RRULE:FREQ=WEEKLY;COUNT=8\r\nEXDATE:{skipped}\r\n"
        calendar.save_event(event(f"series-{number}@bench", start, extra))
    return time.perf_counter() - started


def availability():
    from domain.booking.availability import AvailabilityValues

    return AvailabilityValues(
        timezone="Europe/London",
        weekly_hours={str(day): [["08:00", "20:00"]] for day in range(7)},
        call_minutes=30, buffer_minutes=0, min_notice_minutes=24 * 60, horizon_days=30,
        daily_limit=None, dates_off=[],
    )  # fmt: skip


def book_with_writes(session, rules, calendar_name: str) -> None:
    from domain.booking.calls import BookingRequest, PlannedCalendarWrite, book_call
    from domain.booking.slots import available_slots

    for number, start in enumerate(available_slots(rules, [], NOW)[:WRITES]):
        request = BookingRequest(
            name=f"Bench Visitor {number}", email=f"visitor{number}@bench.example.org",
            company="Bench Ltd", role="CTO", company_size="51-200", signals=(), message="",
            consent_version="bench", start=start, visitor_timezone="Europe/London",
            submission_key=f"{number:032x}",
        )  # fmt: skip
        plan = lambda *_: [PlannedCalendarWrite(calendar_name)]  # noqa: E731
        book_call(session, request, now=NOW, plan_emails=plan)


def run() -> list[Figure]:
    from domain.booking.availability import load_rules, save_values
    from domain.calendar.caldav_sync import (
        CalDAVSettings,
        fetch_calendar_data,
        sync_caldav_busy,
        sync_window,
    )
    from domain.mail.outbox import send_due_with_settings
    from extensions import db
    from tests.radicale_fixtures import PASSWORD, USERNAME, RadicaleServer

    with tempfile.TemporaryDirectory(prefix="bench-radicale-") as folder:
        server = RadicaleServer(Path(folder))
        server.start()
        try:
            with server.client() as client:
                calendar = client.principal().make_calendar(name="Work")
                seeding = seed(calendar)
            print(f"  (put {SINGLE + SERIES} events into Radicale in {seeding:.1f} s)")
            caldav = {"CALDAV_URL": server.url, "CALDAV_USERNAME": USERNAME,
                      "CALDAV_PASSWORD": PASSWORD, "CALDAV_CALENDAR": "Work"}  # fmt: skip
            with migrated_sqlite() as url:
                app = bench_app(url, **caldav)
                with app.app_context():
                    save_values(db.session, availability())
                    db.session.commit()
                    rules = load_rules(db.session)
                    settings = CalDAVSettings.from_config(app.config)
                    fetches, syncs = [], []
                    for _ in range(RUNS):
                        started = time.perf_counter()
                        texts = fetch_calendar_data(settings, *sync_window(rules, NOW))
                        fetches.append(time.perf_counter() - started)
                        started = time.perf_counter()
                        result = sync_caldav_busy(db.session, app.config, rules, NOW)
                        syncs.append(time.perf_counter() - started)
                    book_with_writes(db.session, rules, "Work")
                    started = time.perf_counter()
                    report = send_due_with_settings(db.session, app.config, now=NOW)
                    writing = time.perf_counter() - started
                    db.session.remove()
                    db.engine.dispose()
        finally:
            server.stop()
    fetch, sync = statistics.median(fetches) * 1000, statistics.median(syncs) * 1000
    return [
        Figure(NAME, f"fetch {len(texts)} objects (of {SINGLE + SERIES}) over CalDAV", fetch, "ms"),
        Figure(NAME, f"sync: fetch, parse, store {result.intervals} busy intervals", sync, "ms"),
        Figure(NAME, "sync: parse and store alone", sync - fetch, "ms"),
        Figure(NAME, f"write one call (PUT), from {report.sent} in one outbox pass",
               writing * 1000 / max(report.sent, 1), "ms"),
    ]  # fmt: skip


if __name__ == "__main__":
    print_figures(run())
