"""What each booking event emails, and a prompt first attempt at sending it.

The emails themselves are written into the outbox by the booking transaction (see
domain/booking.py); here they are composed from the lead and the booking, and after the
commit a background thread tries to send them at once. Whatever it cannot send, the
`flask outbox worker` sends later.
"""

import threading
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import select

from domain import emails
from domain.booking import REMINDER_KIND, PlannedEmail
from domain.calendar_files import booking_ics, google_calendar_url, outlook_calendar_url
from domain.emails import CallDetails
from domain.mailer import mailer_from_config
from domain.outbox import send_due
from domain.tokens import manage_token, utc_now
from extensions import db
from models import Booking, Lead, OutboxMessage

CALL_TITLE = "AI strategy call with {owner}"


def manage_url(lead: Lead) -> str:
    token = manage_token(current_app.secret_key, lead.id, lead.manage_nonce)
    return current_app.config["SITE_URL"] + url_for("booking.manage", token=token)


def details_of(lead: Lead, booking: Booking) -> CallDetails:
    config = current_app.config
    library = current_app.extensions["library"]
    article = library.article(booking.source_article) if booking.source_article else None
    return CallDetails(
        visitor_name=lead.name,
        visitor_email=lead.email,
        company=lead.company,
        role=lead.role,
        company_size=lead.company_size,
        situation=tuple(booking.situation),
        message=booking.message,
        fit_score=booking.fit_score,
        suggested_engagement=booking.suggested_engagement,
        start=booking.starts_at,
        end=booking.ends_at,
        visitor_timezone=booking.visitor_timezone,
        owner_timezone=booking.owner_timezone,
        manage_url=manage_url(lead),
        owner_name=config["OWNER_NAME"],
        owner_email=config["OWNER_EMAIL"],
        site_name=config["SITE_NAME"],
        source_article_title=article.title if article else booking.source_article,
        attribution=booking.attribution or {},
    )


def ics_text(lead: Lead, booking: Booking, method: str = "REQUEST") -> str:
    config = current_app.config
    host = config["SITE_URL"].split("://", 1)[-1].split("/")[0].split(":")[0] or "localhost"
    return booking_ics(
        uid=f"booking-{booking.id}@{host}",
        start=booking.starts_at,
        end=booking.ends_at,
        summary=CALL_TITLE.format(owner=config["OWNER_NAME"]),
        description=f"Strategy call with {config['OWNER_NAME']}. Manage or reschedule: "
        f"{manage_url(lead)}",
        location_url=manage_url(lead),
        organizer_name=config["OWNER_NAME"],
        organizer_email=config["OWNER_EMAIL"],
        attendee_name=lead.name,
        attendee_email=lead.email,
        sequence=booking.sequence,
        method=method,
        now=utc_now(),
    )


def ics_for(booking: Booking, token: str) -> str:
    method = "CANCEL" if booking.status == "cancelled" else "REQUEST"
    return ics_text(booking.lead, booking, method)


def call_links(booking: Booking, token: str) -> dict[str, str]:
    owner = current_app.config["OWNER_NAME"]
    details = f"Strategy call with {owner}. Manage your booking: {manage_url(booking.lead)}"
    title = CALL_TITLE.format(owner=owner)
    timing = {
        "title": title,
        "start": booking.starts_at,
        "end": booking.ends_at,
        "details": details,
    }
    return {
        "ics": url_for("booking.calendar_file", token=token, call_id=booking.id),
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


def plan_emails(lead: Lead, booking: Booking, event: str, previous: datetime | None):
    details = details_of(lead, booking)
    now = utc_now()
    if event == "booked":
        return [
            PlannedEmail(
                emails.visitor_confirmation(details, ics_text(lead, booking)),
                "visitor_confirmation",
            ),
            PlannedEmail(emails.owner_notification(details), "owner_notification"),
            *reminders_for(details, booking, now),
        ]
    if event == "rescheduled":
        return [
            PlannedEmail(
                emails.visitor_reschedule(details, previous, ics_text(lead, booking)),
                "visitor_reschedule",
            ),
            PlannedEmail(emails.owner_reschedule(details, previous), "owner_reschedule"),
            *reminders_for(details, booking, now),
        ]
    if event == "cancelled":
        return [
            PlannedEmail(
                emails.visitor_cancellation(details, ics_text(lead, booking, "CANCEL")),
                "visitor_cancellation",
            ),
            PlannedEmail(emails.owner_cancellation(details), "owner_cancellation"),
        ]
    raise ValueError(f"unknown booking event {event!r}")


def deliver_soon(booking_id: int) -> None:
    """Try this booking's due emails now, off the request thread; the worker is the safety net."""
    if not current_app.config["OUTBOX_SEND_INLINE"]:
        return
    app = current_app._get_current_object()
    threading.Thread(target=deliver_now, args=(app, booking_id), daemon=True).start()


def deliver_now(app, booking_id: int) -> None:
    with app.app_context():
        try:
            ids = db.session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.booking_id == booking_id)
            ).all()
            send_due(
                db.session,
                mailer_from_config(app.config),
                app.config["MAIL_FROM"],
                now=utc_now(),
                only_ids=ids,
            )
        except Exception:
            app.logger.exception("inline delivery failed; the outbox worker will retry")
        finally:
            db.session.remove()
