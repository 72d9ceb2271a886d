"""`/owner/`: today's and the next calls, new leads since the last visit, the funnel, and
the emails that failed for good, each with "Send again".

Times are shown in the owner's zone (the availability setting). The page only reads:
it never moves the owner's "last seen" mark, so a reload shows the same new leads.
"Send again" is a POST with CSRF that puts one failed email back in the queue.
The queries live in domain/leads/dashboard.py.
"""

from datetime import date

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.owner import bp
from blueprints.owner.forms import ActionForm
from domain.booking.availability import load_values
from domain.booking.tokens import utc_now
from domain.content.counters import local_day
from domain.leads.charts import funnel_chart, sparkline
from domain.leads.dashboard import (
    calls_between,
    failed_mail,
    local_day_bounds,
    new_leads,
    upcoming_calls,
)
from domain.leads.funnel import (
    PERIOD_CHOICES,
    daily_totals,
    format_rate,
    funnel,
    period_from_query,
    period_key,
    totals,
)
from domain.mail.outbox import retry_failed
from extensions import db


@bp.get("/")
def dashboard():
    now = utc_now()
    zone = load_values(db.session).timezone
    today = local_day(now, zone)
    today_start, tomorrow_start = local_day_bounds(today, zone)
    return render_template(
        "owner/dashboard.html",
        now=now,
        zone=zone,
        today_calls=calls_between(db.session, today_start, tomorrow_start),
        next_calls=upcoming_calls(db.session, tomorrow_start),
        leads=new_leads(db.session, current_user.owner.last_seen_leads_at, now),
        failed=failed_mail(db.session),
        **funnel_context(today),
    )


@bp.post("/outbox/<int:message_id>/send-again")
def send_mail_again(message_id: int):
    """Back in the queue, due now: the outbox worker sends it on its next pass."""
    back = redirect(url_for("owner.dashboard") + "#failed-mail-heading", code=303)
    if not ActionForm().validate_on_submit():
        flash("That form had expired, so nothing changed. Please try again.")
        return back
    if retry_failed(db.session, message_id, now=utc_now()):
        db.session.commit()
        flash("The email is back in the queue and goes out with the next send.")
    else:
        flash("That email is no longer marked as failed, so nothing changed.")
    return back


def funnel_context(today: date) -> dict:
    """The funnel section; counts are kept per owner-local day, so `today` is the owner's."""
    start, end, label = period_from_query(request.args, today)
    rows = funnel(db.session, start, end, current_app.extensions["library"])
    return {
        "period": {"key": period_key(request.args, today), "start": start, "end": end},
        "period_label": label,
        "period_choices": PERIOD_CHOICES,
        "rows": rows,
        "total": totals(rows),
        "chart": funnel_chart(rows, period=label),
        "spark": sparkline(daily_totals(db.session, start, end)),
        "percent": format_rate,
    }
