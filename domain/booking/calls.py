"""Booking, rescheduling and cancelling a call: each one transaction, all or nothing.

No two active calls overlap. The slot check runs inside a write transaction that holds
the lock on SQLite (BEGIN IMMEDIATE), and PostgreSQL's exclusion constraint refuses an
overlap that slipped past a concurrent check; either way the loser gets SlotUnavailable.

Anyone can type an address, so a booking never changes an existing lead's details and
only ever gets a link to itself (domain/booking/links.py). Upcoming calls are capped per address
and per client, counted under a lock so that racing submissions cannot both pass.

A booking's transaction stays small, since every other booking waits for its lock: it
writes the call, the lead, the first link and a marker that emails are owed. The emails
(two invites, the brief) are composed after the commit, outside the lock, and swapped
for the marker in a second short transaction: by the request itself, or (the site with
an inline sender) by that sender's thread after the visitor has their answer. If that
never happens (the process died, the database went away in between), the outbox's next
pass pays the debt: nothing the visitor was told is booked goes without its emails.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, func, insert, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from domain.booking.availability import load_rules
from domain.booking.booking_rows import (  # noqa: F401  (EMAILS_OWED_KIND: re-exported)
    EMAILS_OWED_KIND,
    KnownLead,
    known_lead,
    write_booking,
)
from domain.booking.location import CallLocation, load_location
from domain.booking.picker import LONGEST_SPAN, busy_between, busy_spans, calls_reaching
from domain.booking.slots import AvailabilityRules, Busy, slot_problem
from domain.booking.stamp import bump_on
from domain.calendar.caldav_write import enqueue_calendar_write
from domain.calendar.sync import calendar_spans
from domain.content.counters import local_day, upsert_counts
from domain.leads.details import normalise_email
from domain.leads.scoring import fit_for
from domain.mail.brief_email import BRIEF_KIND
from domain.mail.outbox import OWED, cancel_pending, message_values
from domain.platform.database import (
    kept_after_commit,
    lock_for_transaction,
    serialised_write,
)
from models import AvailabilitySettings, Booking, Lead, OutboxMessage

log = logging.getLogger(__name__)

REMINDER_KIND = "visitor_reminder"
# Sent ahead of the call: a new time or a cancellation stops the ones still waiting.
TIMED_KINDS = (REMINDER_KIND, BRIEF_KIND)


@dataclass(frozen=True)
class Signal:
    key: str
    label: str
    engagement: str  # "architect" or "engineer"


@dataclass(frozen=True)
class BookingRequest:
    name: str
    email: str
    company: str
    role: str
    company_size: str
    signals: tuple[Signal, ...]
    message: str
    consent_version: str
    start: datetime
    visitor_timezone: str
    submission_key: str
    source_article: str | None = None
    attribution: dict = field(default_factory=dict)
    client_key: str | None = None  # a keyed hash of the client's address
    phone: str | None = None  # E.164, when the owner calls the visitor


@dataclass(frozen=True)
class BookingLimits:
    """The most upcoming active calls one address, and one client, may hold."""

    per_email: int = 2
    per_client: int = 3


@dataclass(frozen=True)
class PlannedEmail:
    draft: object  # domain.mail.emails.EmailDraft
    kind: str
    send_after: datetime | None = None


@dataclass(frozen=True)
class PlannedCalendarWrite:
    """Write the booking, as it is when sent, into the owner's CalDAV calendar
    (domain/calendar/caldav_write.py); queued in the outbox like an email."""

    calendar_name: str


# (lead, booking, event, previous start) -> the emails (and calendar writes) that event sends
EmailPlanner = Callable[
    [Lead, Booking, str, datetime | None], Sequence[PlannedEmail | PlannedCalendarWrite]
]


class SlotUnavailable(Exception):
    """The chosen time cannot be booked; `code` is a domain.booking.slots.slot_problem code."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class BookingClosed(Exception):
    """The call was cancelled or has already started, so it cannot be changed."""


class BookingLimitReached(Exception):
    """Too many upcoming calls for this address ("email") or this client ("client")."""

    def __init__(self, kind: str, limit: int):
        super().__init__(kind)
        self.kind = kind
        self.limit = limit


