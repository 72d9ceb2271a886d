"""`/booking/<token>`: the visitor's private page for one booking — confirmation, .ics,
reschedule, cancel — and `/booking/links`, which emails a visitor their links.

A link manages the one booking it was made for, nothing else: knowing an address, or
holding the link of another call, opens nothing. GET only shows; every change is a POST
with CSRF, so a link scanner that follows the link from an email changes nothing.
"""

import hashlib

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from blueprints.booking import bp
from blueprints.booking.forms import CancelForm, ConfirmForm, LinksRequestForm
from blueprints.booking.helpers import (
    SLOT_MESSAGES,
    PickerLinks,
    local,
    parse_slot,
    slot_value,
    valid_timezone,
)
from blueprints.booking.mail import call_links, ics_for, plan_emails
from domain.booking.availability import load_rules
from domain.booking.calls import (
    BookingClosed,
    SlotUnavailable,
    cancel_call,
    reschedule_call,
)
from domain.booking.link_emails import Signature, queue_links_email
from domain.booking.links import booking_for_token
from domain.booking.picker import month_picker, parse_day, parse_month
from domain.booking.timezones import choice_label, zone_options
from domain.booking.tokens import utc_now
from domain.leads.details import lead_by_email, normalise_email
from extensions import db, limiter, outbox_delivery
from models import Booking


def private(response_body, status=200):
    response = current_app.make_response((response_body, status))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    # The token must not leak to other sites; our own forms on the page need the Referer
    # (over HTTPS the CSRF check refuses a post without one): same origin only.
    response.headers["Referrer-Policy"] = "same-origin"
    response.cache_control.no_store = True
    return response


def booking_for(token: str) -> Booking:
    """The booking this link manages, or a 404 that offers to send the links again."""
    booking = booking_for_token(db.session, token, utc_now())
    if booking is None:
        page = render_template("booking/link_not_valid.html", form=LinksRequestForm())
        abort(private(page, 404))
    return booking


def back_to(token: str):
    return redirect(url_for("booking.manage", token=token), code=303)


@bp.get("/booking/<token>")
def manage(token: str):
    booking = booking_for(token)
    return private(
        render_template(
            "booking/manage.html",
            booking=booking,
            token=token,
            now=utc_now(),
            local=local,
            zone_label=choice_label,
            links=call_links(booking, token),
        )
    )


@bp.get("/booking/<token>/confirmed")
def confirmed(token: str):
    booking = booking_for(token)
    if request.args.get("call", str(booking.id)) != str(booking.id):
        abort(404)  # an old-style link naming another call: this link opens only its own
    return private(
        render_template(
            "booking/confirmed.html",
            booking=booking,
            token=token,
            local=local,
            zone_label=choice_label,
            links=call_links(booking, token),
        )
    )


