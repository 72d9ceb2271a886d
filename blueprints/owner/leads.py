"""`/owner/leads`: the lead list, its bulk status change, and the CSV export.

Every filter lives in the query string (a view is a bookmark), and the bulk form posts to
a URL carrying the same query string, so the owner lands back on the view they acted on.
Dates and times are the owner's (the availability zone); the CSV keeps UTC with offsets.
The rules themselves (filters, order, pages, the CSV's cells) are in `domain.leads.search`.
"""

from dataclasses import replace
from datetime import datetime

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from blueprints.owner import bp
from blueprints.owner.forms import ActionForm
from domain.booking.availability import load_values
from domain.booking.tokens import utc_now
from domain.leads.cursor import BadCursor, Cursor, decode, encode, position_of
from domain.leads.export import csv_stream
from domain.leads.search import (
    COUNT_CAP,
    LeadFilter,
    LeadPage,
    change_statuses,
    page_of,
    read_lead_ids,
)
from domain.leads.statuses import ENGAGEMENT_LABELS, STATUS_LABELS
from extensions import db

SORT_LABELS = {"newest": "Newest first", "score": "Best fit first", "next_call": "Next call first"}


@bp.get("/leads")
def leads():
    now = utc_now()
    lead_filter = LeadFilter.from_args(request.args, owner_zone())
    cursor, cursor_error = None, ""
    if lead_filter.cursor:
        try:
            cursor = decode(lead_filter.cursor, secret(), lead_filter.sort, now)
        except BadCursor as error:
            # A damaged or forged page link: say so above page 1 of the same view.
            cursor_error = f"{error} Here is the first page instead."
            lead_filter = replace(lead_filter, cursor="", page=1)
    owner = current_user.owner
    last_seen = owner.last_seen_leads_at
    owner.last_seen_leads_at = now  # the dashboard's "new since last visit" starts again
    db.session.commit()
    found = page_of(db.session, lead_filter, now, count_cap=count_cap(), cursor=cursor)
    library = current_app.extensions["library"]
    html = render_template(
        "owner/leads.html",
        lead_filter=lead_filter,
        found=found,
        cursor_error=cursor_error,
        depth_note=depth_note(lead_filter, found),
        previous_url=page_link(lead_filter, found, now, "before"),
        next_url=page_link(lead_filter, found, now, "after"),
        last_seen=last_seen,
        articles=library.articles,
        article_titles={article.slug: article.title for article in library.articles},
        status_labels=STATUS_LABELS,
        engagement_labels=ENGAGEMENT_LABELS,
        sort_labels=SORT_LABELS,
        lead_url=lead_url,
        now=now,
        zone=lead_filter.timezone,
    )
    return html, 400 if cursor_error else 200


def depth_note(lead_filter: LeadFilter, found: LeadPage) -> str:
    """Why a search opened on an earlier page than the one its link asked for."""
    if lead_filter.cursor or lead_filter.page <= found.max_page or found.page < found.max_page:
        return ""
    return (
        f"Page numbers of a search stop at page {found.max_page}. Use Next to go on from "
        "here, or add words or filters to narrow the search."
    )


def secret() -> str:
    return current_app.config["SECRET_KEY"]


def page_link(lead_filter: LeadFilter, found: LeadPage, now: datetime, direction: str) -> str:
    """The Next ("after") or Previous ("before") link: a cursor at the page's last or first
    lead, or "" when there is no such page. Previous to page 1 is page 1's plain URL."""
    if direction == "after" and not found.has_next:
        return ""
    if direction == "before" and not found.has_previous:
        return ""
    if direction == "before" and found.page == 2:
        return url_for("owner.leads", **lead_filter.to_query(page=1, cursor=""))
    lead = found.leads[-1] if direction == "after" else found.leads[0]
    page = found.page + 1 if direction == "after" else found.page - 1
    position = position_of(lead, lead_filter.sort, now)
    token = encode(Cursor(lead_filter.sort, direction, position, page), secret())
    return url_for("owner.leads", **lead_filter.to_query(page=1, cursor=token))


def count_cap() -> int:
    """Where the list stops counting and says "10,000+" (a setting, so tests can use 5)."""
    return current_app.config.get("LEAD_COUNT_CAP", COUNT_CAP)


def owner_zone() -> str:
    """The zone of the owner's availability: the list's days and times are read in it."""
    return load_values(db.session).timezone


def lead_url(lead_id: int) -> str:
    if "owner.lead" in current_app.view_functions:  # the lead page, once it is registered
        return url_for("owner.lead", lead_id=lead_id)
    return f"/owner/leads/{lead_id}"


@bp.post("/leads/bulk-status")
def leads_bulk_status():
    lead_filter = LeadFilter.from_args(request.args, owner_zone())
    back = redirect(url_for("owner.leads", **lead_filter.to_query()), code=303)
    if not ActionForm().validate_on_submit():
        flash("That form had expired, so nothing changed. Please try again.")
        return back
    status = request.form.get("status", "")
    lead_ids = read_lead_ids(request.form.getlist("lead_ids"))
    if status not in STATUS_LABELS or lead_ids is None:
        flash("Choose a status from the list; nothing changed.")
        return back
    if not lead_ids:
        flash("Select at least one lead; nothing changed.")
        return back
    changed = change_statuses(db.session, lead_ids, status, utc_now())
    flash(f"{changed:,} {'lead' if changed == 1 else 'leads'} moved to {STATUS_LABELS[status]}.")
    return back


@bp.get("/leads.csv")
def leads_csv():
    now = utc_now()
    lead_filter = LeadFilter.from_args(request.args, owner_zone())
    chunks = csv_stream(db.session, lead_filter, now)  # every page
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="leads-{now:%Y-%m-%d}.csv"'
    return response
