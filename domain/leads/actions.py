"""What the owner does with one lead: move it through the pipeline, write notes, record a
call's outcome, export everything stored about it, erase it; and its timeline.

Each change is one transaction that commits or rolls back whole (a status change and the
article's anonymous "won" count move together). The lead's row is locked first, so two
changes at once see each other's status and the count stays right. Input the owner can
correct raises a LeadActionError whose text is the message to show.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from domain.booking.calls import refresh_next_call
from domain.calendar.caldav_write import enqueue_calendar_erasures
from domain.content.counters import counting_zone, local_day, upsert_counts
from domain.leads.details import normalise_email
from domain.leads.statuses import BOOKING_STATUS_LABELS, STATUS_LABELS
from domain.platform.database import serialised_write
from domain.platform.text_input import text_problem
from models import LEAD_STATUSES, Booking, Lead, LeadEvent

NOTE_MAX_LENGTH = 5000
OUTCOMES = ("completed", "no_show")


class LeadActionError(ValueError):
    """Input the owner can correct; `str(error)` is the message to show."""


class UnknownStatus(LeadActionError):
    pass


class StatusUnchanged(LeadActionError):
    pass


class InvalidNote(LeadActionError):
    pass


class OutcomeRefused(LeadActionError):
    pass


class ErasureNotConfirmed(LeadActionError):
    pass


class LeadGone(LeadActionError):
    pass


def clean_note(body: str | None) -> str:
    """The note as stored: browser line endings made plain, 1–5,000 characters, no control
    characters (PostgreSQL refuses NUL; the others garble the page and the export)."""
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidNote("Write the note before saving it.")
    problem = text_problem(text, multiline=True)
    if problem:
        raise InvalidNote(problem)
    if len(text) > NOTE_MAX_LENGTH:
        raise InvalidNote(
            f"Please keep a note to {NOTE_MAX_LENGTH:,} characters or fewer "
            f"(this one has {len(text):,})."
        )
    return text


def locked_lead(session: Session, lead_id: int) -> Lead:
    """The lead, re-read and locked for this transaction (SQLite holds the whole database)."""
    lead = session.get(Lead, lead_id, with_for_update=True, populate_existing=True)
    if lead is None:
        raise LeadGone("That lead has been erased.")
    return lead


def change_status(
    session: Session, lead: Lead, new_status: str, now: datetime, note: str | None = None
) -> LeadEvent:
    if new_status not in LEAD_STATUSES:
        raise UnknownStatus("Choose one of the pipeline's statuses.")
    body = clean_note(note) if note and note.strip() else ""
    lead_id = lead.id
    with serialised_write(session):
        lead = locked_lead(session, lead_id)
        old_status = lead.status
        if old_status == new_status:
            raise StatusUnchanged(f"The lead is already {STATUS_LABELS[old_status]}.")
        lead.status = new_status
        lead.updated_at = now
        event = LeadEvent(
            lead_id=lead_id,
            at=now,
            kind="status",
            body=body,
            from_status=old_status,
            to_status=new_status,
        )
        session.add(event)
        count_won(session, lead.source_article, old_status, new_status, now)
    return event


def count_won(session: Session, slug: str | None, old: str, new: str, now: datetime) -> None:
    """+1 on the owner's today when a lead becomes won, −1 when it stops being won."""
    change = (new == "won") - (old == "won")
    if slug and change:
        connection = session.connection()
        day = local_day(now, counting_zone(connection))
        upsert_counts(connection, {(slug, day, "won"): change})


def add_note(session: Session, lead: Lead, body: str, now: datetime) -> LeadEvent:
    text = clean_note(body)
    lead_id = lead.id
    with serialised_write(session):
        locked_lead(session, lead_id)
        event = LeadEvent(lead_id=lead_id, at=now, kind="note", body=text)
        session.add(event)
    return event


