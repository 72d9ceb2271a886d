"""Where calls happen: its own small form on `/owner/availability`, posted here.

Kept apart from the weekly-hours form so that each saves only what it shows; the rules
are in domain/booking/location.py, which the command line uses too.
"""

from flask import flash, redirect, url_for
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from blueprints.owner import bp
from blueprints.owner.availability import render_page
from domain.booking.location import OWNER_CALLS, LocationError, load_location, save_location
from extensions import db
from forms import SafeForm

# The radio's choices: each names the kind, and what the one text box then holds.
KINDS = [
    SelectChoice("", "Not set yet (visitors read “the link will follow by email”)"),
    SelectChoice("video", "Video call: give the https:// meeting link"),
    SelectChoice(OWNER_CALLS, "Phone: you call the visitor, who gives their number when booking"),
    SelectChoice("phone", "Phone: the visitor calls you; give your number with its country code"),
    SelectChoice("in-person", "In person: give the address"),
]
VALUE_NEEDED = {"video", "phone", "in-person"}


class LocationForm(SafeForm):
    location_kind = RadioField("Where calls happen", choices=KINDS, default="")
    location_value = StringField(
        "Link, number or address",
        validators=[Length(max=450, message="Keep it to 450 characters or fewer.")],
    )

    @classmethod
    def current(cls) -> "LocationForm":
        location = load_location(db.session)
        if location is None:
            return cls(formdata=None, data={"location_kind": ""})
        kind = OWNER_CALLS if location.owner_calls else location.kind
        value = "" if location.owner_calls else location.value
        return cls(formdata=None, data={"location_kind": kind, "location_value": value})

    def setting(self) -> str:
        kind = self.location_kind.data or ""
        if kind == OWNER_CALLS:
            return f"phone:{OWNER_CALLS}"
        if kind in VALUE_NEEDED:
            return f"{kind}:{(self.location_value.data or '').strip()}"
        return ""


@bp.post("/availability/location")
def save_call_location():
    form = LocationForm()
    if not form.validate():
        if "csrf_token" in form.errors:
            form.form_errors.append("The form had expired. Please check it and save again.")
        return render_page(None, status=400, location_form=form)
    try:
        save_location(db.session, form.setting())
    except LocationError as error:
        db.session.rollback()
        form.location_value.errors = [str(error)]
        return render_page(None, status=400, location_form=form)
    db.session.commit()
    flash("Where calls happen: saved")
    return redirect(url_for("owner.availability"), code=303)
