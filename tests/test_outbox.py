"""The outbox sends every email once, through a real SMTP server, and loses none in an outage."""

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.booking.availability import AvailabilityValues, save_values
from domain.booking.calls import BookingRequest, book_call
from domain.calendar.files import booking_ics
from domain.mail.emails import EmailDraft
from domain.mail.mailer import (
    LogMailer,
    PermanentMailError,
    SMTPMailer,
    TransientMailError,
    build_message,
    mailer_from_config,
)
from domain.mail.outbox import (
    OWED,
    OWED_GRACE,
    SendReport,
    backoff,
    cancel_pending,
    claim,
    enqueue,
    run_worker,
    send_due,
)
from extensions import db
from models import Booking, Lead, OutboxMessage

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CALL_START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
SENDER = "Saed Shafane <calls@example.test>"
VISITOR = "ada@analytical.example"


@pytest.fixture
def settings(settings, mail_settings):
    """Every app in this module sends through the loopback SMTP server."""
    return settings | mail_settings


@pytest.fixture
def session(app):
    with app.app_context():
        yield db.session


@pytest.fixture
def mailer(app):
    return mailer_from_config(app.config)


def invite(method: str = "REQUEST") -> str:
    return booking_ics(
        uid="booking-1@example.test", start=CALL_START, end=CALL_START + timedelta(minutes=30),
        summary="AI strategy call", description="Strategy call", location_url="https://x.test/b",
        organizer_name="Saed Shafane", organizer_email="owner@example.test",
        attendee_name="Ada Lovelace", attendee_email=VISITOR, method=method, now=NOW,
    )  # fmt: skip


def draft(to: str = VISITOR, subject: str = "Your strategy call is booked") -> EmailDraft:
    attachment = {
        "filename": "strategy-call.ics",
        "content_type": "text/calendar; method=REQUEST",
        "content": invite(),
    }
    return EmailDraft(to=to, subject=subject, body_text="Hello Ada,\n\nSee you then – Saed\n",
                      attachments=(attachment,))  # fmt: skip


def queue(session, *drafts: EmailDraft, now: datetime = NOW, **fields) -> list[int]:
    messages = [enqueue(session, each, kind="visitor_confirmation", now=now, **fields)
                for each in drafts]  # fmt: skip
    session.commit()
    return [message.id for message in messages]


def row(session, message_id: int) -> OutboxMessage:
    """The message as stored now, detached, with no transaction left open behind it."""
    message = session.get(OutboxMessage, message_id, populate_existing=True)
    session.expunge(message)
    session.rollback()
    return message


def send(session, mailer, now: datetime = NOW) -> SendReport:
    return send_due(session, mailer, SENDER, now=now)


def test_mail_enqueued_in_a_rolled_back_transaction_is_never_sent(session, mailer, smtp_server):
    enqueue(session, draft(), kind="visitor_confirmation", now=NOW)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert send(session, mailer) == SendReport()
    assert smtp_server.messages == []


def test_due_message_is_delivered_over_smtp_with_its_invite(session, mailer, smtp_server):
    (message_id,) = queue(session, draft())
    assert send(session, mailer) == SendReport(sent=1)
    (mail,) = smtp_server.wait_for(1)
    assert mail.mail_from == "calls@example.test"
    assert mail.rcpt_tos == (VISITOR,)
    assert mail.subject == "Your strategy call is booked"
    assert str(mail.message["From"]) == SENDER
    assert mail.message["Message-ID"].startswith(f"<outbox-{message_id}-")
    assert "See you then – Saed" in mail.text
    (attachment,) = mail.attachments
    assert attachment.get_filename() == "strategy-call.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    (event,) = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    assert event.decoded("DTSTART") == CALL_START
    sent = row(session, message_id)
    assert (sent.status, sent.sent_at, sent.attempts) == ("sent", NOW, 0)
    assert send(session, mailer, NOW + timedelta(hours=2)) == SendReport()
    assert len(smtp_server.messages) == 1


def test_message_is_not_sent_before_its_send_after(session, mailer, smtp_server):
    due = NOW + timedelta(hours=24)
    queue(session, draft(subject="Reminder"), send_after=due)
    assert send(session, mailer, NOW) == SendReport()
    assert send(session, mailer, due - timedelta(seconds=1)) == SendReport()
    assert smtp_server.messages == []
    assert send(session, mailer, due) == SendReport(sent=1)
    assert smtp_server.wait_for(1)[0].subject == "Reminder"


