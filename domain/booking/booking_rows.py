"""The reads and rows of a new booking's transaction, as Core statements built once.

A booking POST runs these on every submission, inside the lock every other booking waits
for. Built at import, each statement's cache key is worked out once (SQLAlchemy memoises
it on the object) instead of per execution, and run on the transaction's connection they
skip the ORM's statement and flush machinery: nothing reads these rows back as objects in
the request (the confirmation needs only the booking's id and its link). The values are
those the ORM wrote: the columns' own defaults (Core applies them too) and the same
lead, booking, link, timeline entry and status change.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, literal, select, update

from domain.booking.links import new_link_token
from models import AvailabilitySettings, Booking, BookingLink, Lead, LeadEvent

_NOW = bindparam("now")


def _upcoming(*where):
    return (
        select(func.count(Booking.id))
        .where(*where, Booking.status == "active", Booking.ends_at > _NOW)
        .scalar_subquery()
    )


# One read, after the lead's and client's locks: the address's lead (if any), its
# upcoming calls and earliest active call ahead, the client's upcoming calls, and when the
# owner last saved the settings. The lead is joined to a one-row select so that the rest
# comes back without one.
_ONE_ROW = select(literal(1).label("one")).subquery("one_row")
_LEAD_AND_COUNTS = select(
    Lead.id,
    Lead.status,
    Lead.next_call_at,
    _upcoming(Booking.lead_id == Lead.id).correlate(Lead),
    select(func.min(Booking.starts_at))
    .where(Booking.lead_id == Lead.id, Booking.status == "active", Booking.starts_at >= _NOW)
    .correlate(Lead)
    .scalar_subquery(),
    _upcoming(Booking.client_key == bindparam("client_key")),
    select(AvailabilitySettings.updated_at).where(AvailabilitySettings.id == 1).scalar_subquery(),
).select_from(_ONE_ROW.outerjoin(Lead, Lead.email_normalised == bindparam("email_key")))

_INSERT_LEAD = insert(Lead)
_INSERT_BOOKING = insert(Booking)
_INSERT_LINK = insert(BookingLink)
_INSERT_EVENT = insert(LeadEvent)


@dataclass(frozen=True)
class KnownLead:
    """What the booking needs of the address's lead and of the client, read in one go."""

    lead_id: int | None  # None: no lead has this address yet
    status: str | None
    next_call_at: datetime | None
    upcoming_calls: int  # the lead's active calls not yet ended
    next_active_start: datetime | None  # the lead's earliest active call from now on
    client_upcoming_calls: int
    settings_saved_at: datetime | None  # the settings row's updated_at


def known_lead(connection: Connection, email_key: str, client_key: str | None, now) -> KnownLead:
    row = connection.execute(
        _LEAD_AND_COUNTS, {"email_key": email_key, "client_key": client_key, "now": now}
    ).one()
    return KnownLead(*row)


def insert_lead(connection: Connection, values: dict) -> int:
    return connection.execute(_INSERT_LEAD, values).inserted_primary_key[0]


def update_lead(connection: Connection, lead_id: int, values: dict) -> None:
    """Only the columns that change, as the ORM wrote them: `updated_at` is the column's
    own onupdate unless given, and nothing is written when nothing changes."""
    if values:
        connection.execute(update(Lead).where(Lead.id == lead_id).values(**values))


def insert_booking(connection: Connection, values: dict) -> int:
    return connection.execute(_INSERT_BOOKING, values).inserted_primary_key[0]


def insert_link(connection: Connection, booking_id: int, now: datetime) -> str:
    """The booking's first private link (domain/booking/links.py); returns its token."""
    token, hashed = new_link_token()
    connection.execute(
        _INSERT_LINK,
        {"booking_id": booking_id, "token_hash": hashed, "created_at": now, "revoked_at": None},
    )
    return token


def insert_status_change(connection: Connection, lead_id: int, event: dict) -> None:
    connection.execute(_INSERT_EVENT, {"lead_id": lead_id, **event})