@dataclass(frozen=True)
class Booked:
    """The call booked (or found again, on a repeat). A new booking's rows were written
    without ORM objects, so `booking` and `lead` load them from `session` when asked."""

    session: Session = field(repr=False)
    booking_id: int
    created: bool  # False when this was a repeat of a submission already booked
    token: str | None = None  # the new booking's first private link; None on a repeat

    @property
    def booking(self) -> Booking:
        return self.session.get(Booking, self.booking_id)

    @property
    def lead(self) -> Lead:
        return self.booking.lead


def busy_bookings(
    session: Session, rules: AvailabilityRules, now: datetime, excluding: int | None = None
) -> list[Busy]:
    """Every span the owner is busy: active calls, and busy times from their calendars."""
    horizon_end = now + rules.min_notice + timedelta(days=rules.horizon_days + 2)
    return busy_between(session, rules, now - timedelta(days=1), horizon_end, excluding)


# The owner's rules and call location as this process last read them, by database, with
# the settings row's updated_at at the time: a booking reads that one column instead of
# the whole row, and parses the hours again only after the owner saved them.
_settings_read: dict[str, tuple[datetime, AvailabilityRules, CallLocation | None]] = {}


_SETTINGS_SAVED_AT = select(AvailabilitySettings.updated_at).where(AvailabilitySettings.id == 1)
# A booking POST's first read: whether this submission was booked already, and when the
# settings were last saved, in one round trip.
_REPEAT_AND_SETTINGS_SAVED_AT = select(
    select(Booking.id).where(Booking.submission_key == bindparam("key")).scalar_subquery(),
    _SETTINGS_SAVED_AT.scalar_subquery(),
)


def current_settings(session: Session) -> tuple[AvailabilityRules, CallLocation | None]:
    """The owner's availability rules and call location as stored now (load_rules,
    load_location), from this process's copy while the settings row is unchanged."""
    return settings_saved_at(session, session.connection().execute(_SETTINGS_SAVED_AT).scalar())


def repeat_and_settings(
    session: Session, submission_key: str
) -> tuple[Booking | None, AvailabilityRules, CallLocation | None]:
    """booking_for_submission and current_settings in one statement."""
    booking_id, stamp = (
        session.connection().execute(_REPEAT_AND_SETTINGS_SAVED_AT, {"key": submission_key}).one()
    )
    repeat = session.get(Booking, booking_id) if booking_id is not None else None
    return repeat, *settings_saved_at(session, stamp)


def settings_saved_at(
    session: Session, stamp: datetime | None
) -> tuple[AvailabilityRules, CallLocation | None]:
    """The settings whose row was saved at `stamp`: this process's copy, or read now."""
    database = str(session.get_bind().url)
    kept = _settings_read.get(database)
    if stamp is not None and kept is not None and kept[0] == stamp:
        return kept[1], kept[2]
    rules, location = load_rules(session), load_location(session)
    if stamp is not None:
        _settings_read[database] = (stamp, rules, location)
    return rules, location


def current_rules(session: Session) -> AvailabilityRules:
    return current_settings(session)[0]


def slot_problem_at(
    session: Session,
    rules: AvailabilityRules,
    now: datetime,
    start: datetime,
    excluding: int | None = None,
) -> str | None:
    """Why `start` cannot be booked (a domain.booking.slots.slot_problem code), or None.
    Reads only what can refuse it, on indexed starts (uq_booking_active_start,
    ix_busy_interval_span), instead of every busy span over the horizon: this runs inside
    the booking lock, so its time is every other booking's wait."""
    calls_that_day = None
    if rules.daily_limit is not None:
        calls_that_day = calls_on_local_day(session, rules.timezone, start, excluding)
    busy = busy_around(session, rules, start, excluding)
    return slot_problem(rules, busy, now, start, calls_that_day=calls_that_day)