def test_outage_keeps_the_message_pending_and_backs_off(session, mailer, smtp_server):
    smtp_server.stop()
    (message_id,) = queue(session, draft())
    assert send(session, mailer, NOW) == SendReport(retried=1)
    waiting = row(session, message_id)
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "refused" in waiting.last_error.lower()
    assert waiting.send_after == NOW + timedelta(seconds=30)
    assert send(session, mailer, NOW + timedelta(seconds=29)) == SendReport()
    assert send(session, mailer, NOW + timedelta(seconds=30)) == SendReport(retried=1)
    waiting = row(session, message_id)
    assert waiting.attempts == 2
    assert waiting.send_after == NOW + timedelta(seconds=30 + 60)


def test_mail_goes_out_exactly_once_when_the_server_is_back(session, mailer, smtp_server):
    smtp_server.stop()
    ids = queue(session, draft(subject="First"), draft(subject="Second"))
    assert send(session, mailer, NOW) == SendReport(retried=2)
    smtp_server.start()
    assert send(session, mailer, NOW + timedelta(seconds=10)) == SendReport()  # backing off
    assert send(session, mailer, NOW + timedelta(seconds=31)) == SendReport(sent=2)
    assert send(session, mailer, NOW + timedelta(hours=3)) == SendReport()
    assert sorted(mail.subject for mail in smtp_server.wait_for(2)) == ["First", "Second"]
    assert len(smtp_server.messages) == 2
    assert [row(session, each).status for each in ids] == ["sent", "sent"]


def test_backoff_doubles_from_thirty_seconds_up_to_an_hour():
    seconds = [backoff(attempts).total_seconds() for attempts in range(1, 10)]
    assert seconds == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff(10_000) == timedelta(hours=1)


def test_refused_recipient_fails_for_good_without_holding_back_others(session, mailer, smtp_server):
    smtp_server.refuse("nobody@example.test", "550 5.1.1 No such mailbox here")
    refused_id, delivered_id = queue(session, draft(to="nobody@example.test"), draft())
    assert send(session, mailer) == SendReport(sent=1, failed=1)
    refused = row(session, refused_id)
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert "550" in refused.last_error
    assert row(session, delivered_id).status == "sent"
    assert [mail.rcpt_tos for mail in smtp_server.wait_for(1)] == [(VISITOR,)]
    assert send(session, mailer, NOW + timedelta(days=1)) == SendReport()


def test_deferred_recipient_is_retried_not_given_up(session, mailer, smtp_server):
    smtp_server.refuse(VISITOR, "450 4.2.1 Mailbox busy, try again later")
    (message_id,) = queue(session, draft())
    assert send(session, mailer) == SendReport(retried=1)
    assert row(session, message_id).status == "pending"
    smtp_server.refused.clear()
    assert send(session, mailer, NOW + timedelta(minutes=1)) == SendReport(sent=1)


def test_message_claimed_by_another_sender_is_left_alone(app, session, mailer, smtp_server):
    (message_id,) = queue(session, draft())
    with Session(db.engine) as other_sender:
        assert claim(other_sender, message_id, now=NOW)
        assert not claim(other_sender, message_id, now=NOW)
    assert send(session, mailer, NOW + timedelta(minutes=9)) == SendReport()
    assert smtp_server.messages == []
    assert row(session, message_id).status == "sending"


def test_stale_claim_of_a_crashed_sender_is_taken_over(app, session, mailer, smtp_server):
    (message_id,) = queue(session, draft())
    with Session(db.engine) as crashed_sender:
        assert claim(crashed_sender, message_id, now=NOW)
    stale = NOW + timedelta(minutes=10, seconds=1)
    assert send(session, mailer, stale) == SendReport(sent=1)
    assert len(smtp_server.wait_for(1)) == 1
    assert row(session, message_id).status == "sent"


def test_concurrent_senders_send_each_message_once(app, session, mailer, smtp_server):
    queue(session, *(draft(subject=f"Message {n}") for n in range(12)))
    engine = db.engine
    start_together = threading.Barrier(4)
    reports: list[SendReport] = []

    def sender():
        with Session(engine) as own_session:
            start_together.wait()
            reports.append(send_due(own_session, mailer, SENDER, now=NOW))

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(report.sent for report in reports) == 12
    assert len(reports) == 4
    subjects = [mail.subject for mail in smtp_server.wait_for(12)]
    assert sorted(subjects) == sorted(f"Message {n}" for n in range(12))


