"""What the owner's dashboard shows: today's and the next calls, and the new leads.

Plain queries taking a session and plain values, tested without HTTP.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from models import Booking, Lead

NEXT_CALLS = 10
NEW_LEADS_SHOWN = 20
NEW_LEADS_DEFAULT_DAYS = 7


@dataclass(frozen=True)
class NewLeads:
    since: datetime
    since_last_visit: bool  # False: no visit recorded, so the last 7 days
    count: int
    newest: list[Lead]


def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants of owner-local midnight starting `day` and the next one."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def calls_between(session: Session, start: datetime, end: datetime) -> list[Booking]:
    """Calls starting in [start, end) that are not cancelled, earliest first."""
    query = (
        select(Booking)
        .options(joinedload(Booking.lead))
        .where(Booking.starts_at >= start, Booking.starts_at < end, Booking.status != "cancelled")
        .order_by(Booking.starts_at)
    )
    return list(session.scalars(query))


def upcoming_calls(session: Session, after: datetime, limit: int = NEXT_CALLS) -> list[Booking]:
    query = (
        select(Booking)
        .options(joinedload(Booking.lead))
        .where(Booking.starts_at >= after, Booking.status == "active")
        .order_by(Booking.starts_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def new_leads(
    session: Session, last_seen: datetime | None, now: datetime, limit: int = NEW_LEADS_SHOWN
) -> NewLeads:
    since = last_seen or now - timedelta(days=NEW_LEADS_DEFAULT_DAYS)
    newer = Lead.created_at > since
    count = session.scalar(select(func.count()).select_from(Lead).where(newer))
    newest = session.scalars(
        select(Lead).where(newer).order_by(Lead.created_at.desc(), Lead.id.desc()).limit(limit)
    )
    return NewLeads(since, last_seen is not None, count or 0, list(newest))
