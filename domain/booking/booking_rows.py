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
from functools import cache

from sqlalchemy import Connection, bindparam, func, insert, literal, select, update

from domain.booking.links import new_link_token
from models import AvailabilitySettings, Booking, BookingLink, Lead, LeadEvent, OutboxMessage

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
