"""The owner's private calendar subscription: a secret URL serving their upcoming calls.

Calendar apps cannot log in, so the secret in the URL is the key: 256 random bits,
compared in constant time, and replaced (the old URL then answers 404) when the owner
regenerates it. Each call keeps the UID of its invites, so a calendar that holds both
the invite and the feed shows one event.
"""

import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.calendar.files import PRODUCT_ID, as_utc
from domain.leads.statuses import ENGAGEMENT_LABELS
from models import Booking, Owner

FEED_NAME = "Strategy calls"
PAST_DAYS_KEPT = 7  # recent calls stay in the calendar for a week after they happen
SECRET_LENGTH = 43  # secrets.token_urlsafe(32)


def new_secret(session: Session, owner: Owner) -> str:
    """Give the owner a fresh secret (the old URL stops working); the caller commits."""
    owner.calendar_secret = secrets.token_urlsafe(32)
    return owner.calendar_secret


def owner_for_secret(session: Session, secret: str) -> Owner | None:
    """The owner whose feed this secret opens, compared in constant time; None otherwise."""
    if len(secret) != SECRET_LENGTH or not secret.isascii():
        return None
    found = None
    for owner in session.scalars(select(Owner).where(Owner.calendar_secret.is_not(None))):
        if hmac.compare_digest(owner.calendar_secret.encode(), secret.encode()):
            found = owner
    return found


def calls_for_feed(session: Session, now: datetime) -> list[Booking]:
    query = (
        select(Booking)
        .where(Booking.status == "active", Booking.ends_at > now - timedelta(days=PAST_DAYS_KEPT))
        .order_by(Booking.starts_at)
    )
    return list(session.scalars(query))


def subscription_feed(
    calls: list[Booking],
    *,
    uid_of: Callable[[Booking], str],
    lead_url_of: Callable[[Booking], str],
    location_of: Callable[[Booking], str | None],
    now: datetime,
) -> str:
    """The feed as iCalendar text: one event per call, with the lead, fit and lead page."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", FEED_NAME)
    # How often to fetch again: the standard property, and the one Outlook and Apple read.
    calendar.add("refresh-interval", timedelta(minutes=30), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT30M")
    stamp = as_utc(now).replace(microsecond=0)
    for call in calls:
        calendar.add_component(_event(call, uid_of, lead_url_of, location_of, stamp))
    return calendar.to_ical().decode("utf-8")


def _event(call: Booking, uid_of, lead_url_of, location_of, stamp: datetime) -> Event:
    engagement = ENGAGEMENT_LABELS.get(call.suggested_engagement, call.suggested_engagement)
    page = lead_url_of(call)
    event = Event()
    event.add("uid", uid_of(call))
    event.add("dtstamp", stamp)
    event.add("dtstart", as_utc(call.starts_at))
    event.add("dtend", as_utc(call.ends_at))
    event.add("summary", f"Strategy call: {call.name} ({call.company}), fit {call.fit_score}")
    event.add(
        "description",
        f"{call.name}, {call.role} at {call.company}\n"
        f"Fit {call.fit_score}/100, suggested {engagement}\nLead: {page}",
    )
    event.add("url", page)
    location = location_of(call)
    if location:
        event.add("location", location)
    event.add("sequence", call.sequence)
    event.add("status", "CONFIRMED")
    return event