@bp.get("/booking/<token>/invite.ics")
def calendar_file(token: str):
    booking = booking_for(token)
    response = current_app.response_class(ics_for(booking, token), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'attachment; filename="strategy-call.ics"'
    response.headers["Referrer-Policy"] = "no-referrer"
    response.cache_control.no_store = True
    return response


def cancel_page(booking: Booking, token: str, form: CancelForm, status: int = 200):
    page = render_template(
        "booking/cancel.html",
        booking=booking,
        token=token,
        form=form,
        local=local,
        zone_label=choice_label,
    )
    return private(page, status)


@bp.get("/booking/<token>/cancel")
def cancel_confirm(token: str):
    """Asks before cancelling; GET only shows, so a link scanner cancels nothing."""
    booking = booking_for(token)
    if booking.status != "active" or booking.starts_at <= utc_now():
        flash("That call was already cancelled or has taken place, so it cannot be cancelled.")
        return back_to(token)
    return cancel_page(booking, token, CancelForm())


@bp.post("/booking/<token>/cancel")
def cancel(token: str):
    booking = booking_for(token)
    form = CancelForm()
    if not form.validate_on_submit():
        return cancel_page(booking, token, form, 400)
    try:
        cancel_call(
            db.session,
            booking_id=booking.id,
            now=utc_now(),
            plan_emails=plan_emails,
            reason=form.reason.data or "",
        )
    except BookingClosed:
        flash("That call was already cancelled or has taken place, so nothing changed.")
        return back_to(token)
    outbox_delivery.soon(booking_id=booking.id)
    flash("Your call is cancelled. We have emailed you a confirmation.")
    return back_to(token)


@bp.get("/booking/<token>/reschedule")
def reschedule(token: str):
    booking = booking_for(token)
    now = utc_now()
    if booking.status != "active" or booking.starts_at <= now:
        flash("That call can no longer be moved.")
        return back_to(token)
    rules = load_rules(db.session)
    timezone = valid_timezone(request.args.get("timezone")) or booking.visitor_timezone
    new_slot = parse_slot(request.args.get("slot"))
    view = month_picker(
        db.session,
        rules,
        now,
        timezone,
        month=parse_month(request.args.get("month")),
        day=parse_day(request.args.get("day")),
        excluding=booking.id,
    )
    shown = view.times[0] if view.times else booking.starts_at
    return private(
        render_template(
            "booking/reschedule.html",
            booking=booking,
            token=token,
            view=view,
            new_slot=new_slot,
            timezone=timezone,
            zone_label=choice_label(new_slot or booking.starts_at, timezone),
            zone_text=choice_label(shown, timezone),
            zone_options=zone_options(now.date(), timezone),
            links=PickerLinks(url_for("booking.reschedule", token=token), {}, timezone),
            form=ConfirmForm(slot=slot_value(new_slot) if new_slot else "", timezone=timezone),
            local=local,
            slot_value=slot_value,
        )
    )


@bp.post("/booking/<token>/reschedule")
def reschedule_submit(token: str):
    booking = booking_for(token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    new_slot = parse_slot(form.slot.data)
    timezone = valid_timezone(form.timezone.data) or booking.visitor_timezone
    back = url_for("booking.reschedule", token=token, timezone=timezone)
    if new_slot is None:
        flash("Please choose a new time.")
        return redirect(back, code=303)
    try:
        reschedule_call(
            db.session,
            booking_id=booking.id,
            new_start=new_slot,
            visitor_timezone=timezone,
            now=utc_now(),
            plan_emails=plan_emails,
        )
    except SlotUnavailable as error:
        flash(f"{SLOT_MESSAGES.get(error.code, SLOT_MESSAGES['taken'])} Your call has not moved.")
        return redirect(back, code=303)
    except BookingClosed:
        flash("That call was cancelled or has taken place, so it cannot be moved.")
        return back_to(token)
    outbox_delivery.soon(booking_id=booking.id)
    flash("Your call has moved. We have emailed you the new time and calendar invite.")
    return redirect(url_for("booking.confirmed", token=token), code=303)


def links_email_key() -> str:
    """Rate-limit key for one address, so nobody can flood a mailbox from many clients;
    a digest, so the limiter's storage (Redis) holds no address."""
    address = normalise_email(request.form.get("email", ""))[:320]
    return "links:" + hashlib.sha256(address.encode()).hexdigest()[:32]


@bp.route("/booking/links", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LINKS_RATE_LIMIT"], methods=["POST"], error_message="links"
)
@limiter.limit(
    lambda: current_app.config["LINKS_PER_ADDRESS_LIMIT"],
    key_func=links_email_key,
    methods=["POST"],
)
def request_links():
    """The same answer whether or not the address has booked: an address opens nothing."""
    form = LinksRequestForm()
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return private(render_template("booking/request_links.html", form=form), status)
    lead = lead_by_email(db.session, form.email.data)
    if lead is not None:
        signature = Signature.from_config(current_app.config)
        message_ids = queue_links_email(
            db.session, lead, now=utc_now(), signature=signature, revoke_old=False
        )
        outbox_delivery.soon(message_ids)
    current_app.logger.info("booking links requested (lead %s)", lead.id if lead else "none")
    return private(render_template("booking/links_sent.html", email=form.email.data))
