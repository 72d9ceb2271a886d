"""The reads and rows of a new booking's transaction (`write_booking`), as Core statements
built once.

A booking POST runs these on every submission, inside the lock every other booking waits
for. Built at import, each statement's cache key is worked out once (SQLAlchemy memoises
it on the object) instead of per execution, and run on the transaction's connection they
skip the ORM's statement and flush machinery: nothing reads these rows back as objects in
the request (the confirmation needs only the booking's id and its link). The values are
those the ORM wrote: the columns' own defaults (Core applies them too) and the same
lead, booking, link, timeline entry and status change.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Connection, bindparam, func, insert, literal, select, update

from domain.booking.links import new_link_token
from domain.booking.slots import AvailabilityRules
from domain.leads.details import new_lead_values
from domain.mail.outbox import OWED
from models import AvailabilitySettings, Booking, BookingLink, Lead, LeadEvent, OutboxMessage

# A booking moves these on to "call_booked". Leads further along (qualified, proposal, won)
# stay where the owner put them; so do lost and spam, which only the owner reopens.
MOVED_BY_A_BOOKING = ("new", "contacted")
# The marker a booking leaves in the outbox until its emails are composed (status OWED).
EMAILS_OWED_KIND = "booking_emails_owed"

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
_CTE_TABLES = (
    Lead.__table__, Booking.__table__, BookingLink.__table__, LeadEvent.__table__,
    OutboxMessage.__table__,
)  # fmt: skip


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


def first_link(now: datetime) -> tuple[str, dict]:
    """A booking's first private link (domain/booking/links.py): its token, and its row
    but the booking's id."""
    token, hashed = new_link_token()
    return token, {"token_hash": hashed, "created_at": now, "revoked_at": None}


def insert_link(connection: Connection, booking_id: int, link: dict) -> None:
    connection.execute(_INSERT_LINK, {**link, "booking_id": booking_id})


def insert_status_change(connection: Connection, lead_id: int, event: dict) -> None:
    connection.execute(_INSERT_EVENT, {**event, "lead_id": lead_id})


def insert_lead_and_booking(connection: Connection, rows: dict[str, dict]) -> int:
    """PostgreSQL: a new lead, its booking, the booking's link, the status change and the
    owed marker in one statement (data-modifying CTEs, each row taking its ids from the
    ones before), one round trip where there were five. `rows` holds each row's values
    but the ids, by table. Returns the booking's id."""
    statement = _lead_and_booking(tuple((table, tuple(values)) for table, values in rows.items()))
    params = {
        f"{_PREFIXES[table]}{key}": value
        for table, values in rows.items()
        for key, value in values.items()
    }
    return connection.execute(statement, params).scalar_one()


# Short parameter names: under 4 kB of SQL, psycopg keeps the statement's conversion
# to its own placeholders (an LRU cache by text) instead of parsing it every time.
_PREFIXES = {"lead": "l_", "booking": "b_", "booking_link": "k_", "lead_event": "e_",
             "outbox_message": "m_"}  # fmt: skip


@cache
def _lead_and_booking(columns: tuple[tuple[str, tuple[str, ...]], ...]):
    """The statement of insert_lead_and_booking for rows of these columns: made once per
    process (the columns are always the same), so its cache key is worked out once."""
    tables = {table.name: table for table in _CTE_TABLES}
    keys = dict(columns)

    def values(table: str) -> list:
        prefix, columns = _PREFIXES[table], tables[table].c
        return [bindparam(f"{prefix}{key}", type_=columns[key].type) for key in keys[table]]

    def insert_after(table: str, ids: list, id_columns: list[str]):
        return insert(tables[table]).from_select(
            [*id_columns, *keys[table]], select(*ids, *values(table))
        )

    lead = insert(tables["lead"]).values(dict(zip(keys["lead"], values("lead"), strict=True)))
    lead = lead.returning(tables["lead"].c.id).cte("new_lead")
    booking = insert_after("booking", [lead.c.id], ["lead_id"])
    booking = booking.returning(Booking.__table__.c.id, Booking.__table__.c.lead_id).cte(
        "new_booking"
    )
    link = insert_after("booking_link", [booking.c.id], ["booking_id"]).cte("new_link")
    event = insert_after("lead_event", [booking.c.lead_id], ["lead_id"]).cte("new_event")
    marker = insert_after(
        "outbox_message", [booking.c.lead_id, booking.c.id], ["lead_id", "booking_id"]
    ).cte("owed_marker")
    return select(booking.c.id).add_cte(link, event, marker)