def calls_on_local_day(
    session: Session, timezone: str, start: datetime, excluding: int | None = None
) -> int:
    """Active calls starting on the owner-local day of `start` (the daily limit's count)."""
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date()
    day_start = datetime.combine(day, time(), zone).astimezone(UTC)
    day_end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    if excluding is None:
        bounds = {"day_start": day_start, "day_end": day_end}
        return session.connection().execute(_CALLS_ON_DAY, bounds).scalar()
    query = select(func.count()).where(
        Booking.status == "active", Booking.starts_at >= day_start, Booking.starts_at < day_end
    )
    return session.scalar(query.where(Booking.id != excluding))


# A booking's checks, built once (their cache keys with them): they run on every booking
# POST, inside the lock. A move (`excluding` its own call) builds its own.
_CALLS_ON_DAY = select(func.count()).where(
    Booking.status == "active",
    Booking.starts_at >= bindparam("day_start"),
    Booking.starts_at < bindparam("day_end"),
)
_BUSY_AROUND = union_all(
    calls_reaching(bindparam("reach"), bindparam("span_end"), earliest=bindparam("earliest")),
    calendar_spans(bindparam("busy_from"), bindparam("busy_to")),
)


def busy_around(
    session: Session, rules: AvailabilityRules, start: datetime, excluding: int | None = None
) -> list[Busy]:
    """The calls and calendar busy times that can reach the span of a call at `start`
    (with today's buffer after each), and no others."""
    buffer = timedelta(minutes=rules.buffer_minutes)
    span_end = start + timedelta(minutes=rules.call_minutes) + buffer
    # A stored span reaches the slot only if it is blocked past `start - buffer`, and a
    # calendar busy time blocks it when it ends less than a buffer before it.
    reach = start - buffer
    if excluding is not None:
        return busy_between(session, rules, reach, span_end, excluding)
    bounds = {
        "reach": reach, "span_end": span_end, "earliest": start - LONGEST_SPAN,
        "busy_from": reach, "busy_to": span_end,
    }  # fmt: skip
    return busy_spans(session.connection().execute(_BUSY_AROUND, bounds).all(), buffer)


def booking_for_submission(session: Session, submission_key: str) -> Booking | None:
    return session.scalar(select(Booking).where(Booking.submission_key == submission_key))


def book_call(
    session: Session,
    request: BookingRequest,
    *,
    now: datetime,
    plan_emails: EmailPlanner | None,
    limits: BookingLimits = BookingLimits(),
) -> Booked:
    """Book the call (committed), then compose its emails; a failure of the second step
    leaves the debt for the outbox's next pass and still returns the booking.

    Without `plan_emails` the emails are left owed for a sender to compose after the
    answer (the inline sender does it at once, the outbox worker after OWED_GRACE): the
    request then costs only the booking's own transaction."""
    with kept_after_commit(session):  # the emails are composed from what it just wrote
        booked = _book_with_retry(session, request, now, limits)
        if booked.created and plan_emails is not None:
            try:
                pay_owed_emails(session, booked.booking_id, plan_emails=plan_emails, now=now)
            except Exception:
                log.exception("booking %s: emails left owed for the outbox", booked.booking_id)
                session.rollback()
    return booked


def _book_with_retry(session, request: BookingRequest, now, limits) -> Booked:
    for attempt in range(2):
        try:
            return _book_once(session, request, now, limits)
        except IntegrityError as error:
            repeat = booking_for_submission(session, request.submission_key)
            if repeat is not None:
                return Booked(session, repeat.id, created=False)
            # Another booking created this email's lead a moment ago: go again, it exists now.
            if "email_normalised" in str(error.orig) and attempt == 0:
                continue
            raise SlotUnavailable("taken") from error
    raise AssertionError("unreachable")


