"""Booking POST latency through a real gunicorn (`--workers 2`, sync workers).

Development settings: production's Secure session cookie would not come back over plain
HTTP, and the form's CSRF token lives in that session. A migrated temporary SQLite
database gets the owner's hours (every day 08:00–20:00, 30-minute calls, 24 h notice,
30 days ahead, no daily limit) through `domain.booking.availability.save_values`; the server runs
with BOOKING_MIN_SECONDS=0, a booking rate limit far above the load, CSRF on, and
OUTBOX_SEND_INLINE=0 (emails stay queued in the outbox, so no SMTP time is measured).
Then 50 visitors, one after another, each with its own cookie jar: GET the details form
for a different free slot (not timed), POST it (timed, redirect not followed). Figures:
median and p95 of the POST, and the share that answered 303 (booked).
"""

import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import SECRET_KEY, Figure, bench_app, median_p95, migrated_sqlite, print_figures
from tests.live_server import HttpVisitor, hidden_fields, running_gunicorn

NAME = "booking_post"
BOOKINGS = 50
ARTICLE = "ai-systems-architect-vs-ai-engineer"
TIMEZONE = "Europe/London"


def open_every_day(url: str) -> list[str]:
    """Store the owner's hours; returns the free slots (UTC, as the form sends them)."""
    from domain.booking.availability import AvailabilityValues, load_rules, save_values
    from domain.booking.slots import available_slots
    from extensions import db

    app = bench_app(url)
    with app.app_context():
        save_values(db.session, AvailabilityValues(
            timezone=TIMEZONE, weekly_hours={str(day): [["08:00", "20:00"]] for day in range(7)},
            call_minutes=30, buffer_minutes=0, min_notice_minutes=24 * 60, horizon_days=30,
            daily_limit=None, dates_off=[],
        ))  # fmt: skip
        db.session.commit()
        slots = available_slots(load_rules(db.session), [], datetime.now(UTC))
        db.session.remove()
        db.engine.dispose()
    return [moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in slots]


def answers(number: int) -> dict:
    return {
        "name": f"Bench Visitor {number:02d}",
        "email": f"visitor{number:02d}@analytical-engines.co.uk",
        "company": "Analytical Engines Ltd",
        "role": "Chief Technology Officer",
        "company_size": "51-200",
        "situation": ["architect-01"],
        "message": "Timing the booking form.",
        "consent": "y",
    }


def first_error(page: str) -> str:
    found = re.search(r'<p class="error"[^>]*>([^<]+)</p>', page)
    return found.group(1) if found else page[:200]


def book_one(base_url: str, slot: str, number: int) -> tuple[float, int, str]:
    visitor = HttpVisitor(base_url)
    form = visitor.get("/book", {"article": ARTICLE, "timezone": TIMEZONE, "slot": slot})
    data = {**hidden_fields(form.body), **answers(number)}
    started = time.perf_counter()
    reply = visitor.post("/book", {"article": ARTICLE}, data)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, reply.status, "" if reply.status == 303 else first_error(reply.body)


def run() -> list[Figure]:
    with migrated_sqlite() as url:
        # Skip the first slots: they sit closest to the notice limit and could expire mid-run.
        slots = open_every_day(url)[4 : 4 + BOOKINGS]
        settings = {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "BOOKING_MIN_SECONDS": "0",
            "BOOKING_RATE_LIMIT": "10000 per minute",
            "OUTBOX_SEND_INLINE": "0",
        }
        with tempfile.TemporaryDirectory(prefix="bench-gunicorn-") as folder:
            log = Path(folder) / "gunicorn.log"
            with running_gunicorn(settings, log, workers=2, threads=1) as server:
                results = [book_one(server.base_url, slot, n) for n, slot in enumerate(slots)]
    refused = [(status, error) for _, status, error in results if status != 303]
    if refused:
        print(f"  ({len(refused)} not booked; first: {refused[0]})")
    median, p95 = median_p95(elapsed for elapsed, _, _ in results)
    booked = sum(1 for _, status, _ in results if status == 303)
    return [
        Figure(NAME, f"POST /book, {len(results)} sequential bookings: median", median, "ms"),
        Figure(NAME, "POST /book: p95", p95, "ms"),
        Figure(NAME, "POST /book: share answered 303", 100 * booked / len(results), "%"),
    ]


if __name__ == "__main__":
    print_figures(run())