def write_booking(connection, request, known: KnownLead, rules, fit, now) -> tuple[int, str]:
    """The lead (new, or moved on), the booking, its first link, the status change on the
    lead's timeline and the marker that its emails are owed; returns (booking id, token)."""
    booking = new_booking_values(request, rules, fit.score, fit.engagement, now)
    token, link = first_link(now)
    status = known.status or "new"  # a lead not yet written is "new" until then
    moved = status in MOVED_BY_A_BOOKING
    event = {"at": now, "kind": "status", "body": "They booked a call.",
             "from_status": status, "to_status": "call_booked"}  # fmt: skip
    if known.lead_id is None:
        lead = new_lead_values(request, fit.score, fit.engagement, now)
        lead.update(status="call_booked", next_call_at=booking["starts_at"])
        if connection.dialect.name == "postgresql":
            rows = {"lead": lead, "booking": booking, "booking_link": link,
                    "lead_event": event, "outbox_message": owed_marker(now)}  # fmt: skip
            return insert_lead_and_booking(connection, rows), token
        lead_id = insert_lead(connection, lead)
    else:
        lead_id = known.lead_id
        update_lead(connection, lead_id, lead_changes(known, booking["starts_at"], moved, now))
    booking_id = insert_booking(connection, {**booking, "lead_id": lead_id})
    insert_link(connection, booking_id, link)
    if moved:
        insert_status_change(connection, lead_id, event)
    owe_emails(connection, lead_id, booking_id, now)
    return booking_id, token


def lead_changes(known: KnownLead, start: datetime, moved: bool, now) -> dict:
    """What a booking changes on an existing lead: "call booked" (with the time) when it
    was new or contacted, and its next call. Leads further along stay where the owner
    put them; so do lost and spam, which only the owner reopens."""
    changes = {"status": "call_booked", "updated_at": now} if moved else {}
    stored = known.next_call_at
    if stored is not None and stored >= now:
        next_call = min(stored, start)  # the stored next call is still ahead
    else:
        ahead = [t for t in (known.next_active_start, start) if t is not None and t >= now]
        next_call = min(ahead, default=None)
    if next_call != stored:
        changes["next_call_at"] = next_call
    return changes


def new_booking_values(request, rules: AvailabilityRules, score, engagement, now) -> dict:
    """The columns of the booking a request makes, but its lead's id."""
    ends_at = request.start + timedelta(minutes=rules.call_minutes)
    return {
        "name": request.name,
        "email": request.email.strip(),
        "company": request.company,
        "role": request.role,
        "company_size": request.company_size,
        "consent_version": request.consent_version,
        "client_key": request.client_key,
        "starts_at": request.start,
        "ends_at": ends_at,
        "blocked_until": ends_at + timedelta(minutes=rules.buffer_minutes),
        "status": "active",
        "visitor_timezone": request.visitor_timezone,
        "owner_timezone": rules.timezone,
        "situation": [signal.label for signal in request.signals],
        "message": request.message,
        "phone": request.phone,
        "source_article": request.source_article,
        "attribution": request.attribution,
        "fit_score": score,
        "suggested_engagement": engagement,
        "submission_key": request.submission_key,
        "sequence": 0,
        "created_at": now,
        "cancelled_at": None,
        "cancel_reason": None,
    }


_OWED_MARKER = insert(OutboxMessage.__table__)


def owe_emails(connection, lead_id: int, booking_id: int, now: datetime) -> None:
    """The marker that this booking's emails are still to be composed; the caller commits.
    A plain insert on the transaction's connection: nothing reads it back as an object."""
    connection.execute(
        _OWED_MARKER, {**owed_marker(now), "lead_id": lead_id, "booking_id": booking_id}
    )


def owed_marker(now: datetime) -> dict:
    """The owed marker's row but its lead's and booking's ids."""
    return dict(
        kind=EMAILS_OWED_KIND, channel="plan", status=OWED, to_address="", reply_to=None,
        subject="Emails of a new booking", body_text="", attachments=[],
        link_booking_ids=[], send_after=now, attempts=0, created_at=now,
    )  # fmt: skip