def _book_once(session, request: BookingRequest, now, limits) -> Booked:
    # Worked out before the lock: nothing here depends on what other bookings write.
    fit = fit_for(
        company_size=request.company_size,
        role=request.role,
        email=request.email,
        message=request.message,
        chosen_engagements=[signal.engagement for signal in request.signals],
    )
    email_key = normalise_email(request.email)
    with serialised_write(session):
        saved_at, rules = kept_settings(session)
        if slot_problem_at(session, rules, now, request.start):
            # Refused under the rules this process holds: only those stored now may refuse.
            saved_at, rules = kept_settings(session, fresh=True)
            if repeat := repeat_or_refusal(session, request, rules, now):
                return repeat
        # Taken only now, so that bookings of one client wait on each other for the lead,
        # the counts and the writes alone: the slot is PostgreSQL's exclusion constraint's
        # to guard (SQLite's writers are one at a time from BEGIN IMMEDIATE on).
        lock_for_transaction(session, f"email:{email_key}", f"client:{request.client_key}")
        connection = session.connection()
        known = known_lead(connection, email_key, request.client_key, now)
        if known.settings_saved_at != saved_at:
            # The owner saved the settings since this process read them: the slot is
            # checked again under the rules stored now (in this transaction, as before).
            rules = current_rules(session)
            if repeat := repeat_or_refusal(session, request, rules, now):
                return repeat
        check_limits(known, request.client_key, limits)
        booking_id, token = write_booking(connection, request, known, rules, fit, now)
        # Last: every booking changes these two rows (the availability stamp, and the
        # article's count of the day), whose locks (PostgreSQL) are then held only until
        # the commit that follows.
        bump_on(connection)
        if request.source_article:
            upsert_counts(
                connection,
                {(request.source_article, local_day(now, rules.timezone), "bookings"): 1},
            )
    return Booked(session, booking_id, created=True, token=token)


def kept_settings(session: Session, fresh=False) -> tuple[datetime | None, AvailabilityRules]:
    """The rules this process holds and when the settings they come from were saved (read
    now when it holds none, or `fresh`). The write checks that time in its read of the
    lead instead of reading it first: one statement fewer in the lock, and as fresh."""
    kept = None if fresh else _settings_read.get(str(session.get_bind().url))
    if kept is not None:
        return kept[0], kept[1]
    saved_at = session.connection().execute(_SETTINGS_SAVED_AT).scalar()
    return saved_at, settings_saved_at(session, saved_at)[0]


def repeat_or_refusal(session, request: BookingRequest, rules, now) -> Booked | None:
    """None when the slot can be booked under `rules`; a repeat of a booked submission
    finds its own call there (a repeat that reaches the insert instead is refused by
    uq_booking_submission_key); any other problem raises SlotUnavailable."""
    problem = slot_problem_at(session, rules, now, request.start)
    if not problem:
        return None
    repeat = booking_for_submission(session, request.submission_key)
    if repeat is not None:
        return Booked(session, repeat.id, created=False)
    raise SlotUnavailable(problem)


def pay_owed_emails(
    session: Session, booking_id: int, *, plan_emails: EmailPlanner, now: datetime
) -> bool:
    """Compose the emails a new booking owes, then swap its marker for them in one short
    transaction. False when there was no debt (paid already, by another sender)."""
    with kept_after_commit(session):
        booking = session.get(Booking, booking_id)
        if booking is None:
            return False
        seen = (booking.sequence, booking.status)
        planned = owed_messages(booking, plan_emails)  # outside the lock: it is the slow part
        session.commit()  # ends the reads, keeps the objects
        with serialised_write(session):
            marker = session.scalar(
                select(OutboxMessage.id).where(
                    OutboxMessage.booking_id == booking_id, OutboxMessage.status == OWED
                )
            )
            if marker is None:
                return False
            now_is = session.execute(
                select(Booking.sequence, Booking.status).where(Booking.id == booking_id)
            ).one()
            if tuple(now_is) != seen:  # moved or cancelled meanwhile: say what is true now
                session.refresh(booking)
                planned = owed_messages(booking, plan_emails)
            used = settle(session, marker, planned, booking, now)
            if used is None:
                return False  # another sender paid it a moment ago
            queue_emails(session, planned[used:], booking.lead, booking, now)
    return True


