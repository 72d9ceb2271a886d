"""`/owner/leads/<id>`: one lead — its answers, attribution, calls, status, notes and the
privacy actions (export as JSON, erase).

Each POST checks the CSRF token, calls one function of domain/leads/actions.py (one
transaction) and redirects back to the lead with 303; a refused action is flashed, and a
refused note is shown beside the field with its text kept.
"""

import json
from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from blueprints.owner import bp
from blueprints.owner.forms import ActionForm
from domain.booking.availability import load_values
from domain.booking.link_emails import Signature, queue_links_email
from domain.booking.tokens import utc_now
from domain.leads.actions import (
    NOTE_MAX_LENGTH,
    InvalidNote,
    LeadActionError,
    add_note,
    change_status,
    check_erase_confirmation,
    erase_lead,
    lead_export,
    record_outcome,
    timeline,
)
from domain.leads.brief import brief_for_page
from domain.leads.details import DETAIL_LABELS, adopt_booking_details, differing_details
from domain.leads.scoring import COMPANY_SIZES
from domain.leads.statuses import BOOKING_STATUS_LABELS, ENGAGEMENT_LABELS, STATUS_LABELS
from domain.platform.text_input import printable_text
from extensions import db, outbox_delivery
from models import Lead

TOUCH_LABELS = {
    "utm_source": "Source",
    "utm_medium": "Medium",
    "utm_campaign": "Campaign",
    "utm_term": "Term",
    "utm_content": "Content",
    "referrer": "Referrer",
    "landing": "Landing page",
}
OUTCOME_MESSAGES = {"completed": "Call marked completed.", "no_show": "Call marked no-show."}


def title_of(slug: str) -> str:
    article = current_app.extensions["library"].article(slug)
    return article.title if article else slug


def lead_or_404(lead_id: int) -> Lead:
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        abort(404)
    return lead


def require_form() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


def back_to_lead(lead_id: int):
    return redirect(url_for("owner.lead", lead_id=lead_id), code=303)


def touch_rows(touch: dict | None) -> list[tuple[str, str]]:
    """(label, value) for each thing a touch recorded, known keys first; the time apart."""
    touch = touch or {}
    known = [(label, touch[key]) for key, label in TOUCH_LABELS.items() if touch.get(key)]
    other = [
        (key, str(value))
        for key, value in touch.items()
        if key not in TOUCH_LABELS and key != "at" and value
    ]
    return known + other


def touched_at(touch: dict | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat((touch or {}).get("at", ""))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else None


def render_lead(
    lead: Lead,
    *,
    note: str = "",
    note_error: str | None = None,
    status_note: str = "",
    status_note_error: str | None = None,
    status: int = 200,
):
    page = render_template(
        "owner/lead.html",
        lead=lead,
        now=utc_now(),
        owner_zone=load_values(db.session).timezone,
        entries=timeline(lead),
        brief=brief_for_page(lead, utc_now(), title_of),
        library=current_app.extensions["library"],
        statuses=STATUS_LABELS,
        booking_statuses=BOOKING_STATUS_LABELS,
        engagements=ENGAGEMENT_LABELS,
        sizes=dict(COMPANY_SIZES),
        touch_rows=touch_rows,
        touched_at=touched_at,
        note=note,
        note_error=note_error,
        note_max=NOTE_MAX_LENGTH,
        status_note=status_note,
        status_note_error=status_note_error,
        differing_details=differing_details,
        detail_labels=DETAIL_LABELS,
    )
    return page, status


@bp.get("/leads/<int:lead_id>", endpoint="lead")
def lead_page(lead_id: int):
    return render_lead(lead_or_404(lead_id))


@bp.post("/leads/<int:lead_id>/status")
def lead_status(lead_id: int):
    lead = lead_or_404(lead_id)
    require_form()
    new_status = request.form.get("status", "")
    note = request.form.get("note", "")
    try:
        change_status(db.session, lead, new_status, utc_now(), note=note)
    except InvalidNote as error:
        shown = printable_text(note)  # without what was refused: it is invisible anyway
        return render_lead(lead, status_note=shown, status_note_error=str(error), status=400)
    except LeadActionError as error:
        flash(str(error))
    else:
        flash(f"Status changed to {STATUS_LABELS[new_status]}.")
    return back_to_lead(lead_id)


@bp.post("/leads/<int:lead_id>/notes")
def lead_note(lead_id: int):
    lead = lead_or_404(lead_id)
    require_form()
    body = request.form.get("body", "")
    try:
        add_note(db.session, lead, body, utc_now())
    except InvalidNote as error:
        shown = printable_text(body, multiline=True)
        return render_lead(lead, note=shown, note_error=str(error), status=400)
    except LeadActionError as error:
        flash(str(error))
    else:
        flash("Note added.")
    return back_to_lead(lead_id)


@bp.post("/leads/<int:lead_id>/bookings/<int:booking_id>/outcome")
def booking_outcome(lead_id: int, booking_id: int):
    lead = lead_or_404(lead_id)
    require_form()
    outcome = request.form.get("outcome", "")
    try:
        record_outcome(db.session, lead, booking_id, outcome, utc_now())
    except LeadActionError as error:
        flash(str(error))
    else:
        flash(OUTCOME_MESSAGES[outcome])
    return back_to_lead(lead_id)


@bp.get("/leads/<int:lead_id>.json")
def lead_json(lead_id: int):
    lead = lead_or_404(lead_id)
    body = json.dumps(lead_export(lead), indent=2, ensure_ascii=False)
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="lead-{lead.id}.json"'
    return response


@bp.post("/leads/<int:lead_id>/erase")
def lead_erase(lead_id: int):
    lead = lead_or_404(lead_id)
    require_form()
    try:
        check_erase_confirmation(lead, request.form.get("confirm"))
    except LeadActionError as error:
        flash(str(error))
        return back_to_lead(lead_id)
    erase_lead(db.session, lead, from_calendar=bool(current_app.config.get("CALDAV_URL")))
    current_app.logger.info("lead %d erased on request", lead_id)
    flash("Lead erased")
    return redirect(url_for("owner.leads"), code=303)


@bp.post("/leads/<int:lead_id>/bookings/<int:booking_id>/adopt-details")
def adopt_details(lead_id: int, booking_id: int):
    lead = lead_or_404(lead_id)
    require_form()
    booking = next((b for b in lead.bookings if b.id == booking_id), None)
    if booking is None:
        abort(404)
    adopt_booking_details(db.session, lead, booking, utc_now())
    db.session.commit()
    flash("The lead now has this booking’s details.")
    return back_to_lead(lead_id)


@bp.post("/leads/<int:lead_id>/links")
def send_new_links(lead_id: int):
    """Revoke every link of the lead's calls, then email new ones for the upcoming calls."""
    lead = lead_or_404(lead_id)
    require_form()
    signature = Signature.from_config(current_app.config)
    message_ids = queue_links_email(
        db.session, lead, now=utc_now(), signature=signature, revoke_old=True
    )
    outbox_delivery.soon(message_ids)
    current_app.logger.info("booking links of lead %d revoked by the owner", lead_id)
    if message_ids:
        flash("Old links revoked. New links are on their way to the lead.")
    else:
        flash("Old links revoked. There are no upcoming calls, so no email was sent.")
    return back_to_lead(lead_id)
