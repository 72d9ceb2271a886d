"""`/booking/<token>`: the visitor's private page — confirmation, .ics, reschedule, cancel.

GET only shows; every change is a POST with CSRF, so a link scanner that follows the
link from an email changes nothing.
"""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from blueprints.booking import bp
from blueprints.booking.forms import ConfirmForm
from blueprints.booking.helpers import (
    SLOT_MESSAGES,
    day_choices,
    local,
    parse_slot,
    pick_day,
    slot_value,
    valid_timezone,
    zone_label,
)
from blueprints.booking.mail import call_links, deliver_soon, ics_for, plan_emails
from domain.availability import load_rules
from domain.booking import (
    BookingClosed,
    SlotUnavailable,
    busy_bookings,
    cancel_call,
    reschedule_call,
)
from domain.slots import available_slots
from domain.tokens import read_manage_token, utc_now
from extensions import db
from models import Booking, Lead


def lead_for(token: str) -> Lead:
    found = read_manage_token(current_app.secret_key, token)
    lead = db.session.get(Lead, found[0]) if found else None
    if lead is None or lead.manage_nonce != found[1]:
        abort(404)
    return lead


def call_of(lead: Lead, call_id: int) -> Booking:
    booking = db.session.scalar(
        select(Booking).where(Booking.id == call_id, Booking.lead_id == lead.id)
    )
    if booking is None:
        abort(404)
    return booking


def private(response_body, status=200):
    response = current_app.make_response((response_body, status))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token must not leak onwards
    response.cache_control.no_store = True
    return response


@bp.get("/booking/<token>")
def manage(token: str):
    lead = lead_for(token)
    now = utc_now()
    upcoming = [b for b in lead.bookings if b.status == "active" and b.ends_at > now]
    past = [b for b in lead.bookings if b not in upcoming]
    return private(
        render_template(
            "booking/manage.html",
            lead=lead,
            token=token,
            upcoming=upcoming,
            past=past,
            now=now,
            form=ConfirmForm(),
            local=local,
            zone_label=zone_label,
            links=call_links,
        )
    )


@bp.get("/booking/<token>/confirmed")
def confirmed(token: str):
    lead = lead_for(token)
    booking = call_of(lead, request.args.get("call", type=int) or 0)
    return private(
        render_template(
            "booking/confirmed.html",
            lead=lead,
            booking=booking,
            token=token,
            local=local,
            zone_label=zone_label,
            links=call_links(booking, token),
        )
    )


@bp.get("/booking/<token>/calls/<int:call_id>.ics")
def calendar_file(token: str, call_id: int):
    lead = lead_for(token)
    booking = call_of(lead, call_id)
    response = current_app.response_class(ics_for(booking, token), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="strategy-call-{call_id}.ics"'
    response.cache_control.no_store = True
    return response


@bp.post("/booking/<token>/calls/<int:call_id>/cancel")
def cancel(token: str, call_id: int):
    lead = lead_for(token)
    call_of(lead, call_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        cancel_call(
            db.session, lead_id=lead.id, booking_id=call_id, now=utc_now(), plan_emails=plan_emails
        )
    except BookingClosed:
        flash("That call was already cancelled or has taken place, so nothing changed.")
        return redirect(url_for("booking.manage", token=token), code=303)
    deliver_soon(call_id)
    flash("Your call is cancelled. We have emailed you a confirmation.")
    return redirect(url_for("booking.manage", token=token), code=303)


@bp.get("/booking/<token>/calls/<int:call_id>/reschedule")
def reschedule(token: str, call_id: int):
    lead = lead_for(token)
    booking = call_of(lead, call_id)
    now = utc_now()
    if booking.status != "active" or booking.starts_at <= now:
        flash("That call can no longer be moved.")
        return redirect(url_for("booking.manage", token=token), code=303)
    rules = load_rules(db.session)
    timezone = valid_timezone(request.args.get("timezone")) or booking.visitor_timezone
    new_slot = parse_slot(request.args.get("slot"))
    slots = available_slots(rules, busy_bookings(db.session, rules, now, excluding=booking.id), now)
    days = day_choices(slots, timezone)
    return private(
        render_template(
            "booking/reschedule.html",
            lead=lead,
            booking=booking,
            token=token,
            days=days,
            chosen=pick_day(days, request.args.get("day")),
            new_slot=new_slot,
            timezone=timezone,
            zone_label=zone_label(new_slot or booking.starts_at, timezone),
            form=ConfirmForm(slot=slot_value(new_slot) if new_slot else "", timezone=timezone),
            local=local,
            slot_value=slot_value,
        )
    )


@bp.post("/booking/<token>/calls/<int:call_id>/reschedule")
def reschedule_submit(token: str, call_id: int):
    lead = lead_for(token)
    current = call_of(lead, call_id)
    form = ConfirmForm()
    new_slot = parse_slot(form.slot.data)
    if not form.validate_on_submit():
        abort(400)
    timezone = valid_timezone(form.timezone.data) or current.visitor_timezone
    back = url_for("booking.reschedule", token=token, call_id=call_id, timezone=timezone)
    if new_slot is None:
        flash("Please choose a new time.")
        return redirect(back, code=303)
    try:
        reschedule_call(
            db.session,
            lead_id=lead.id,
            booking_id=call_id,
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
        return redirect(url_for("booking.manage", token=token), code=303)
    deliver_soon(call_id)
    flash("Your call has moved. We have emailed you the new time and calendar invite.")
    return redirect(url_for("booking.confirmed", token=token, call=call_id), code=303)