def record_outcome(
    session: Session, lead: Lead, booking_id: int, outcome: str, now: datetime
) -> Booking:
    """Mark a call that has started as completed or no-show; only an active one."""
    if outcome not in OUTCOMES:
        raise OutcomeRefused("Choose completed or no-show.")
    lead_id = lead.id
    with serialised_write(session):
        lead = locked_lead(session, lead_id)
        booking = session.scalar(
            select(Booking)
            .where(Booking.id == booking_id, Booking.lead_id == lead_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if booking is None:
            raise OutcomeRefused("That call is not one of this lead's.")
        if booking.status != "active":
            label = BOOKING_STATUS_LABELS[booking.status].lower()
            raise OutcomeRefused(f"That call is already marked {label}, so nothing changed.")
        if booking.starts_at > now:
            raise OutcomeRefused("That call has not started yet, so it has no outcome.")
        booking.status = outcome
        refresh_next_call(session, lead, now)
    return booking


def check_erase_confirmation(lead: Lead, typed: str | None) -> None:
    """Erasing needs the lead's email typed out, so a stray click erases nothing."""
    if normalise_email(typed or "") != lead.email_normalised:
        raise ErasureNotConfirmed(
            "Nothing was erased: type the lead's email address exactly to confirm."
        )


def erase_lead(session: Session, lead: Lead, *, from_calendar: bool = False) -> None:
    """Delete the lead's row; the database's ON DELETE CASCADE removes its bookings, events
    and queued emails. The anonymous per-article counts are another table and stay.

    `from_calendar` (CalDAV on): its calls are queued for removal from the owner's CalDAV
    calendar too, since they name the lead; those messages hold only the bookings' ids."""
    lead_id = lead.id
    with serialised_write(session):
        if from_calendar:
            booking_ids = session.scalars(select(Booking.id).where(Booking.lead_id == lead_id))
            enqueue_calendar_erasures(session, list(booking_ids), now=datetime.now(UTC))
        session.execute(delete(Lead).where(Lead.id == lead_id))


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def lead_export(lead: Lead) -> dict[str, Any]:
    """Everything stored about the lead, JSON-safe (times as ISO 8601 in UTC).

    Private links are left out: they are credentials (and stored only as hashes).
    """
    return {
        "lead": {
            "id": lead.id,
            "name": lead.name,
            "email": lead.email,
            "company": lead.company,
            "role": lead.role,
            "company_size": lead.company_size,
            "status": lead.status,
            "fit_score": lead.fit_score,
            "suggested_engagement": lead.suggested_engagement,
            "source_article": lead.source_article,
            "first_touch": dict(lead.first_touch or {}),
            "last_touch": dict(lead.last_touch or {}),
            "articles_read": list(lead.articles_read or []),
            "consent_version": lead.consent_version,
            "consent_given_at": iso(lead.consent_given_at),
            "next_call_at": iso(lead.next_call_at),
            "created_at": iso(lead.created_at),
            "updated_at": iso(lead.updated_at),
        },
        "bookings": [booking_export(booking) for booking in lead.bookings],
        "events": [event_export(event) for event in lead.events],
    }


def booking_export(booking: Booking) -> dict[str, Any]:
    return {
        "id": booking.id,
        "name": booking.name,
        "email": booking.email,
        "company": booking.company,
        "role": booking.role,
        "company_size": booking.company_size,
        "consent_version": booking.consent_version,
        "starts_at": iso(booking.starts_at),
        "ends_at": iso(booking.ends_at),
        "status": booking.status,
        "visitor_timezone": booking.visitor_timezone,
        "owner_timezone": booking.owner_timezone,
        "situation": list(booking.situation or []),
        "message": booking.message,
        "source_article": booking.source_article,
        "attribution": dict(booking.attribution or {}),
        "fit_score": booking.fit_score,
        "suggested_engagement": booking.suggested_engagement,
        "created_at": iso(booking.created_at),
        "cancelled_at": iso(booking.cancelled_at),
        "cancel_reason": booking.cancel_reason,
    }


def event_export(event: LeadEvent) -> dict[str, Any]:
    return {
        "at": iso(event.at),
        "kind": event.kind,
        "body": event.body,
        "from_status": event.from_status,
        "to_status": event.to_status,
    }


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "note" | "status" | "booked" | "cancelled" | "call"
    event: LeadEvent | None = None
    booking: Booking | None = None


def timeline(lead: Lead) -> list[TimelineEntry]:
    """Notes, status changes and each booking (booked, cancelled, the call), newest first."""
    entries: list[TimelineEntry] = []
    for booking in lead.bookings:
        entries.append(TimelineEntry(booking.created_at, "booked", booking=booking))
        if booking.status == "cancelled":
            if booking.cancelled_at:
                entries.append(TimelineEntry(booking.cancelled_at, "cancelled", booking=booking))
        else:
            entries.append(TimelineEntry(booking.starts_at, "call", booking=booking))
    entries.extend(TimelineEntry(event.at, event.kind, event=event) for event in lead.events)
    # Sorting is stable: entries at the same instant keep their order, then all reverse.
    return sorted(entries, key=lambda entry: entry.at)[::-1]
