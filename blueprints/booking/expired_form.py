"""A booking form whose CSRF token fails (left open past the visit's session, a browser that
drops our cookie, a forged post): nothing is booked, and the form comes back with every
answer and a fresh token, so sending it again is one click, not the whole form retyped."""

from flask import render_template, request
from flask_wtf.csrf import CSRFError

from blueprints.booking import bp
from blueprints.booking.forms import BookingForm
from blueprints.booking.helpers import parse_slot, valid_timezone
from blueprints.booking.routes import render_details, source_slug
from domain.booking.calls import current_rules
from domain.booking.tokens import utc_now
from extensions import db

EXPIRED = (
    "Your form had expired before it reached us, so nothing was booked and your answers are "
    "kept below. Please check them and send the form again. If this happens again, allow "
    "cookies for this site: the form needs one."
)


@bp.errorhandler(CSRFError)
def expired_form(_error):
    if request.endpoint != "booking.submit":
        return render_template("errors/400.html", expired=True), 400
    form = BookingForm()
    form.form_errors.append(EXPIRED)
    rules = current_rules(db.session)
    timezone = valid_timezone(form.timezone.data) or rules.timezone
    now = utc_now()
    return render_details(
        form, rules, now, source_slug(), timezone, parse_slot(form.slot.data), status=400
    )