def pay_owed_emails_of(
    session: Session, booking_ids: Sequence[int], *, plan_emails: EmailPlanner, now: datetime
) -> int:
    """pay_owed_emails for a sender's whole batch: every booking's emails composed in one
    read, then every marker swapped in one write transaction instead of one each (each
    write waits its turn behind the bookings). All or nothing: on an error nothing is
    paid and the caller may pay them one by one. Returns how many were paid."""
    with kept_after_commit(session):
        bookings = bookings_to_compose(session, booking_ids)
        seen = {b.id: (b.sequence, b.status) for b in bookings}
        planned = {b.id: owed_messages(b, plan_emails) for b in bookings}
        session.commit()  # ends the reads, keeps the objects
        paid, rows = 0, []
        with serialised_write(session):
            debts = owed_now(session, list(seen))
            for booking in bookings:
                if booking.id not in debts:
                    continue  # paid already, by another sender
                marker, now_is = debts[booking.id]
                if now_is != seen[booking.id]:  # moved or cancelled meanwhile
                    session.refresh(booking)
                    planned[booking.id] = owed_messages(booking, plan_emails)
                mine = planned[booking.id]
                used = settle(session, marker, mine, booking, now)
                if used is None:
                    continue
                rows += email_rows(mine[used:], booking.lead_id, booking.id, now)
                if any(isinstance(item, PlannedCalendarWrite) for item in mine):
                    insert_emails(session, rows)  # first: ids follow the plan, as they did
                    rows = []
                    queue_calendar_writes(session, mine[used:], booking, now)
                paid += 1
            insert_emails(session, rows)
    return paid


def bookings_to_compose(session: Session, booking_ids: Sequence[int]) -> list[Booking]:
    """The bookings, in the order given, with what their emails read (the lead, its calls
    and its timeline) loaded by three queries for the whole batch instead of a lazy load
    per booking and relation."""
    lead = joinedload(Booking.lead)
    found = session.scalars(
        select(Booking)
        .where(Booking.id.in_(list(booking_ids)))
        .options(lead.selectinload(Lead.bookings), lead.selectinload(Lead.events))
    ).unique()
    by_id = {booking.id: booking for booking in found}
    return [by_id[booking_id] for booking_id in booking_ids if booking_id in by_id]


def owed_now(session: Session, booking_ids: list[int]) -> dict[int, tuple[int, tuple]]:
    """booking id -> (its "owed" marker, (sequence, status) now), for those still owing."""
    rows = session.execute(
        select(OutboxMessage.booking_id, OutboxMessage.id, Booking.sequence, Booking.status)
        .join(Booking, Booking.id == OutboxMessage.booking_id)
        .where(OutboxMessage.booking_id.in_(booking_ids), OutboxMessage.status == OWED)
    ).all()
    return {row[0]: (row[1], (row[2], row[3])) for row in rows}


_OWED_ROW = (
    OutboxMessage.__table__.c.id == bindparam("marker"),
    OutboxMessage.__table__.c.status == OWED,
)
# Built once: the columns set are the parameters given, and the compiled form is cached.
_FIRST_EMAIL_IN_MARKER = update(OutboxMessage.__table__).where(*_OWED_ROW)
_MARKER_GONE = delete(OutboxMessage.__table__).where(*_OWED_ROW)


def settle(session: Session, marker: int, planned: list, booking: Booking, now) -> int | None:
    """Turn the marker into the first email (its row, so message ids run as they always
    did; returns 1), or delete it (returns 0); None when it was no longer owed."""
    first = planned[0] if planned else None
    if isinstance(first, PlannedEmail):
        values = message_values(
            first.draft, kind=first.kind, lead_id=booking.lead_id, booking_id=booking.id,
            send_after=first.send_after, now=now,
        )  # fmt: skip
        statement, parameters = _FIRST_EMAIL_IN_MARKER, values | {"channel": "email"}
    else:
        statement, parameters = _MARKER_GONE, {}
    result = session.connection().execute(statement, parameters | {"marker": marker})
    if result.rowcount != 1:
        return None
    return 1 if isinstance(first, PlannedEmail) else 0


def owed_messages(booking: Booking, plan_emails: EmailPlanner) -> list:
    """What a booking's confirmation sends, as the booking is now. A cancelled call owes
    nothing (its cancellation went out instead); a moved one had its reminder and brief
    queued by the move, so it keeps only the confirmations."""
    if booking.status != "active":
        return []
    planned = plan_emails(booking.lead, booking, "booked", None)
    if booking.sequence == 0:
        return list(planned)
    return [item for item in planned if getattr(item, "kind", None) not in TIMED_KINDS]


