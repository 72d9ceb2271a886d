"""Many visitors racing for one slot through a real gunicorn: one booking, clear refusals.

24 visitors, each with its own cookie jar (session, CSRF token), open the details form
for the same time, wait on a barrier, and post at once to a server of 4 worker processes
× 2 threads. The database decides the winner: on SQLite its write lock (BEGIN IMMEDIATE)
serialises each check and insert; on PostgreSQL the unique index and the exclusion
constraint refuse a second insert. Runs on whichever database TEST_DATABASE_URL selects.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select

from extensions import db
from models import Booking, Lead, OutboxMessage
from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS
from tests.live_server import (
    HttpVisitor,
    LiveServer,
    Reply,
    free_slots,
    hidden_fields,
    input_value,
    running_gunicorn,
)

RACERS = 24
TAKEN = "That time was just taken, please pick another."
TIMEZONE = "Europe/London"


@pytest.fixture
def server(database_url, open_hours, tmp_path):
    """gunicorn on the test's database (availability already set), CSRF on, no spam delay."""
    settings = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "race-test-secret-key-0123456789abcdef",
        "SITE_URL": "http://127.0.0.1",
        "BOOKING_MIN_SECONDS": "0",
        "BOOKING_RATE_LIMIT": "1000 per minute",
        "OUTBOX_SEND_INLINE": "0",
        "COUNTER_FLUSH_SECONDS": "0",
    }
    with running_gunicorn(settings, tmp_path / "gunicorn.log", workers=4, threads=2) as server:
        yield server


@dataclass
class Attempt:
    name: str
    email: str
    reply: Reply


def answers_of(number: int) -> dict:
    return {
        **VALID_ANSWERS,
        "name": f"Racer {number:02d} Lovelace",
        "email": f"racer{number:02d}@analytical-engines.co.uk",
    }


def race_for(
    base_url: str,
    slot: str,
    racers: int,
    *,
    visitor_for: Callable[[int], HttpVisitor] | None = None,
    filling_seconds: float = 0.0,
) -> list[Attempt]:
    """Every racer loads the form, then all post together; returns each one's reply.

    `visitor_for(number)` makes each racer's browser; `filling_seconds` is how long they
    take over the form (a server with BOOKING_MIN_SECONDS refuses a faster one).
    """
    barrier = threading.Barrier(racers)
    query = {"article": ARTICLE_SLUG, "timezone": TIMEZONE}
    visitor_for = visitor_for or (lambda _number: HttpVisitor(base_url))

    def attempt(number: int) -> Attempt:
        visitor = visitor_for(number)
        try:
            form = visitor.get("/book", {**query, "slot": slot})
            assert form.status == 200, f"racer {number}: details form answered {form.status}"
            data = {**hidden_fields(form.body), **answers_of(number)}
            assert data.get("csrf_token"), f"racer {number}: no CSRF token in the form"
            time.sleep(filling_seconds)
            barrier.wait(timeout=30)
        except BaseException:
            barrier.abort()  # the others stop waiting and fail too, instead of hanging
            raise
        reply = visitor.post("/book", {"article": ARTICLE_SLUG}, data)
        return Attempt(data["name"], data["email"], reply)

    with ThreadPoolExecutor(max_workers=racers) as pool:
        futures = [pool.submit(attempt, number) for number in range(1, racers + 1)]
        return [future.result(timeout=90) for future in futures]


def pick_slot(base_url: str) -> str:
    picker = HttpVisitor(base_url).get("/book", {"article": ARTICLE_SLUG, "timezone": TIMEZONE})
    slots = free_slots(picker.body)
    assert len(slots) >= 2, "the picker offers no times"
    # Not the first: it may sit seconds past the minimum notice and expire mid-race.
    return slots[1]


def check_race(app, attempts: list[Attempt], slot: str) -> None:
    failed = [a for a in attempts if a.reply.status >= 500]
    assert not failed, f"{len(failed)} answered 5xx: {[a.reply.status for a in failed]}"
    winners = [a for a in attempts if a.reply.status == 303]
    assert len(winners) == 1, f"{len(winners)} bookings: {sorted(a.reply.status for a in attempts)}"
    assert "/booking/" in winners[0].reply.headers.get("Location", "")
    for loser in (a for a in attempts if a is not winners[0]):
        assert loser.reply.status in (400, 409), f"{loser.name}: {loser.reply.status}"
        page = loser.reply.body
        assert TAKEN in page, f"{loser.name} got no 'just taken' message"
        assert input_value(page, "name") == loser.name, f"{loser.name}'s name was not kept"
        assert input_value(page, "email") == loser.email, f"{loser.name}'s email was not kept"

    with app.app_context():
        bookings = db.session.scalars(select(Booking).where(Booking.status == "active")).all()
        leads = db.session.scalars(select(Lead)).all()
        outbox = db.session.scalars(select(OutboxMessage)).all()
        assert len(bookings) == 1, f"{len(bookings)} active bookings"
        assert bookings[0].starts_at == datetime.fromisoformat(slot.replace("Z", "+00:00"))
        assert len(leads) == 1, f"{len(leads)} leads"
        assert leads[0].name == winners[0].name
        # A loser's transaction rolled back whole: no email of its own waits in the outbox.
        assert {message.booking_id for message in outbox} <= {bookings[0].id}
        db.session.remove()


def test_racing_visitors_get_one_booking_and_clear_messages(app, server: LiveServer):
    slot = pick_slot(server.base_url)
    attempts = race_for(server.base_url, slot, RACERS)
    # Shown with -s. 409: refused inside the booking transaction (SQLite's lock, PostgreSQL's
    # constraint); 400: the route's check before that transaction already saw the winner.
    print(f"replies by status: {dict(Counter(a.reply.status for a in attempts))}")
    try:
        check_race(app, attempts, slot)
    except AssertionError:
        statuses = [(a.name, a.reply.status) for a in attempts]
        print(f"replies: {statuses}\n--- gunicorn log ({server.log_path}) ---\n{server.log()}")
        raise
