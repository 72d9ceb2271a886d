"""The prompt first attempt at a booking's emails: one sender thread per process, fed by a
queue, sends each email once; the outbox keeps the record, so nothing is sent twice."""

import os
import threading

import pytest

from extensions import outbox_delivery
from tests.conftest import Visitor


@pytest.fixture
def sending_inline(settings, mail_settings):
    settings.update(mail_settings)
    settings["OUTBOX_SEND_INLINE"] = True
    return settings


def senders() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "outbox-inline"]


def test_each_booking_email_arrives_once_from_one_sender(
    sending_inline, app, client, runner, open_hours, smtp_server
):
    visitor = Visitor(client)
    slots = visitor.free_slots()[:3]
    for number, slot in enumerate(slots):
        response = visitor.book(slot, email=f"visitor{number}@analytical-engines.co.uk")
        assert response.status_code == 303
    # Each booking: the visitor's confirmation and the owner's notification, sent at once.
    received = smtp_server.wait_for(6)
    assert len(senders()) == 1
    result = runner.invoke(args=["outbox", "send"])
    assert "sent 0" in result.output, result.output  # nothing left over to send again
    assert len(smtp_server.messages) == 6
    visitors = sorted(address for mail in received for address in mail.rcpt_tos)
    assert visitors.count("owner@example.test") == 3
    assert {f"visitor{n}@analytical-engines.co.uk" for n in range(3)} <= set(visitors)


def test_a_forked_worker_starts_a_sender_of_its_own(app):
    """gunicorn forks its workers from one parent: a thread does not survive a fork, so
    each worker starts its own sender the first time it has something to send."""
    outbox_delivery._ensure_thread()
    parent_sender = outbox_delivery._thread
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the worker
        try:
            outbox_delivery._ensure_thread()
            started = outbox_delivery._thread
            fresh = started is not parent_sender and started.is_alive()
            os.write(writing, b"fresh" if fresh else b"stale")
        finally:
            os._exit(0)
    os.close(writing)
    answer = os.read(reading, 16)
    os.waitpid(child, 0)
    assert answer == b"fresh"
    assert parent_sender.is_alive()


def test_the_sender_composes_the_emails_a_booking_left_owed_at_once(
    sending_inline, app, runner, open_hours, smtp_server
):
    """On the site the request writes only the booking and a debt; the inline sender
    composes and sends its emails right after, not the outbox worker OWED_GRACE later."""
    from datetime import timedelta

    from domain.booking.calls import BookingRequest, book_call
    from domain.booking.tokens import utc_now
    from extensions import db

    start = utc_now().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    start = start.replace(hour=12)  # inside 08:00-20:00 London, whatever the season
    request = BookingRequest(
        name="Ada Lovelace", email="ada@analytical-engines.co.uk", company="Analytical",
        role="CTO", company_size="51-200", signals=(), message="", consent_version="v1",
        start=start, visitor_timezone="Europe/London", submission_key="e" * 32,
    )  # fmt: skip
    with app.app_context():
        booked = book_call(db.session, request, now=utc_now(), plan_emails=None)
        outbox_delivery.soon(booking_id=booked.booking_id)
        db.session.remove()
    received = smtp_server.wait_for(2)  # long before OWED_GRACE
    recipients = {address for mail in received for address in mail.rcpt_tos}
    assert recipients == {"owner@example.test", "ada@analytical-engines.co.uk"}
    result = runner.invoke(args=["outbox", "send"])
    assert "sent 0" in result.output, result.output  # paid once, nothing owed or left over


def test_a_batch_of_debts_is_paid_once_each_and_a_cancelled_call_owes_no_confirmation(
    app, open_hours
):
    """The inline sender pays a batch of bookings' debts in one transaction: each active
    call gets its confirmations once; one cancelled meanwhile gets only its cancellation."""
    from datetime import timedelta

    from sqlalchemy import select

    from blueprints.booking.mail import plan_emails
    from domain.booking.calls import BookingRequest, book_call, cancel_call
    from domain.booking.tokens import utc_now
    from domain.mail.outbox import OWED, pay_debts_of
    from extensions import db
    from models import OutboxMessage

    first = utc_now().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    first = first.replace(hour=10)  # inside 08:00-20:00 London, whatever the season
    with app.app_context():
        booking_ids = []
        for n in range(3):
            request = BookingRequest(
                name="Ada Lovelace", email=f"ada{n}@analytical-engines.co.uk",
                company="Analytical", role="CTO", company_size="51-200", signals=(),
                message="", consent_version="v1", start=first + timedelta(hours=2 * n),
                visitor_timezone="Europe/London", submission_key=f"{n:032x}",
            )  # fmt: skip
            booked = book_call(db.session, request, now=utc_now(), plan_emails=None)
            booking_ids.append(booked.booking_id)
        cancel_call(db.session, booking_id=booking_ids[1], now=utc_now(), plan_emails=plan_emails)

        assert pay_debts_of(db.session, booking_ids, now=utc_now()) == 3
        assert pay_debts_of(db.session, booking_ids, now=utc_now()) == 0
        kinds = {booking_id: [] for booking_id in booking_ids}
        for booking_id, kind, status in db.session.execute(
            select(OutboxMessage.booking_id, OutboxMessage.kind, OutboxMessage.status)
        ):
            assert status != OWED
            kinds[booking_id].append(kind)
        db.session.remove()
    for active in (booking_ids[0], booking_ids[2]):
        assert sorted(kinds[active]).count("visitor_confirmation") == 1
        assert sorted(kinds[active]).count("owner_notification") == 1
    assert sorted(kinds[booking_ids[1]]) == ["owner_cancellation", "visitor_cancellation"]
