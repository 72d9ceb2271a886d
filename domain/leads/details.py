"""A lead is one person, by normalised address: created from their first booking and never
changed by a later one (anyone can type an address); the owner sees where a booking's
details differ from the lead's and may adopt them.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Booking, Lead


def normalise_email(email: str) -> str:
    return email.strip().lower()


def lead_by_email(session: Session, email: str) -> Lead | None:
    return session.scalar(select(Lead).where(Lead.email_normalised == normalise_email(email)))


def lead_for_booking(session, request, score: int, engagement: str, now: datetime) -> Lead:
    """The lead of this address, created from this booking's details if there is none.

    An existing lead is never changed here: whoever typed the address may not be them.
    The owner sees where a booking's details differ and may adopt them.
    """
    lead = lead_by_email(session, request.email)
    if lead is not None:
        return lead
    return new_lead_for_booking(session, request, score, engagement, now)


def new_lead_for_booking(session, request, score: int, engagement: str, now) -> Lead:
    """A new lead from this booking's details, added to the session; for a caller that has
    just found no lead of this address (under the booking's lock), so need not look again."""
    lead = Lead(**new_lead_values(request, score, engagement, now))
    session.add(lead)
    return lead


def new_lead_values(request, score: int, engagement: str, now) -> dict:
    """The columns of a new lead made from a booking request's details."""
    attribution = request.attribution
    return {
        "email_normalised": normalise_email(request.email),
        "email": request.email.strip(),
        "name": request.name,
        "company": request.company,
        "role": request.role,
        "company_size": request.company_size,
        "fit_score": score,
        "suggested_engagement": engagement,
        "source_article": request.source_article,
        "first_touch": attribution.get("first_touch", {}),
        "last_touch": attribution.get("last_touch", {}),
        "articles_read": list(attribution.get("articles_read", [])),
        "consent_version": request.consent_version,
        "consent_given_at": now,
        "created_at": now,
        "updated_at": now,
    }


DETAIL_FIELDS = ("name", "email", "company", "role", "company_size")
DETAIL_LABELS = {
    "name": "Name",
    "email": "Email",
    "company": "Company",
    "role": "Role",
    "company_size": "Company size",
}


def differing_details(lead: Lead, booking: Booking) -> list[tuple[str, str, str]]:
    """(field, the booking's value, the lead's value) wherever the two disagree."""
    differences = []
    for name in DETAIL_FIELDS:
        given, kept = getattr(booking, name), getattr(lead, name)
        same = given.strip().lower() == kept.strip().lower() if name == "email" else given == kept
        if not same:
            differences.append((name, given, kept))
    return differences


def adopt_booking_details(session: Session, lead: Lead, booking: Booking, now) -> None:
    """The owner's choice: the lead takes the details given with one of its bookings."""
    if booking.lead_id != lead.id:
        raise LookupError(booking.id)
    for name in DETAIL_FIELDS:
        setattr(lead, name, getattr(booking, name))
    lead.fit_score, lead.suggested_engagement = booking.fit_score, booking.suggested_engagement
    lead.updated_at = now
