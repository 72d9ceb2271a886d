"""What each booking event emails, and the call's calendar links.

The emails themselves are written into the outbox by the booking transaction (see
domain/booking/calls.py); here they are composed from the lead and the booking. After the
commit, `extensions.outbox_delivery` tries to send them at once, and whatever it cannot
send, the `flask outbox worker` sends later.
"""

from datetime import datetime, timedelta

from flask import current_app, url_for

from domain.booking.calls import REMINDER_KIND, PlannedCalendarWrite, PlannedEmail
from domain.booking.links import link_placeholder
from domain.booking.location import CallLocation, describe_location, load_location
from domain.booking.tokens import utc_now
from domain.calendar.files import (
    booking_ics,
    booking_uid,
    google_calendar_url,
    outlook_calendar_url,
)
from domain.leads.brief import call_brief
from domain.leads.details import differing_details
from domain.mail import emails
from domain.mail.brief_email import BRIEF_KIND, owner_brief
from domain.mail.emails import CallDetails
from domain.mail.outbox import FRESH_DRAFTS
from extensions import db
from models import Booking, Lead

CALL_TITLE = "AI strategy call with {owner}"


def manage_url(token: str) -> str:
    return current_app.config["SITE_URL"] + url_for("booking.manage", token=token)


def details_of(lead: Lead, booking: Booking) -> CallDetails:
    """What the emails about this booking say: the details given with it, and a
    placeholder where its private link goes (filled in when the email is sent)."""
    config = current_app.config
    library = current_app.extensions["library"]
    article = library.article(booking.source_article) if booking.source_article else None
    return CallDetails(
        visitor_name=booking.name,
        visitor_email=booking.email,
        company=booking.company,
        role=booking.role,
        company_size=booking.company_size,
        situation=tuple(booking.situation),
        message=booking.message,
        fit_score=booking.fit_score,
        suggested_engagement=booking.suggested_engagement,
        start=booking.starts_at,
        end=booking.ends_at,
        visitor_timezone=booking.visitor_timezone,
        owner_timezone=booking.owner_timezone,
        manage_url=link_placeholder(booking.id),
        booking_id=booking.id,
        owner_name=config["OWNER_NAME"],
        owner_email=config["OWNER_EMAIL"],
        site_name=config["SITE_NAME"],
        source_article_title=article.title if article else booking.source_article,
        attribution=booking.attribution or {},
        lead_differences=tuple(differing_details(lead, booking)),
        location=load_location(db.session),
        visitor_phone=booking.phone,
        lead_url=lead_url(booking.lead.id),
        cancel_reason=booking.cancel_reason or "",
        book_url=book_url(),
    )


def site_url_for(endpoint: str, **values) -> str:
    # Built from the URL map, not url_for: the outbox sender has no request (FRESH_DRAFTS).
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["SITE_URL"] + path


def lead_url(lead_id: int) -> str:
    return site_url_for("owner.lead", lead_id=lead_id)


def book_url() -> str:
    return site_url_for("booking.book")


def calendar_uid(booking: Booking) -> str:
    return booking_uid(booking.id, current_app.config["SITE_URL"])


def location_fields(
    location: CallLocation | None, phone: str | None, owner: str = "", *, for_owner: bool = False
) -> dict:
    """The .ics LOCATION, and the text the description gives for where the call is."""
    return {
        "location": location.calendar_text(phone) if location else None,
        "where": describe_location(location, phone, owner, for_owner=for_owner),
    }


def ics_text(booking: Booking, link: str, method: str = "REQUEST") -> str:
    """The visitor's invite; `link` is its manage URL (or the placeholder of one). A
    cancelled call can no longer be managed, so its CANCEL offers a new booking instead."""
    owner = current_app.config["OWNER_NAME"]
    location = load_location(db.session)
    where = location_fields(location, booking.phone, owner)
    if method == "CANCEL":
        link = book_url()
        next_step = f"Cancelled. To find another time, book a new call: {link}"
    else:
        next_step = f"Manage or reschedule: {link}"
    return _invite(
        booking, location, where["location"], link, method,
        summary=CALL_TITLE.format(owner=owner),
        description=f"Strategy call with {owner}.\nWhere: {where['where']}\n{next_step}",
    )  # fmt: skip


def owner_ics_text(booking: Booking, method: str = "REQUEST") -> str:
    """The owner's invite: the same call (same UID and SEQUENCE) as the visitor's, with the
    lead's page instead of the visitor's private link, which the owner must not hold."""
    location = load_location(db.session)
    where = location_fields(location, booking.phone, for_owner=True)
    page = lead_url(booking.lead.id)
    return _invite(
        booking, location, where["location"], page, method,
        summary=f"Strategy call: {booking.name} ({booking.company})",
        description=f"Fit {booking.fit_score}/100.\nWhere: {where['where']}\nLead: {page}",
    )  # fmt: skip


