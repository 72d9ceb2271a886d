"""Realistic data behind every owner page, shared by the HTML validator and browser tests.

A lead booked through the real pages (from a campaign link), a call of theirs earlier today,
a status change and a note; a second lead whose name, company, email and message are as long
as the forms allow in one unbroken word, to catch pages that scroll sideways on a phone;
sixty synthetic leads (two pages), a month of article traffic including a retired article,
and an email that failed for good, so the dashboard shows every section.
"""

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from blueprints.owner.fake_leads import insert_fake_leads
from domain.booking.location import save_location
from domain.content.counters import upsert_counts
from domain.leads.actions import add_note, change_status
from extensions import db
from models import Booking, CalendarFeed, Lead, OutboxMessage, Owner
from tests.conftest import Visitor

SEED_SLUG = "ai-systems-architect-vs-ai-engineer"
RETIRED_SLUG = "prompt-engineering-for-executives"
LONDON = ZoneInfo("Europe/London")
NOTE = "Spoke on LinkedIn first.\nWants a roadmap before the board meets in March."
LONG_WORD = "Konstantinopoulou" * 5  # 85 characters, no place to break
LONG_LEAD = {
    "name": f"Maximiliane {LONG_WORD}"[:100],
    "email": "maximiliane.konstantinopoulou-featherstonehaugh@recherches-"
    "internationales-en-intelligence-artificielle.example.com",
    "company": "Générale d’Études et de Recherches Internationales en Intelligence Artificielle",
    "role": "Directrice Générale Adjointe, Transformation Numérique",
    "message": f"Une phrase sans espace: {LONG_WORD * 2}",
}


def a_month_of_traffic(today: date) -> Counter:
    """Thirty days of counts for the seed article and for one no longer in the library."""
    rng = random.Random(30)
    counts: Counter = Counter()
    for days_ago in range(1, 30):
        day = today - timedelta(days=days_ago)
        for slug, scale in ((SEED_SLUG, 40), (RETIRED_SLUG, 12)):
            views = rng.randrange(scale // 2, scale)
            clicks = rng.randrange(views // 8 + 1)
            counts.update(
                {
                    (slug, day, "views"): views,
                    (slug, day, "cta_clicks"): clicks,
                    (slug, day, "bookings"): rng.randrange(clicks // 3 + 1),
                }
            )
    return counts


def earlier_today(now: datetime) -> datetime:
    """A half-hour start on the owner's (London) today that has passed: half-way since
    midnight, rounded down."""
    midnight = now.astimezone(LONDON).replace(hour=0, minute=0, second=0, microsecond=0)
    moment = (midnight + (now - midnight) / 2).astimezone(UTC)
    return moment - timedelta(
        minutes=moment.minute % 30, seconds=moment.second, microseconds=moment.microsecond
    )


def earlier_call(lead: Lead, booked: Booking, starts_at: datetime, now: datetime) -> Booking:
    return Booking(
        lead_id=lead.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        blocked_until=starts_at + timedelta(minutes=30),
        status="active",
        visitor_timezone="America/New_York",
        owner_timezone="Europe/London",
        situation=booked.situation,
        message="A first, shorter call.",
        fit_score=booked.fit_score,
        suggested_engagement=booked.suggested_engagement,
        submission_key="earlier-today",
        name=booked.name,
        email=booked.email,
        company=booked.company,
        role="Chief Executive Officer",  # they gave another role that time
        company_size=booked.company_size,
        consent_version=booked.consent_version,
        created_at=now - timedelta(days=3),
    )


def failed_email(lead: Lead, now: datetime) -> OutboxMessage:
    return OutboxMessage(
        lead_id=lead.id,
        kind="owner_notification",
        to_address="saed@example.test",
        subject="New strategy call",
        body_text="…",
        status="failed",
        attempts=5,
        last_error=f"550 5.1.1 <{lead.email}>: Recipient address rejected: User unknown",
        claimed_at=now - timedelta(hours=2, microseconds=123456),
    )


def populate_owner_pages(app) -> int:
    """Fill the database as described above; returns the first booked lead's id."""
    client = app.test_client()
    client.get(
        f"/library/{SEED_SLUG}",
        query_string={"utm_source": "linkedin", "utm_medium": "social", "utm_campaign": "q4"},
        headers={"Referer": "https://www.linkedin.com/feed/"},
    )
    assert Visitor(client).book().status_code == 303
    assert Visitor(app.test_client()).book(**LONG_LEAD).status_code == 303
    # Microseconds, as real clocks give: the pages must still write valid `datetime`s.
    now = datetime.now(UTC)
    with app.app_context():
        lead = db.session.scalars(select(Lead).order_by(Lead.id)).first()
        db.session.add(earlier_call(lead, lead.bookings[0], earlier_today(now), now))
        db.session.add(failed_email(lead, now))
        db.session.commit()  # the lead actions below run in transactions of their own
        change_status(db.session, lead, "contacted", now, note="Replied by email.")
        add_note(db.session, lead, NOTE, now)
        slugs = [article.slug for article in current_app.extensions["library"].articles]
        insert_fake_leads(db.session, 60, seed=7, now=now, article_slugs=slugs)
        upsert_counts(db.session.connection(), a_month_of_traffic(now.date()))
        owner = db.session.scalars(select(Owner)).one()
        owner.last_seen_leads_at = now - timedelta(days=20)
        db.session.add_all(calendar_feeds(now))
        save_location(db.session, "video:https://meet.example.com/abc-defg-hij?pwd=" + "x" * 60)
        db.session.commit()
        return lead.id


def calendar_feeds(now: datetime) -> list[CalendarFeed]:
    """One feed read a minute ago, and one failing for two days with a long name and error."""
    return [
        CalendarFeed(
            name="Work",
            url="https://calendar.example.com/private-0123456789abcdef/basic.ics",
            event_count=214,
            last_attempt_at=now - timedelta(minutes=1),
            last_success_at=now - timedelta(minutes=1),
            created_at=now - timedelta(days=30),
        ),
        CalendarFeed(
            name="Board-and-advisory-commitments-" + "x" * 80,
            url="https://outlook.example.com/owa/calendar/" + "y" * 120 + "/calendar.ics",
            event_count=12,
            last_attempt_at=now - timedelta(minutes=3),
            last_success_at=now - timedelta(days=2),
            last_error="The calendar server answered 500 Internal Server Error; kept the last copy",
            created_at=now - timedelta(days=30),
        ),
    ]
