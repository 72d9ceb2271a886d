"""`/owner/calendar/<secret>.ics`: the owner's calls as a calendar subscription, and the
POST that makes (or replaces) its secret. The feed needs no login (see auth.py): the
secret is the key, and a wrong or retired one gets the same 404 as no feed at all.
"""

from flask import abort, current_app, flash, redirect, url_for
from flask_login import current_user

from blueprints.owner import bp
from blueprints.owner.forms import ActionForm
from domain.booking.location import load_location
from domain.booking.tokens import utc_now
from domain.calendar.files import booking_uid
from domain.calendar.subscription import (
    calls_for_feed,
    new_secret,
    owner_for_secret,
    subscription_feed,
)
from extensions import db


def feed_url(secret: str) -> str:
    return current_app.config["SITE_URL"] + url_for("owner.calendar_feed", secret=secret)


def subscription_links() -> dict[str, str] | None:
    """The https and webcal:// addresses of the signed-in owner's feed; None before one
    is made."""
    secret = current_user.owner.calendar_secret if current_user.is_authenticated else None
    if not secret:
        return None
    https = feed_url(secret)
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}


@bp.app_context_processor
def calendar_subscription():
    return {"calendar_subscription": subscription_links}


@bp.get("/calendar/<secret>.ics")
def calendar_feed(secret: str):
    if owner_for_secret(db.session, secret) is None:
        abort(404)
    location = load_location(db.session)
    # Same UID as the invites (blueprints/booking/mail.py), so one call is one event.
    text = subscription_feed(
        calls_for_feed(db.session, utc_now()),
        uid_of=lambda call: booking_uid(call.id, current_app.config["SITE_URL"]),
        lead_url_of=lambda call: (
            current_app.config["SITE_URL"] + url_for("owner.lead", lead_id=call.lead_id)
        ),
        location_of=lambda call: location.calendar_text(call.phone) if location else None,
        now=utc_now(),
    )
    response = current_app.response_class(text, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="strategy-calls.ics"'
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.post("/calendar/regenerate")
def regenerate_calendar_secret():
    if not ActionForm().validate_on_submit():
        abort(400)
    had_one = bool(current_user.owner.calendar_secret)
    new_secret(db.session, current_user.owner)
    db.session.commit()
    flash(
        "New calendar address made; the old one no longer works. Subscribe again with this one."
        if had_one
        else "Calendar address made. Subscribe to it from your calendar app."
    )
    return redirect(url_for("owner.dashboard") + "#calendar-subscription", code=303)
