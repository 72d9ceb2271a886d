"""What the owner's dashboard shows: today's and the next calls, the new leads, and the
emails that could not be sent.

Plain queries taking a session and plain values, tested without HTTP.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from models import Booking, Lead, OutboxMessage

NEXT_CALLS = 10
NEW_LEADS_SHOWN = 20
NEW_LEADS_DEFAULT_DAYS = 7
FAILED_MAIL_SHOWN = 20
MAIL_KINDS = {
    "visitor_confirmation": "Booking confirmation to the visitor",
    "visitor_reminder": "Reminder to the visitor",
    "visitor_reschedule": "New time, to the visitor",
    "visitor_cancellation": "Cancellation, to the visitor",
    "owner_notification": "New booking, to you",
    "owner_reschedule": "New time, to you",
    "owner_brief": "Brief before a call, to you",
    "owner_cancellation": "Cancellation, to you",
    "caldav_event": "Call written into your CalDAV calendar",
}


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


@dataclass(frozen=True)
class FailedMail:
    """An email the server refused for good, or that could not be built."""

    id: int
    kind: str
    tried_at: datetime | None
    error: str
    lead_id: int | None
    lead_name: str | None

    @property
    def label(self) -> str:
        return MAIL_KINDS.get(self.kind, self.kind.replace("_", " ").capitalize())


@dataclass(frozen=True)
class FailedMailList:
    count: int
    newest: list[FailedMail]


def failed_mail(session: Session, limit: int = FAILED_MAIL_SHOWN) -> FailedMailList:
    """How many emails failed for good, and the most recently tried of them."""
    failed = OutboxMessage.status == "failed"
    count = session.scalar(select(func.count()).select_from(OutboxMessage).where(failed))
    if not count:
        return FailedMailList(0, [])
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.claimed_at,
            OutboxMessage.last_error,
            OutboxMessage.lead_id,
            Lead.name,
        )  # fmt: skip
        .outerjoin(Lead, Lead.id == OutboxMessage.lead_id)
        .where(failed)
        .order_by(OutboxMessage.claimed_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return FailedMailList(count, [FailedMail(*row[:3], row[3] or "", *row[4:]) for row in rows])
