"""The durable outbox: emails are written in the transaction that causes them, sent later.

A booking and its emails commit together or not at all. Senders (`flask outbox send`,
`flask outbox worker`, or an inline attempt right after a booking) each claim a message
with one conditional UPDATE before sending it, so two of them never send the same
message, on SQLite and PostgreSQL alike. A mail outage only delays mail: transient
failures are retried with back-off, for ever; only a 5xx refusal gives a message up.

Delivery is at least once: a sender that dies after the server accepted a message but
before recording it leaves a claim that goes stale and is taken over. The Message-ID is
stable per message, so a receiving server that sees it twice can tell.

A message that carries private booking links stores placeholders; each attempt makes
fresh links (domain/booking/links.py) and a failed attempt deletes them again.

A row of status "owed" is not a message but a debt: a booking committed it in place of
its emails, which are composed after the commit (domain/booking/calls.py). Senders never
claim it; the inline sender pays a new booking's debt right after its request answers
(outbox_delivery.py), and a pass finds the debts left longer than OWED_GRACE (whoever
was to pay one died first) and has the payer registered for its kind compose the emails.

A message of channel "caldav" is not an email but a write of its booking into the owner's
CalDAV calendar (domain/calendar/caldav_write.py): claimed, retried and recorded the same
way, sent by the calendar writer instead of the mailer.
"""

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from domain.booking.links import (
    fill_links,
    fill_links_in_calendar,
    link_expires_at,
    mint_links,
    token_hash,
)
from domain.calendar.caldav_write import CalendarWriter, calendar_writer_from_config
from domain.mail.emails import EmailDraft
from domain.mail.mailer import (
    Mailer,
    MailError,
    PermanentMailError,
    TransientMailError,
    build_message,
    mailer_from_config,
)
from domain.platform.log_redaction import without_addresses
from models import Booking, BookingLink, OutboxMessage

log = logging.getLogger(__name__)

# kind -> a function (session, booking id) giving the draft as it should read now, or None
# to send the stored one. For mail composed long before it goes out (the owner's brief),
# so that it carries what happened in between. Registered by the code that plans them.
FRESH_DRAFTS: dict[str, Callable[[Session, int], EmailDraft | None]] = {}

# kind of an "owed" row -> (session, booking id, now) composing what it owes and deleting
# it in one transaction. Registered by the code that plans the emails, like FRESH_DRAFTS.
OWED = "owed"
OWED_PAYERS: dict[str, Callable[[Session, int, datetime], object]] = {}
# kind -> (session, booking ids, now) paying many debts in one write transaction, all or
# nothing, returning how many; optional: without one, or when it fails, each is paid alone.
OWED_BATCH_PAYERS: dict[str, Callable[[Session, list[int], datetime], int]] = {}
OWED_GRACE = timedelta(seconds=30)  # the request that made a debt normally pays it first

STALE_CLAIM = timedelta(minutes=10)  # a claim this old belongs to a sender that died
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
ERROR_TEXT_LIMIT = 2000


@dataclass(frozen=True)
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed

    def __str__(self) -> str:
        return f"sent {self.sent}, retried {self.retried}, failed {self.failed}"


def enqueue(
    session: Session,
    draft: EmailDraft,
    *,
    kind: str,
    lead_id: int | None = None,
    booking_id: int | None = None,
    send_after: datetime | None = None,
    now: datetime,
) -> OutboxMessage:
    """Add the draft to the session; the caller's commit writes it with the booking."""
    message = OutboxMessage(
        **message_values(
            draft, kind=kind, lead_id=lead_id, booking_id=booking_id, send_after=send_after,
            now=now,
        )
    )  # fmt: skip
    session.add(message)
    return message


def message_values(
    draft: EmailDraft, *, kind: str, lead_id, booking_id, send_after, now: datetime
) -> dict:
    """The columns of a pending message for this draft (a new row, or an "owed" one paid)."""
    return {
        "kind": kind,
        "lead_id": lead_id,
        "booking_id": booking_id,
        "to_address": draft.to,
        "reply_to": draft.reply_to or None,
        "subject": draft.subject,
        "body_text": draft.body_text,
        "attachments": [dict(attachment) for attachment in draft.attachments],
        "link_booking_ids": list(draft.link_booking_ids),
        "status": "pending",
        "send_after": send_after or now,
        "attempts": 0,
        "created_at": now,
    }