def make_booking(session) -> Booking:
    lead = Lead(
        email=VISITOR, email_normalised=VISITOR, name="Ada Lovelace", company="Analytical",
        role="CTO", company_size="51-200", fit_score=70, suggested_engagement="architect",
        consent_version="v1", consent_given_at=NOW,
    )  # fmt: skip
    booking = Booking(
        lead=lead, starts_at=CALL_START, ends_at=CALL_START + timedelta(minutes=30),
        blocked_until=CALL_START + timedelta(minutes=30), visitor_timezone="America/New_York",
        owner_timezone="Europe/London", suggested_engagement="architect", submission_key="k1",
        name="Ada Lovelace", email=VISITOR, company="Analytical", role="CTO",
        company_size="51-200", consent_version="v1",
    )  # fmt: skip
    session.add(booking)
    session.flush()
    return booking


def test_cancel_pending_stops_the_reminder_only(session, mailer, smtp_server):
    booking = make_booking(session)
    link = {"booking_id": booking.id, "lead_id": booking.lead_id}
    enqueue(session, draft(subject="Booked"), kind="visitor_confirmation", now=NOW, **link)
    reminder = enqueue(session, draft(subject="Reminder"), kind="visitor_reminder", now=NOW,
                       send_after=CALL_START - timedelta(hours=24), **link)  # fmt: skip
    follow_up = enqueue(session, draft(subject="Follow-up"), kind="owner_follow_up", now=NOW,
                        send_after=CALL_START + timedelta(hours=1), **link)  # fmt: skip
    session.commit()
    assert send(session, mailer, NOW) == SendReport(sent=1)
    assert cancel_pending(session, booking_id=booking.id, kinds=["visitor_reminder"]) == 1
    session.commit()
    assert row(session, reminder.id).status == "cancelled"
    assert send(session, mailer, CALL_START) == SendReport()
    assert send(session, mailer, CALL_START + timedelta(hours=2)) == SendReport(sent=1)
    assert row(session, follow_up.id).status == "sent"
    assert [mail.subject for mail in smtp_server.messages] == ["Booked", "Follow-up"]


def outbox_runner(app):
    from blueprints.booking.outbox_cli import outbox_cli  # the blueprint registers it in app.py

    app.cli.add_command(outbox_cli)
    return app.test_cli_runner()


def test_outbox_send_command_prints_the_counts(app, session, smtp_server):
    smtp_server.refuse("nobody@example.test")
    queue(session, draft(), draft(), draft(to="nobody@example.test"), now=datetime.now(UTC))
    result = outbox_runner(app).invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 2, retried 0, failed 1"
    assert len(smtp_server.wait_for(2)) == 2


def test_without_smtp_host_mail_is_written_to_the_log(app, session, smtp_server, caplog):
    app.config["SMTP_HOST"] = ""
    (message_id,) = queue(session, draft(), now=datetime.now(UTC))
    caplog.set_level(logging.INFO, logger="domain.mail.mailer")
    result = outbox_runner(app).invoke(args=["outbox", "send"])
    assert result.output.strip() == "sent 1, retried 0, failed 0"
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "domain.mail.mailer")
    assert f"To: {VISITOR}" in logged
    assert "Subject: Your strategy call is booked" in logged
    assert "See you then – Saed" in logged
    assert "strategy-call.ics (text/calendar)" in logged and "BEGIN:VEVENT" in logged
    assert smtp_server.messages == []
    assert row(session, message_id).status == "sent"


def test_worker_sends_mail_queued_while_it_runs(app, session, mailer, smtp_server):
    engine, stop = db.engine, threading.Event()

    def send_pass() -> SendReport:
        with Session(engine) as own_session:
            return send_due(own_session, mailer, SENDER, now=datetime.now(UTC))

    worker = threading.Thread(target=run_worker, args=(send_pass,),
                              kwargs={"interval": 0.05, "stop": stop})  # fmt: skip
    worker.start()
    try:
        queue(session, draft(subject="While running"), now=datetime.now(UTC))
        assert smtp_server.wait_for(1)[0].subject == "While running"
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not worker.is_alive()
    assert len(smtp_server.messages) == 1


def test_worker_loop_survives_a_failed_pass_and_stops_when_asked(caplog):
    stop, calls = threading.Event(), []

    def send_pass() -> SendReport:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database unavailable")
        if len(calls) == 4:
            stop.set()
        return SendReport(sent=1)

    assert run_worker(send_pass, interval=0, stop=stop) == 4
    assert "outbox pass failed" in caplog.text and "database unavailable" in caplog.text
    assert run_worker(SendReport, interval=0, max_passes=3) == 3


