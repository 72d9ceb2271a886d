"""`/owner/`: today's and the next calls, new leads since the last visit, the funnel.

Times are shown in the owner's zone (the availability setting). The page only reads:
it never moves the owner's "last seen" mark, so a reload shows the same new leads.
The small queries take a session and plain values, so they are tested without HTTP.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from blueprints.owner import bp
from domain.availability import load_values
from domain.charts import funnel_chart, sparkline
from domain.funnel import (
    PERIOD_CHOICES,
    daily_totals,
    format_rate,
    funnel,
    period_from_query,
    period_key,
    totals,
)
from domain.tokens import utc_now
from extensions import db
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


@bp.get("/")
def dashboard():
    now = utc_now()
    zone = load_values(db.session).timezone
    today_start, tomorrow_start = local_day_bounds(now.astimezone(ZoneInfo(zone)).date(), zone)
    return render_template(
        "owner/dashboard.html",
        now=now,
        zone=zone,
        today_calls=calls_between(db.session, today_start, tomorrow_start),
        next_calls=upcoming_calls(db.session, tomorrow_start),
        leads=new_leads(db.session, current_user.owner.last_seen_leads_at, now),
        **funnel_context(now.date()),
    )


def funnel_context(today: date) -> dict:
    """The funnel section; stats days are UTC days, so the period is in UTC days too."""
    start, end, label = period_from_query(request.args, today)
    rows = funnel(db.session, start, end, current_app.extensions["library"])
    return {
        "period": {"key": period_key(request.args, today), "start": start, "end": end},
        "period_label": label,
        "period_choices": PERIOD_CHOICES,
        "rows": rows,
        "total": totals(rows),
        "chart": funnel_chart(rows, period=label),
        "spark": sparkline(daily_totals(db.session, start, end)),
        "percent": format_rate,
    }