def check_limits(known: KnownLead, client_key: str | None, limits: BookingLimits) -> None:
    if known.lead_id is not None and known.upcoming_calls >= limits.per_email:
        raise BookingLimitReached("email", limits.per_email)
    if client_key and known.client_upcoming_calls >= limits.per_client:
        raise BookingLimitReached("client", limits.per_client)


def refresh_next_call(session: Session, lead: Lead, now: datetime) -> None:
    session.flush()
    lead.next_call_at = session.scalar(
        select(func.min(Booking.starts_at)).where(
            Booking.lead_id == lead.id, Booking.status == "active", Booking.starts_at >= now
        )
    )


def queue_emails(session, planned: Sequence[PlannedEmail], lead, booking, now) -> None:
    insert_emails(session, email_rows(planned, lead.id, booking.id, now))
    queue_calendar_writes(session, planned, booking, now)


def email_rows(planned: Sequence, lead_id: int, booking_id: int, now) -> list[dict]:
    """The outbox rows of the planned emails (calendar writes are queued apart)."""
    return [
        message_values(
            email.draft,
            kind=email.kind,
            lead_id=lead_id,
            booking_id=booking_id,
            send_after=email.send_after,
            now=now,
        )  # fmt: skip
        for email in planned
        if isinstance(email, PlannedEmail)
    ]


_NEW_EMAILS = insert(OutboxMessage.__table__)


def insert_emails(session: Session, rows: list[dict]) -> None:
    """Write the rows in the order given (their ids follow it), in one statement; nothing
    reads them back as objects, so no ORM objects are made and flushed."""
    if rows:
        session.connection().execute(_NEW_EMAILS, rows)


def queue_calendar_writes(session, planned: Sequence, booking, now) -> None:
    for write in planned:
        if isinstance(write, PlannedCalendarWrite):
            enqueue_calendar_write(session, booking, calendar_name=write.calendar_name, now=now)


def changeable_booking(session: Session, booking_id: int, now) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise LookupError(booking_id)
    if booking.status != "active" or booking.starts_at <= now:
        raise BookingClosed(booking.status)
    return booking


def reschedule_call(
    session: Session,
    *,
    booking_id: int,
    new_start: datetime,
    visitor_timezone: str,
    now: datetime,
    plan_emails: EmailPlanner,
) -> Booking:
    """Move an active call; the old time is freed and the new one taken, or nothing changes."""
    try:
        with serialised_write(session):
            booking = changeable_booking(session, booking_id, now)
            rules = load_rules(session)
            problem = slot_problem_at(session, rules, now, new_start, excluding=booking.id)
            if problem:
                raise SlotUnavailable(problem)
            previous_start = booking.starts_at
            booking.starts_at = new_start
            booking.ends_at = new_start + timedelta(minutes=rules.call_minutes)
            booking.blocked_until = booking.ends_at + timedelta(minutes=rules.buffer_minutes)
            booking.owner_timezone = rules.timezone
            booking.visitor_timezone = visitor_timezone
            booking.sequence += 1
            refresh_next_call(session, booking.lead, now)
            cancel_pending(session, booking_id=booking.id, kinds=TIMED_KINDS)
            planned = plan_emails(booking.lead, booking, "rescheduled", previous_start)
            queue_emails(session, planned, booking.lead, booking, now)
    except IntegrityError as error:
        raise SlotUnavailable("taken") from error
    return booking


def cancel_call(
    session: Session,
    *,
    booking_id: int,
    now: datetime,
    plan_emails: EmailPlanner,
    reason: str = "",
) -> Booking:
    """Cancel an active call; `reason` is the visitor's optional, already-validated text."""
    with serialised_write(session):
        booking = changeable_booking(session, booking_id, now)
        booking.status = "cancelled"
        booking.cancelled_at = now
        booking.cancel_reason = reason.strip() or None
        booking.sequence += 1
        refresh_next_call(session, booking.lead, now)
        cancel_pending(session, booking_id=booking.id, kinds=TIMED_KINDS)
        queue_emails(
            session,
            plan_emails(booking.lead, booking, "cancelled", None),
            booking.lead,
            booking,
            now,
        )
    return booking
