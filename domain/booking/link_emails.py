"""Sending visitors the private links of their upcoming calls: on their own request (the
"Send me my booking links" form) or when the owner revokes the old links and sends new.

The email goes to the lead's own address, from the durable outbox; its links are made
when it is sent (domain/booking/links.py).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.booking.links import link_placeholder, revoke_links
from domain.booking.location import CallLocation, describe_location, load_location
from domain.mail.emails import EmailDraft, format_call_time
from domain.mail.outbox import enqueue
from domain.platform.database import serialised_write
from models import Booking, Lead

LINKS_KIND = "visitor_links"


@dataclass(frozen=True)
class LinkedCall:
    """One of the visitor's calls, for the email that sends their private links."""

    booking_id: int
    start: datetime
    end: datetime
    timezone: str
    link: str  # the link's placeholder, filled in when the email is sent
    where: str = ""  # where the call happens, as the visitor reads it


def visitor_links(
    *,
    to: str,
    name: str,
    calls: Iterable[LinkedCall],
    owner_name: str,
    site_name: str,
    old_links_revoked: bool = False,
) -> EmailDraft:
    """The private link of each upcoming call, sent to the address that booked them."""
    calls = list(calls)
    listed = [
        f"    {format_call_time(call.start, call.end, call.timezone)}\n"
        + (f"    Where: {call.where}\n" if call.where else "")
        + f"    {call.link}"
        for call in calls
    ]
    body = "\n\n".join(
        [
            f"Hello {name},",
            "Here are the private links to your upcoming strategy calls. Each one lets you "
            "see, reschedule or cancel that call; please keep them to yourself.",
            *listed,
            *(["The links we sent you before no longer work."] if old_links_revoked else []),
            f"Best regards,\n{owner_name}\n{site_name}\n",
        ]
    )
    return EmailDraft(
        to=to,
        subject="Your strategy call links",
        body_text=body,
        link_booking_ids=tuple(call.booking_id for call in calls),
    )


def upcoming_bookings(session: Session, lead_id: int, now: datetime) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.lead_id == lead_id, Booking.status == "active", Booking.ends_at > now)
            .order_by(Booking.starts_at)
        )
    )


def links_email(
    lead: Lead,
    calls: Sequence[Booking],
    *,
    owner_name: str,
    site_name: str,
    revoked: bool,
    location: CallLocation | None = None,
) -> EmailDraft:
    return visitor_links(
        to=lead.email,
        name=lead.name,
        calls=[
            LinkedCall(
                booking_id=call.id,
                start=call.starts_at,
                end=call.ends_at,
                timezone=call.visitor_timezone,
                link=link_placeholder(call.id),
                where=describe_location(location, call.phone, owner_name),
            )
            for call in calls
        ],
        owner_name=owner_name,
        site_name=site_name,
        old_links_revoked=revoked,
    )


@dataclass(frozen=True)
class Signature:
    """Who signs the site's emails."""

    owner_name: str
    site_name: str

    @classmethod
    def from_config(cls, config) -> "Signature":
        return cls(owner_name=config["OWNER_NAME"], site_name=config["SITE_NAME"])


def queue_links_email(
    session: Session, lead: Lead, *, now: datetime, signature: Signature, revoke_old: bool
) -> list[int]:
    """Queue the email of the lead's upcoming calls' links (none when there are none);
    first end every old link when `revoke_old`. Returns the queued message ids."""
    with serialised_write(session):
        if revoke_old:
            all_ids = session.scalars(select(Booking.id).where(Booking.lead_id == lead.id))
            revoke_links(session, list(all_ids), now)
        calls = upcoming_bookings(session, lead.id, now)
        if not calls:
            return []
        draft = links_email(
            lead,
            calls,
            owner_name=signature.owner_name,
            site_name=signature.site_name,
            revoked=revoke_old,
            location=load_location(session),
        )
        message = enqueue(session, draft, kind=LINKS_KIND, lead_id=lead.id, now=now)
        session.flush()
        message_id = message.id
    return [message_id]