def _invite(booking, location, location_text, page, method, *, summary, description) -> str:
    """One call's invite; the two sides differ only in what they say and link to."""
    config = current_app.config
    return booking_ics(
        uid=calendar_uid(booking),
        start=booking.starts_at,
        end=booking.ends_at,
        summary=summary,
        description=description,
        location_url=location.url if location and location.kind == "video" else page,
        location=location_text,
        organizer_name=config["OWNER_NAME"],
        organizer_email=config["OWNER_EMAIL"],
        attendee_name=booking.name,
        attendee_email=booking.email,
        sequence=booking.sequence,
        method=method,
        now=utc_now(),
    )


def ics_for(booking: Booking, token: str) -> str:
    method = "CANCEL" if booking.status == "cancelled" else "REQUEST"
    return ics_text(booking, manage_url(token), method)


def call_links(booking: Booking, token: str) -> dict[str, str]:
    owner = current_app.config["OWNER_NAME"]
    details = f"Strategy call with {owner}. Manage your booking: {manage_url(token)}"
    title = CALL_TITLE.format(owner=owner)
    timing = {
        "title": title,
        "start": booking.starts_at,
        "end": booking.ends_at,
        "details": details,
    }
    return {
        "ics": url_for("booking.calendar_file", token=token),
        "google": google_calendar_url(**timing),
        "outlook": outlook_calendar_url(**timing),
    }


REMINDER_BEFORE = timedelta(hours=24)
# A reminder due this soon after the confirmation would only repeat it, so none is sent.
REMINDER_MIN_GAP = timedelta(hours=2)


def reminders_for(details: CallDetails, booking: Booking, now: datetime) -> list[PlannedEmail]:
    send_at = booking.starts_at - REMINDER_BEFORE
    if send_at < now + REMINDER_MIN_GAP:
        return []
    return [PlannedEmail(emails.visitor_reminder(details), REMINDER_KIND, send_at)]


def brief_for(lead: Lead, booking: Booking, now: datetime) -> list[PlannedEmail]:
    """The owner's brief, due BRIEF_HOURS_BEFORE the call (at once if that has passed)."""
    due = booking.starts_at - timedelta(hours=current_app.config["BRIEF_HOURS_BEFORE"])
    return [PlannedEmail(brief_draft(lead, booking), BRIEF_KIND, max(due, now))]


def fresh_brief(session, booking_id: int):
    """The brief as it reads at sending time: notes and calls added since booking count."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.status != "active":
        return None
    return brief_draft(booking.lead, booking)


FRESH_DRAFTS[BRIEF_KIND] = fresh_brief


def brief_draft(lead: Lead, booking: Booking):
    config = current_app.config
    library = current_app.extensions["library"]

    def title_of(slug: str) -> str:
        article = library.article(slug)
        return article.title if article else slug

    location = load_location(db.session)
    return owner_brief(
        call_brief(lead, booking, title_of),
        to=config["OWNER_EMAIL"],
        zone=booking.owner_timezone,
        where=describe_location(location, booking.phone, for_owner=True),
        lead_url=lead_url(lead.id),
    )


def plan_emails(lead: Lead, booking: Booking, event: str, previous: datetime | None):
    return [*plan_booking_emails(lead, booking, event, previous), *plan_calendar_writes()]


def plan_calendar_writes() -> list[PlannedCalendarWrite]:
    """With CalDAV on, every booking event also writes the call into the owner's calendar."""
    config = current_app.config
    if not config.get("CALDAV_URL"):
        return []
    return [PlannedCalendarWrite(config.get("CALDAV_CALENDAR", ""))]


def plan_booking_emails(lead: Lead, booking: Booking, event: str, previous: datetime | None):
    details = details_of(lead, booking)
    link = link_placeholder(booking.id)
    now = utc_now()
    if event == "booked":
        return [
            PlannedEmail(
                emails.visitor_confirmation(details, ics_text(booking, link)),
                "visitor_confirmation",
            ),
            PlannedEmail(
                emails.owner_notification(details, owner_ics_text(booking)), "owner_notification"
            ),
            *reminders_for(details, booking, now),
            *brief_for(lead, booking, now),
        ]
    if event == "rescheduled":
        return [
            PlannedEmail(
                emails.visitor_reschedule(details, previous, ics_text(booking, link)),
                "visitor_reschedule",
            ),
            PlannedEmail(
                emails.owner_reschedule(details, previous, owner_ics_text(booking)),
                "owner_reschedule",
            ),
            *reminders_for(details, booking, now),
            *brief_for(lead, booking, now),
        ]
    if event == "cancelled":
        return [
            PlannedEmail(
                emails.visitor_cancellation(details, ics_text(booking, link, "CANCEL")),
                "visitor_cancellation",
            ),
            PlannedEmail(
                emails.owner_cancellation(details, owner_ics_text(booking, "CANCEL")),
                "owner_cancellation",
            ),
        ]
    raise ValueError(f"unknown booking event {event!r}")
