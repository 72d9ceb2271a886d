"""The brief before a call: who is calling, why they fit, what they asked, what they read,
where they came from, and what happened before. One `CallBrief`, shown two ways: as the
email that reaches the owner before the call (`brief_text`) and at the head of the lead's
page (templates/owner/_brief.html).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.leads.scoring import COMPANY_SIZES, FREE_MAIL_DOMAINS, SIZE_POINTS, role_points
from domain.leads.statuses import BOOKING_STATUS_LABELS, ENGAGEMENT_LABELS
from models import Booking, Lead

TOUCH_FIELDS = (
    ("utm_source", "source"),
    ("utm_medium", "medium"),
    ("utm_campaign", "campaign"),
    ("utm_term", "term"),
    ("utm_content", "content"),
    ("referrer", "referrer"),
    ("landing", "landed on"),
)
NOTES_SHOWN = 5  # the latest; the lead's page has them all


@dataclass(frozen=True)
class PastCall:
    start: datetime
    status: str  # the words the owner reads: "Completed", "Cancelled", …


@dataclass(frozen=True)
class Note:
    at: datetime
    body: str


@dataclass(frozen=True)
class CallBrief:
    booking_id: int
    start: datetime
    end: datetime
    name: str
    email: str
    phone: str | None
    company: str
    role: str
    size: str  # its label: "51–200 people"
    fit_score: int
    engagement: str  # its label: "AI Systems Architect"
    fit_reasons: tuple[str, ...]
    situation: tuple[str, ...]
    message: str
    articles_read: tuple[str, ...]  # titles
    first_touch: str
    last_touch: str
    earlier_calls: tuple[PastCall, ...]
    notes: tuple[Note, ...]


def fit_reasons(booking: Booking) -> list[str]:
    """What made the booking's fit score and suggestion, in the scoring's own terms.

    The signals' share is what the score holds beyond the rest: the booking keeps the
    labels chosen, not which engagement each pointed to."""
    size = SIZE_POINTS.get(booking.company_size, 0)
    role = role_points(booking.role)
    length = len(booking.message.strip())
    message = 10 if length >= 80 else 5 if length >= 20 else 0
    free_mail = booking.email.rsplit("@", 1)[-1].lower() in FREE_MAIL_DOMAINS
    reasons = [
        f"Company size {size_label(booking.company_size)}: +{size}",
        f"Role “{booking.role}”: +{role}"
        + (" (senior)" if role == 25 else " (leads a team)" if role == 15 else ""),
        f"Message of {length} characters: +{message}",
    ]
    if free_mail:
        reasons.append("Personal email address (not a company domain): −10")
    signals = booking.fit_score - size - role - message + (10 if free_mail else 0)
    chosen = len(booking.situation)
    reasons.append(f"{chosen} {'situation' if chosen == 1 else 'situations'} chosen: +{signals}")
    engagement = ENGAGEMENT_LABELS.get(booking.suggested_engagement, "")
    if booking.suggested_engagement == "engineer":
        reasons.append(f"Suggested {engagement}: most of what they chose is engineering work")
    else:
        reasons.append(f"Suggested {engagement}: nothing they chose outweighs architecture")
    return reasons


def size_label(code: str) -> str:
    return dict(COMPANY_SIZES).get(code, code)


def describe_touch(touch: dict | None) -> str:
    if not touch:
        return "not recorded"
    parts = [f"{label} {touch[key]}" for key, label in TOUCH_FIELDS if touch.get(key)]
    return ", ".join(parts) or "direct (no campaign tags, no referrer)"


def call_brief(lead: Lead, booking: Booking, title_of: Callable[[str], str]) -> CallBrief:
    """The brief for `booking`; `title_of` turns an article's slug into its title."""
    earlier = [
        PastCall(other.starts_at, BOOKING_STATUS_LABELS.get(other.status, other.status))
        for other in lead.bookings
        if other.id != booking.id and other.starts_at < booking.starts_at
    ]
    notes = [Note(event.at, event.body) for event in lead.events if event.kind == "note"]
    return CallBrief(
        booking_id=booking.id,
        start=booking.starts_at,
        end=booking.ends_at,
        name=booking.name,
        email=booking.email,
        phone=booking.phone,
        company=booking.company,
        role=booking.role,
        size=size_label(booking.company_size),
        fit_score=booking.fit_score,
        engagement=ENGAGEMENT_LABELS.get(
            booking.suggested_engagement, booking.suggested_engagement
        ),
        fit_reasons=tuple(fit_reasons(booking)),
        situation=tuple(booking.situation),
        message=booking.message.strip(),
        articles_read=tuple(title_of(slug) for slug in lead.articles_read or []),
        first_touch=describe_touch(lead.first_touch),
        last_touch=describe_touch(lead.last_touch),
        earlier_calls=tuple(sorted(earlier, key=lambda call: call.start, reverse=True)),
        notes=tuple(notes[-NOTES_SHOWN:][::-1]),
    )


def brief_for_page(lead: Lead, now: datetime, title_of) -> CallBrief | None:
    """The lead page's brief: its next active call, else its latest call; None without any."""
    upcoming = [b for b in lead.bookings if b.status == "active" and b.ends_at > now]
    chosen = min(upcoming, key=lambda b: b.starts_at) if upcoming else None
    chosen = chosen or (max(lead.bookings, key=lambda b: b.starts_at) if lead.bookings else None)
    return call_brief(lead, chosen, title_of) if chosen else None
