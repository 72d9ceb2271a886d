"""Two app servers behind one nginx behave as one site: one booking per slot, one rate
limit per client, and two outbox workers that send each email once."""

import re
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from config import Config
from domain.mail.emails import EmailDraft
from domain.mail.outbox import enqueue
from extensions import db
from models import Booking, OutboxMessage
from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS
from tests.live_server import hidden_fields
from tests.stack.client import StackVisitor
from tests.stack.load import free_slots
from tests.test_booking_race import TAKEN, race_for

RACERS = 40
EMAILS = 200


def upstreams_for(access_log: Path, addresses: set[str], request: str) -> set[str]:
    """The app servers nginx sent these clients' `request` lines to."""
    found = set()
    for line in access_log.read_text().splitlines():
        address = line.split(" ", 1)[0]
        if address in addresses and f'"{request}' in line:
            found.update(re.findall(r"127\.0\.0\.1:\d+", line.partition("upstream=")[2]))
    return found


def app_servers(stack) -> set[str]:
    return {f"127.0.0.1:{port}" for port in stack.app_ports}


def test_forty_visitors_racing_for_one_slot_across_both_app_servers_book_it_once(stack, stack_app):
    slot = free_slots(stack_app, 1)[0]
    context = stack.tls_context()
    visitors = {}

    def visitor_for(number: int) -> StackVisitor:
        visitors[number] = StackVisitor(stack.base_url, context)
        return visitors[number]

    # The app refuses a form sent within BOOKING_MIN_SECONDS (3 s) of showing it.
    attempts = race_for(stack.base_url, slot, RACERS, visitor_for=visitor_for, filling_seconds=3.5)
    statuses = Counter(attempt.reply.status for attempt in attempts)
    print(f"replies by status: {dict(statuses)}")
    assert not [status for status in statuses if status >= 500]
    assert statuses[303] == 1
    for attempt in attempts:
        if attempt.reply.status != 303:
            assert attempt.reply.status in (400, 409), attempt.reply.status
            assert TAKEN in attempt.reply.body
    with stack_app.app_context():
        starts = datetime.fromisoformat(slot.replace("Z", "+00:00"))
        booked = db.session.scalar(
            select(func.count(Booking.id)).where(
                Booking.starts_at == starts, Booking.status == "active"
            )
        )
        db.session.remove()
    assert booked == 1
    addresses = {visitor.address for visitor in visitors.values()}
    assert upstreams_for(stack.access_log, addresses, "POST /book") == app_servers(stack)


def test_the_booking_rate_limit_holds_across_both_app_servers(stack, stack_app):
    """One client's booking posts count in one place (Redis), whichever server takes them."""
    per_minute = int(Config.BOOKING_RATE_LIMIT.split()[0])  # "10 per minute;40 per hour"
    visitor = StackVisitor(stack.base_url, stack.tls_context())
    slot = free_slots(stack_app, 1)[0]
    form = visitor.get("/book", {"article": ARTICLE_SLUG, "slot": slot})
    assert form.status == 200
    # A complete form but for the name: refused (400), and counted like any booking post.
    data = {**hidden_fields(form.body), **VALID_ANSWERS, "name": ""}
    replies = [visitor.post("/book", {"article": ARTICLE_SLUG}, data) for _ in range(per_minute)]
    assert [reply.status for reply in replies] == [400] * per_minute
    refused = visitor.post("/book", {"article": ARTICLE_SLUG}, data)
    assert refused.status == 429
    assert "Please wait a moment" in refused.body  # the rate limit, not a booking cap
    assert upstreams_for(stack.access_log, {visitor.address}, "POST /book") == app_servers(stack)
    # Another client is not affected.
    other = StackVisitor(stack.base_url, stack.tls_context())
    other_form = other.get("/book", {"article": ARTICLE_SLUG, "slot": slot})
    other_data = {**hidden_fields(other_form.body), **VALID_ANSWERS, "name": ""}
    assert other.post("/book", {"article": ARTICLE_SLUG}, other_data).status == 400


def test_both_workers_send_two_hundred_queued_emails_each_exactly_once(stack, stack_app, mail_sink):
    batch = uuid.uuid4().hex[:10]
    now = datetime.now(UTC)
    with stack_app.app_context():
        for number in range(EMAILS):
            draft = EmailDraft(
                to=f"reader{number}@outbox-check.co.uk",
                subject=f"Outbox check {batch} #{number}",
                body_text="One of a batch the two outbox workers share.",
            )
            enqueue(db.session, draft, kind="outbox_check", now=now)
        db.session.commit()
        db.session.remove()

    def arrived() -> list[str]:
        return [m.subject for m in list(mail_sink.messages) if batch in m.subject]

    deadline = time.monotonic() + 90
    while len(arrived()) < EMAILS and time.monotonic() < deadline:
        time.sleep(0.5)
    with stack_app.app_context():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            left = db.session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.kind == "outbox_check", OutboxMessage.status != "sent"
                )
            )
            db.session.remove()
            if not left:
                break
            time.sleep(0.5)
    time.sleep(6)  # a further pass of each worker (every 5 s): a second copy would show
    subjects = Counter(arrived())
    assert len(subjects) == EMAILS, f"{len(subjects)} of {EMAILS} arrived"
    assert set(subjects.values()) == {1}, [s for s, n in subjects.items() if n > 1]
    assert left == 0
