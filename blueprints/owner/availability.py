"""`/owner/availability`: the owner's booking rules, and a preview of the week they give.

Saving writes the rules row only, in one transaction: existing bookings are never
touched, even when their time is no longer inside the hours. The preview always shows
the saved rules, so a form with errors previews nothing it has not stored.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for

from blueprints.owner import bp
from blueprints.owner.availability_form import HOURS_HINT, AvailabilityForm
from domain.booking.availability import load_rules, load_values, save_values
from domain.booking.calls import busy_bookings
from domain.booking.slots import AvailabilityRules, Busy, available_slots, slots_by_local_day
from domain.booking.tokens import utc_now
from extensions import db

PREVIEW_DAYS = 7


def preview_days(
    rules: AvailabilityRules, busy: list[Busy], now: datetime, days: int = PREVIEW_DAYS
) -> list[tuple[date, list[datetime]]]:
    """(owner-local day, free starts in UTC) for today and the next days, empty days too."""
    by_day = slots_by_local_day(available_slots(rules, busy, now), rules.timezone)
    today = now.astimezone(ZoneInfo(rules.timezone)).date()
    shown = [today + timedelta(days=offset) for offset in range(days)]
    return [(day, by_day.get(day, [])) for day in shown]


@bp.route("/availability", methods=["GET", "POST"])
def availability():
    form = AvailabilityForm()
    if not form.is_submitted():
        return render_page(AvailabilityForm.from_values(load_values(db.session)))
    # validate() checks the CSRF token and refuses control characters beside their fields;
    # to_values reads everything else, so every problem is shown at once.
    typed_cleanly = form.validate()
    form.read_hours(request.form)
    if "csrf_token" in form.errors:
        form.form_errors.append("The form had expired. Please check it and save again.")
        return render_page(form, status=400)
    values, errors = form.to_values()
    if errors or not typed_cleanly:
        form.show_errors(errors)
        return render_page(form, status=400)
    save_values(db.session, values)
    db.session.commit()
    flash("Availability saved")
    return redirect(url_for("owner.availability"), code=303)


def render_page(form: AvailabilityForm | None, status: int = 200, location_form=None):
    from blueprints.owner.location import LocationForm  # a sibling form on this page

    form = form or AvailabilityForm.from_values(load_values(db.session))
    now = utc_now()
    rules = load_rules(db.session)
    return render_template(
        "owner/availability.html",
        form=form,
        location_form=location_form or LocationForm.current(),
        hours_hint=HOURS_HINT,
        now=now,
        zone=rules.timezone,
        call_minutes=rules.call_minutes,
        preview=preview_days(rules, busy_bookings(db.session, rules, now), now),
    ), status
