"""Visitors for the stack tests' load: readers going round the pages, and bookers who each
book as a new visitor (own address, own email) and record what the site acknowledged; and
the owner's hours that give them free times."""

import queue
import random
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from app import create_app
from extensions import db
from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS, base_settings
from tests.live_server import hidden_fields
from tests.stack.client import StackVisitor

ARTICLE = f"/library/{ARTICLE_SLUG}"


class Load:
    """Requests made and what came of each: a status, or the error instead of an answer."""

    def __init__(self):
        self.outcomes: list[tuple[str, int | str]] = []
        # (submission key, manage token, when the 303 came: time.monotonic())
        self.acknowledged: list[tuple[str, str, float]] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def request(self, kind: str, call, *args):
        try:
            reply = call(*args)
        except Exception as error:  # no answer at all: a failure the visitor sees
            with self._lock:
                self.outcomes.append((kind, repr(error)))
            return None
        with self._lock:
            self.outcomes.append((kind, reply.status))
        return reply

    def failures(self) -> list[tuple[str, int | str]]:
        return [o for o in self.outcomes if not isinstance(o[1], int) or o[1] >= 500]


def read_pages(load: Load, stack, stylesheet: str) -> None:
    visitor = StackVisitor(stack.base_url, stack.tls_context())
    pages = ["/", ARTICLE, f"/book?article={ARTICLE_SLUG}", stylesheet]
    while not load.stop.is_set():
        for page in pages:
            load.request(f"GET {page.split('?')[0]}", visitor.get, page)


def book_calls(load: Load, stack, slots: "queue.Queue[str]", name: str, go=None) -> None:
    """Book one free time after another, each as a new visitor; with `go`, book once, when
    `go` (a barrier) lets every visitor of the burst send at the same moment."""
    made = 0
    while not load.stop.is_set():
        try:
            slot = slots.get_nowait()
        except queue.Empty:
            return
        visitor = StackVisitor(stack.base_url, stack.tls_context())  # a new client each time
        query = {"article": ARTICLE_SLUG, "slot": slot}
        form = load.request("GET /book form", visitor.get, "/book", query)
        if form is None or form.status != 200:
            continue
        fields = hidden_fields(form.body)
        time.sleep(3.2)  # a person fills the form (BOOKING_MIN_SECONDS is 3)
        if go is not None:
            go.wait(timeout=60)
            time.sleep(random.uniform(0, 0.6))  # a burst, not one instant
        made += 1
        data = {**fields, **VALID_ANSWERS, "email": f"{name}-{made}@analytical-engines.co.uk"}
        reply = load.request("POST /book", visitor.post, "/book", {"article": ARTICLE_SLUG}, data)
        if reply is not None and reply.status == 303:
            path = urlsplit(reply.headers["Location"]).path
            token = path.split("/")[2]
            load.acknowledged.append((fields["submission_key"], token, time.monotonic()))
            load.request("GET confirmation", visitor.get, path)
        if go is not None:
            return


def open_every_day(database_url: str, horizon_days: int = 14) -> None:
    """Calls every day 08:00–20:00 London, 30 minutes, no buffer, 24 h notice."""
    from domain.booking.availability import AvailabilityValues, save_values

    app = create_app(base_settings(database_url))
    with app.app_context():
        save_values(
            db.session,
            AvailabilityValues(
                timezone="Europe/London",
                weekly_hours={str(day): [["08:00", "20:00"]] for day in range(7)},
                call_minutes=30,
                buffer_minutes=0,
                min_notice_minutes=24 * 60,
                horizon_days=horizon_days,
                daily_limit=None,
                dates_off=[],
            ),
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def free_slots(stack_app, count: int) -> list[str]:
    """`count` free times (UTC, as the form sends them), spread over the days ahead."""
    from domain.booking.availability import load_rules
    from domain.booking.calls import busy_bookings
    from domain.booking.slots import available_slots

    now = datetime.now(UTC)
    with stack_app.app_context():
        rules = load_rules(db.session)
        slots = available_slots(rules, busy_bookings(db.session, rules, now), now)
        db.session.remove()
    # Not the first hours: those may pass the minimum notice during the test.
    later = [moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in slots[8:]]
    assert len(later) >= count, f"only {len(later)} free times"
    step = max(len(later) // count, 1)
    return later[::step][:count]