def cancel_pending(session: Session, *, booking_id: int, kinds: Iterable[str]) -> int:
    """Stop a booking's unsent messages of these kinds (e.g. the reminder); no commit."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.booking_id == booking_id,
            OutboxMessage.kind.in_(list(kinds)),
            OutboxMessage.status == "pending",
        )
        .values(status="cancelled")
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def retry_failed(session: Session, message_id: int, *, now: datetime) -> bool:
    """Put a message that failed for good back in the queue, due now; no commit. False
    when it is not failed (already requeued, say)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "failed")
        .values(status="pending", send_after=now, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, doubling each time, never more than an hour."""
    doublings = min(max(attempts - 1, 0), 16)  # 2**16 * 30 s is far past the cap
    return min(FIRST_RETRY * 2**doublings, LONGEST_RETRY)


def _claimable(now: datetime):
    pending_and_due = and_(OutboxMessage.status == "pending", OutboxMessage.send_after <= now)
    stale = and_(
        OutboxMessage.status == "sending",
        or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - STALE_CLAIM),
    )
    return or_(pending_and_due, stale)


def due_message_ids(
    session: Session, *, now: datetime, limit: int = 100, only_ids: Iterable[int] | None = None
) -> list[int]:
    """Messages a sender may claim now, longest waiting first."""
    query = select(OutboxMessage.id).where(_claimable(now))
    if only_ids is not None:
        query = query.where(OutboxMessage.id.in_(list(only_ids)))
    query = query.order_by(OutboxMessage.send_after, OutboxMessage.id).limit(limit)
    return list(session.scalars(query))


def claim(session: Session, message_id: int, *, now: datetime) -> bool:
    """Take the message for this sender and commit; False if another sender has it."""
    # The WHERE is re-checked by the database under the row's write lock, so of two
    # senders racing for one row exactly one sees rowcount 1.
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _claimable(now))
        .values(status="sending", claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


# What a sender reads of each message it claimed.
_SENT_COLUMNS = (
    OutboxMessage.id, OutboxMessage.kind, OutboxMessage.to_address, OutboxMessage.subject,
    OutboxMessage.body_text, OutboxMessage.attachments, OutboxMessage.attempts,
    OutboxMessage.created_at, OutboxMessage.lead_id, OutboxMessage.link_booking_ids,
    OutboxMessage.channel, OutboxMessage.booking_id, OutboxMessage.reply_to,
)  # fmt: skip


def _claimed(session: Session, message_ids: list[int], now: datetime) -> list:
    if not message_ids:
        return []
    rows = session.connection().execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), _claimable(now))
        .values(status="sending", claimed_at=now)
        .returning(*_SENT_COLUMNS)
    )
    by_id = {row.id: row for row in rows}
    return [by_id[message_id] for message_id in message_ids if message_id in by_id]


def claim_with_links(
    session: Session, message_ids: list[int], site_url: str, now: datetime
) -> tuple[list, dict[int, dict[int, str]]]:
    """`claim` for a whole pass in one statement, with the messages it got as plain rows
    in the order given, and fresh links for them (see _mint_links): one transaction,
    committed before any is sent, so none is held open while SMTP is talked to."""
    # The claim's UPDATE comes first and takes the write lock (on SQLite, waiting for it
    # as any first write does): the links' read of the bookings then runs under that lock
    # and the links' write cannot be refused for a stale read.
    claimed = _claimed(session, message_ids, now)
    links = _mint_links(session, claimed, site_url, now)
    session.commit()
    return claimed, links


def _freshened(session: Session, message):
    """The message with the subject and text it should have now (see FRESH_DRAFTS); the
    stored ones when nothing newer can be made, so a failure here never loses the mail."""
    make = FRESH_DRAFTS.get(message.kind)
    if make is None or message.booking_id is None:
        return message
    try:
        draft = make(session, message.booking_id)
    except Exception:
        log.exception("outbox message %s: sending its stored text", message.id)
        draft = None
    finally:
        session.rollback()  # only read: hold no transaction while SMTP is talked to
    if draft is None:
        return message
    return SimpleNamespace(
        **{**message._asdict(), "subject": draft.subject, "body_text": draft.body_text}
    )


def _message_id(message, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<outbox-{message.id}-{message.created_at:%Y%m%d%H%M%S%f}@{domain}>"


def _mint_links(
    session: Session, messages: list, site_url: str, now: datetime
) -> dict[int, dict[int, str]]:
    """Fresh links for every message that carries any, in the caller's (write) transaction:
    message id -> {booking id: url}; only bookings of the message's own lead."""
    wanted = {
        message.id: list(dict.fromkeys(int(booking_id) for booking_id in message.link_booking_ids))
        for message in messages
        if message.channel != "caldav" and message.link_booking_ids
    }
    if not wanted:
        return {}
    booking_ids = {booking_id for ids in wanted.values() for booking_id in ids}
    bookings = {
        row.id: row
        for row in session.execute(
            select(Booking.id, Booking.lead_id, Booking.ends_at).where(Booking.id.in_(booking_ids))
        )
    }
    pairs = [
        (message.id, booking_id)
        for message in messages
        for booking_id in wanted.get(message.id, ())
        if booking_id in bookings
        and bookings[booking_id].lead_id == message.lead_id
        and now <= link_expires_at(bookings[booking_id])
    ]
    tokens = mint_links(session, [booking_id for _, booking_id in pairs], now)
    urls: dict[int, dict[int, str]] = {}
    for (message_id, booking_id), token in zip(pairs, tokens, strict=True):
        urls.setdefault(message_id, {})[booking_id] = f"{site_url}/booking/{token}"
    return urls


def _forget_links(session: Session, urls: dict[int, str]) -> None:
    """Links of an attempt that did not go out: nobody has them, so they need not exist."""
    hashes = [token_hash(url.rsplit("/", 1)[1]) for url in urls.values()]
    if hashes:
        session.execute(delete(BookingLink).where(BookingLink.token_hash.in_(hashes)))


def _with_links(message, urls: dict[int, str]) -> tuple[str, list[dict]]:
    attachments = []
    for attachment in message.attachments or []:
        content = attachment["content"]
        if attachment["content_type"].startswith("text/calendar"):
            content = fill_links_in_calendar(content, urls)
        attachments.append({**attachment, "content": content})
    return fill_links(message.body_text, urls), attachments


def _attempt(
    mailer: Mailer, sender: str, message, now: datetime, urls: dict[int, str]
) -> MailError | None:
    """None when the server took the message, else the MailError explaining why not."""
    body_text, attachments = _with_links(message, urls)
    try:
        email = build_message(
            sender,
            to=message.to_address,
            subject=message.subject,
            body_text=body_text,
            attachments=attachments,
            message_id=_message_id(message, sender),
            now=now,
            reply_to=message.reply_to,
        )
    except (ValueError, TypeError) as error:
        return PermanentMailError(f"cannot build the message: {error}")
    try:
        mailer.send(email, kind=message.kind)
    except MailError as error:
        return error
    except Exception as error:  # an unforeseen error: keep the message and say so loudly
        log.exception("unexpected error sending outbox message %s", message.id)
        return TransientMailError(f"{type(error).__name__}: {error}")
    return None


def _outcome(message, error: MailError | None, now: datetime) -> tuple[str, dict]:
    """What happened ("sent", "retried", "failed") and the columns that record it.

    Logs name the message, its kind and lead by id; never an address (the stored error,
    which only the owner sees, keeps the server's own words).
    """
    named = f"outbox message {message.id} ({message.kind}, lead {message.lead_id})"
    if error is None:
        log.info("sent %s", named)
        return "sent", {"status": "sent", "sent_at": now}
    attempts = message.attempts + 1
    failure = {"attempts": attempts, "last_error": str(error)[:ERROR_TEXT_LIMIT]}
    reason = without_addresses(str(error))
    if isinstance(error, PermanentMailError):
        log.error("%s failed for good, listed on the owner's dashboard: %s", named, reason)
        return "failed", failure | {"status": "failed"}
    retry_at = now + backoff(attempts)
    log.warning(
        "%s not sent (attempt %s), retrying after %s: %s",
        named, attempts, retry_at.isoformat(), reason,
    )  # fmt: skip
    return "retried", failure | {"status": "pending", "send_after": retry_at}


def _no_calendar(_session: Session, _message, _now: datetime) -> MailError:
    return PermanentMailError("no calendar writer: CalDAV is off")


def send_due(
    session: Session,
    mailer: Mailer,
    sender: str,
    *,
    now: datetime,
    limit: int = 100,
    only_ids: Iterable[int] | None = None,
    site_url: str = "",
    calendar_writer: CalendarWriter = _no_calendar,
) -> SendReport:
    """One pass: claim, send and record each due message, committing after each.

    `site_url` starts the private links a message carries; `calendar_writer` sends the
    "caldav" messages. Commits the session: call it with no unrelated work pending.
    """
    debts = overdue_debts(session, now=now)
    if debts:
        session.commit()
        _pay(session, debts, now)
    message_ids = due_message_ids(session, now=now, limit=limit, only_ids=only_ids)
    session.commit()
    outcomes: Counter[str] = Counter()
    # One transaction claims the pass's messages, reads them and makes their links (on
    # SQLite it waits for the write lock); each outcome is still recorded as soon as it
    # is known.
    messages, links = claim_with_links(session, message_ids, site_url, now)
    for loaded in messages:
        message = _freshened(session, loaded)
        urls = links.get(loaded.id, {})
        if message.channel == "caldav":
            error = calendar_writer(session, message, now)
        else:
            error = _attempt(mailer, sender, message, now, urls)
        outcome, columns = _outcome(message, error, now)
        _record(session, loaded.id, columns)
        if outcome != "sent":
            _forget_links(session, urls)
        session.commit()
        outcomes[outcome] += 1
    return SendReport(**outcomes)


# Built once: the columns set are the parameters given, and the compiled form is cached.
_RECORD = update(OutboxMessage.__table__).where(
    OutboxMessage.__table__.c.id == bindparam("message_id")
)


def _record(session: Session, message_id: int, columns: dict) -> None:
    # One statement, first in its transaction: the record never waits on a stale read.
    session.connection().execute(_RECORD, {"message_id": message_id, **columns})


def pay_overdue_debts(session: Session, *, now: datetime, limit: int = 100) -> int:
    """Compose the emails of bookings whose request did not (see OWED); returns how many.
    A payer that fails leaves its debt for the next pass."""
    debts = overdue_debts(session, now=now, limit=limit)
    session.commit()
    return _pay(session, debts, now)


def overdue_debts(session: Session, *, now: datetime, limit: int = 100) -> list:
    """(kind, booking id) of the debts left longer than OWED_GRACE; read only, no commit."""
    return session.execute(
        select(OutboxMessage.kind, OutboxMessage.booking_id)
        .where(OutboxMessage.status == OWED, OutboxMessage.send_after <= now - OWED_GRACE)
        .order_by(OutboxMessage.send_after)
        .limit(limit)
    ).all()


def pay_debts_of(session: Session, booking_ids: Iterable[int], *, now: datetime) -> int:
    """Compose the emails these bookings still owe, at once: the inline sender, right after
    the answers to the requests that left them owed. Returns how many were paid."""
    debts = session.execute(
        select(OutboxMessage.kind, OutboxMessage.booking_id).where(
            OutboxMessage.status == OWED, OutboxMessage.booking_id.in_(list(booking_ids))
        )
    ).all()
    # No commit: the payers read on in this transaction, and end it before they write.
    return _pay(session, debts, now)


def _pay(session: Session, debts, now: datetime) -> int:
    paid, alone = 0, []
    by_kind: dict[str, list[int]] = {}
    for kind, booking_id in debts:
        if booking_id is not None:
            by_kind.setdefault(kind, []).append(booking_id)
    for kind, booking_ids in by_kind.items():
        batch_payer = OWED_BATCH_PAYERS.get(kind)
        if batch_payer is None or len(booking_ids) < 2:
            alone += [(kind, booking_id) for booking_id in booking_ids]
            continue
        try:
            paid += batch_payer(session, booking_ids, now)
        except Exception:
            log.exception("emails owed by bookings %s: paying them one by one", booking_ids)
            session.rollback()
            alone += [(kind, booking_id) for booking_id in booking_ids]
    return paid + _pay_alone(session, alone, now)


def _pay_alone(session: Session, debts, now: datetime) -> int:
    paid = 0
    for kind, booking_id in debts:
        payer = OWED_PAYERS.get(kind)
        if payer is None or booking_id is None:
            continue
        try:
            paid += bool(payer(session, booking_id, now))
        except Exception:
            log.exception("emails owed by booking %s: not composed, next pass", booking_id)
            session.rollback()
    return paid


def send_due_with_settings(
    session: Session,
    config: Mapping[str, Any],
    *,
    now: datetime,
    limit: int = 100,
    only_ids: Iterable[int] | None = None,
    mailer: Mailer | None = None,
) -> SendReport:
    """`send_due` with the sender, links, calendar and (unless given) mailer the settings
    name."""
    return send_due(
        session,
        mailer or mailer_from_config(config),
        config["MAIL_FROM"],
        now=now,
        limit=limit,
        only_ids=only_ids,
        site_url=config["SITE_URL"],
        calendar_writer=calendar_writer_from_config(config),
    )


def run_worker(
    send_pass: Callable[[], SendReport],
    *,
    interval: float,
    stop: threading.Event | None = None,
    max_passes: int | None = None,
) -> int:
    """Call `send_pass` every `interval` seconds until `stop` is set; returns the passes run.

    A failed pass (the database is down, say) is logged and the loop goes on.
    """
    stop = stop or threading.Event()
    passes = 0
    while not stop.is_set() and (max_passes is None or passes < max_passes):
        try:
            report = send_pass()
        except Exception:
            log.exception("outbox pass failed; trying again in %s s", interval)
        else:
            if report.total:
                log.info("outbox pass: %s", report)
        passes += 1
        if max_passes is None or passes < max_passes:
            stop.wait(interval)
    return passes
