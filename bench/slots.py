"""Slot computation: 30 days of free slots with 0, 100 and 1,000 existing bookings.

Four figures per booking count, each the median of 50 runs:
- `domain.booking.slots.available_slots` alone (pure Python, the bookings already in memory);
- the picker's whole path: `busy_bookings` (the query, on a fresh session, against a
  migrated database holding that many active bookings: a temporary SQLite file, then a
  PostgreSQL database of the run's own) then `available_slots`;
- the picker's month (`domain.booking.picker.month_picker`: its busy query and slots), and
  the same from the per-process cache (`cached_month_picker`: the availability stamp read,
  then a lookup), as GET /book and /book/times serve it while nothing has changed.
The owner's hours are 06:00–22:00 every day, 15-minute calls, no buffer, 24 h notice,
30 days ahead, no daily limit: 64 starts a day, so 1,000 bookings fit on distinct starts
(a seeded random sample). The bookings are made through `domain.booking.calls.book_call`, and
`now` is fixed, so runs compare. The last figure of each database sets the query path at
1,000 bookings beside `available_slots` alone (target: under 5 ms, query included).
"""

import random
import time
from datetime import UTC, datetime

from bench import Figure, bench_app, on_each_database, print_figures

NAME = "slots"
RUNS = 50
BOOKING_COUNTS = (0, 100, 1000)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the window crosses London's spring DST change


def availability():
    from domain.booking.availability import AvailabilityValues

    return AvailabilityValues(
        timezone="Europe/London",
        weekly_hours={str(day): [["06:00", "22:00"]] for day in range(7)},
        call_minutes=15, buffer_minutes=0, min_notice_minutes=24 * 60, horizon_days=30,
        daily_limit=None, dates_off=[],
    )  # fmt: skip


def book(session, start: datetime, number: int) -> None:
    from domain.booking.calls import BookingRequest, book_call

    request = BookingRequest(
        name=f"Bench Visitor {number}", email=f"visitor{number}@bench.example.org",
        company="Bench Ltd", role="CTO", company_size="51-200", signals=(), message="",
        consent_version="bench", start=start, visitor_timezone="Europe/London",
        submission_key=f"{number:032x}",
    )  # fmt: skip
    book_call(session, request, now=NOW, plan_emails=lambda *_: [])


def median_ms(action, runs: int = RUNS, before=None) -> float:
    samples = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return samples[len(samples) // 2]


def book_up_to(session, starts: list[datetime], already: int, count: int) -> None:
    started = time.perf_counter()
    for number in range(already, count):
        book(session, starts[number], number)
    if count > already:
        seconds = time.perf_counter() - started
        print(f"  (booked {count - already:,} calls through book_call in {seconds:.1f} s)")


def picker_timings(session, rules) -> tuple[float, float]:
    """(the picker's month computed: its busy query + slots, the same served from the
    per-process cache: the availability stamp read + a lookup), medians in ms."""
    from domain.booking.picker import _VIEWS, cached_month_picker, month_picker
    from domain.booking.stamp import current_stamp

    def cached():
        cached_month_picker(session, current_stamp(session), rules, NOW, "Europe/London")

    computed = median_ms(
        lambda: month_picker(session, rules, NOW, "Europe/London"), before=session.remove
    )
    _VIEWS.items.clear()
    cached()  # the first request of the minute fills it
    return computed, median_ms(cached, before=session.remove)


def timings(session, rules) -> tuple[float, float, int]:
    """(available_slots alone, query + available_slots, free slots left), medians in ms."""
    from domain.booking.calls import busy_bookings
    from domain.booking.slots import available_slots

    session.remove()
    busy = busy_bookings(session, rules, NOW)
    pure = median_ms(lambda: available_slots(rules, busy, NOW))
    full = median_ms(
        lambda: available_slots(rules, busy_bookings(session, rules, NOW), NOW),
        before=session.remove,  # each request starts with an empty session
    )
    return pure, full, len(available_slots(rules, busy, NOW))


def measure(label: str, url: str) -> list[Figure]:
    """Every figure on one database; the last two set the query path beside the
    computing alone at the most bookings."""
    from domain.booking.availability import load_rules, save_values
    from domain.booking.slots import available_slots
    from extensions import db

    figures: list[Figure] = []
    pure: dict[int, float] = {}
    full: dict[int, float] = {}
    app = bench_app(url)
    with app.app_context():
        save_values(db.session, availability())
        db.session.commit()
        rules = load_rules(db.session)
        starts = random.Random(2026).sample(available_slots(rules, [], NOW), max(BOOKING_COUNTS))
        already = 0
        for count in BOOKING_COUNTS:
            book_up_to(db.session, starts, already, count)
            already = count
            pure[count], full[count], left = timings(db.session, rules)
            month, cached = picker_timings(db.session, rules)
            figures += [
                Figure(NAME, f"{label}: picker month (query + slots), {count:,} bookings",
                       month, "ms"),
                Figure(NAME, f"{label}: picker month from the cache (stamp read), {count:,} "
                       "bookings", cached, "ms"),
                Figure(NAME, f"{label}: available_slots, {count:,} bookings ({left:,} free)",
                       pure[count], "ms"),
                Figure(NAME, f"{label}: busy_bookings query + available_slots, {count:,} "
                       "bookings", full[count], "ms"),
            ]  # fmt: skip
        db.session.remove()
        db.engine.dispose()
    most, none = max(BOOKING_COUNTS), min(BOOKING_COUNTS)
    figures += [
        Figure(NAME, f"{label}: 30 days of slots, available_slots alone, {most:,} bookings",
               pure[most], "ms", f"{none} bookings", pure[none]),
        Figure(NAME, f"{label}: 30 days of slots, query + available_slots, {most:,} bookings",
               full[most], "ms", "available_slots alone", pure[most]),
    ]  # fmt: skip
    return figures


def run() -> list[Figure]:
    return [figure for found in on_each_database(measure, "bench_slots") for figure in found]


if __name__ == "__main__":
    print_figures(run())