def test_mailer_comes_from_the_settings():
    assert isinstance(mailer_from_config({"SMTP_HOST": ""}), LogMailer)
    smtp = mailer_from_config({"SMTP_HOST": "mail.test", "SMTP_PORT": "2525",
                               "SMTP_PASSWORD": "s3cret", "SMTP_STARTTLS": True})  # fmt: skip
    assert smtp == SMTPMailer(host="mail.test", port=2525, password="s3cret", starttls=True)
    assert "s3cret" not in repr(smtp)


def test_smtp_mailer_tells_permanent_from_transient_failures(mailer, smtp_server):
    smtp_server.refuse("gone@example.test", "550 5.1.1 No such mailbox here")
    smtp_server.refuse("busy@example.test", "451 4.3.0 Try again later")
    with pytest.raises(PermanentMailError, match="550"):
        mailer.send(build_message(SENDER, to="gone@example.test", subject="x", body_text="x"))
    with pytest.raises(TransientMailError, match="451"):
        mailer.send(build_message(SENDER, to="busy@example.test", subject="x", body_text="x"))
    smtp_server.stop()
    with pytest.raises(TransientMailError):
        mailer.send(build_message(SENDER, to=VISITOR, subject="x", body_text="x"))


def test_calendar_part_names_its_method_even_when_the_draft_did_not():
    cancel = {"filename": "c.ics", "content_type": "text/calendar", "content": invite("CANCEL")}
    message = build_message(SENDER, to=VISITOR, subject="Cancelled", body_text="Gone.",
                            attachments=[cancel], message_id="<fixed@example.test>")  # fmt: skip
    (part,) = message.iter_attachments()
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "CANCEL"
    assert message["Message-ID"] == "<fixed@example.test>"
    assert message["Auto-Submitted"] == "auto-generated"


def a_request(start: datetime) -> BookingRequest:
    return BookingRequest(
        name="Ada Lovelace", email=VISITOR, company="Analytical", role="CTO",
        company_size="51-200", signals=(), message="", consent_version="v1", start=start,
        visitor_timezone="Europe/London", submission_key="d" * 32,
    )  # fmt: skip


def test_emails_a_booking_could_not_compose_go_out_from_the_next_pass(session, mailer, smtp_server):
    """The booking commits before its emails are composed. If composing fails (the
    process dies, the database goes away in between), the visitor was still told the call
    is booked, so the outbox's next pass composes and sends what the booking owes."""
    save_values(session, AvailabilityValues(
        weekly_hours={str(d): [["09:00", "17:00"]] for d in range(7)}, daily_limit=None,
        min_notice_minutes=60,
    ))  # fmt: skip
    session.commit()

    def died_before_composing(*_args):
        raise RuntimeError("the worker was killed here")

    booked = book_call(session, a_request(CALL_START), now=NOW, plan_emails=died_before_composing)
    assert booked.created
    assert (
        send(session, mailer, now=NOW).total == 0
    )  # the request's own attempt has not given up yet
    report = send(session, mailer, now=NOW + OWED_GRACE)
    assert report.sent == 2, report  # the visitor's confirmation and the owner's notice
    subjects = {mail.subject for mail in smtp_server.wait_for(2)}
    assert any("booked" in subject.lower() for subject in subjects), subjects
    assert send(session, mailer, now=NOW + 2 * OWED_GRACE).sent == 0  # paid once
    owed = select(func.count()).where(OutboxMessage.status == OWED)
    assert session.scalar(owed) == 0


def test_links_that_cannot_be_made_leave_the_pass_unclaimed(session, mailer, smtp_server,
                                                            monkeypatch):  # fmt: skip
    booking = make_booking(session)
    carrying = EmailDraft(to=VISITOR, subject="Booked", body_text=f"[[manage-link:{booking.id}]]",
                          link_booking_ids=(booking.id,))  # fmt: skip
    (message_id,) = queue(session, carrying, booking_id=booking.id, lead_id=booking.lead_id)

    def no_links(*_args):
        raise RuntimeError("the links' insert failed")

    monkeypatch.setattr("domain.mail.outbox._mint_links", no_links)
    with pytest.raises(RuntimeError):
        send(session, mailer)
    session.rollback()
    # Claim and links are one transaction: the message is due again at the next pass,
    # not held as "sending" until its claim goes stale.
    assert row(session, message_id).status == "pending"
    monkeypatch.undo()
    assert send(session, mailer) == SendReport(sent=1)
    (mail,) = smtp_server.wait_for(1)
    assert "/booking/" in mail.text and "[[manage-link" not in mail.text
