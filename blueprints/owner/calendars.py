"""`/owner/calendars`: the owner's calendar feeds, whose busy times visitors cannot book.

Adding reads the feed once and refuses it, beside the address, if that read fails
(domain/calendar/owner_feeds.py). "Sync now" reads every feed at once, whatever the
period. The full address is a secret: the page shows its host only.
"""

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, url_for

from blueprints.owner import bp
from blueprints.owner.forms import ActionForm, CalendarFeedForm
from domain.booking.availability import load_values
from domain.booking.tokens import utc_now
from domain.calendar import sync
from domain.calendar.feeds import feed_host, options_from_settings
from domain.calendar.owner_feeds import FeedRefused, add_feed, all_feeds, remove_feed
from extensions import db


@bp.get("/calendars")
def calendars():
    return render_page(CalendarFeedForm())


@bp.post("/calendars")
def add_calendar():
    form = CalendarFeedForm()
    if not form.validate():
        if "csrf_token" in form.errors:
            form.form_errors.append("The form had expired. Please add the feed again.")
        return render_page(form, status=400)
    try:
        added = add_feed(
            db.session, form.url.data, form.name.data or "",
            now=utc_now(), options=options_from_settings(current_app.config),
        )  # fmt: skip
    except FeedRefused as refusal:
        getattr(form, refusal.field).errors = [refusal.message]
        return render_page(form, status=400)
    flash(f"Calendar “{added.name}” added: {sync.summary(added.copy)}")
    return redirect(url_for("owner.calendars"), code=303)


@bp.post("/calendars/<int:feed_id>/remove")
def remove_calendar(feed_id: int):
    if not ActionForm().validate():
        flash("The page had expired. Please try again.")
        return redirect(url_for("owner.calendars"), code=303)
    name = remove_feed(db.session, feed_id)
    flash(f"Calendar “{name}” removed." if name else "That calendar was already removed.")
    return redirect(url_for("owner.calendars"), code=303)


@bp.post("/calendars/sync")
def sync_calendars_now():
    if not ActionForm().validate():
        flash("The page had expired. Please try again.")
        return redirect(url_for("owner.calendars"), code=303)
    # The owner asked: read every feed now, due or not.
    results = sync.sync_calendars(
        db.session, current_app.config, now=utc_now(), period=timedelta(0)
    )
    failed = sum(1 for result in results if not result.ok)
    flash(
        f"Read {len(results)} calendar(s)"
        + (f"; {failed} failed, and keep their last good copy." if failed else ".")
    )
    return redirect(url_for("owner.calendars"), code=303)


def render_page(form: CalendarFeedForm, status: int = 200):
    now = utc_now()
    return render_template(
        "owner/calendars.html",
        form=form,
        action_form=ActionForm(),
        feeds=all_feeds(db.session),
        stale_ids={feed.id for feed in sync.stale_feeds(db.session, now)},
        host_of=feed_host,
        now=now,
        zone=load_values(db.session).timezone,
    ), status


@bp.app_template_global()
def stale_calendar_feeds():
    """For the dashboard's warning (templates/owner/_feed_warning.html)."""
    return sync.stale_feeds(db.session, utc_now())


@bp.app_template_global()
def calendar_stale_hours() -> int:
    return int(sync.STALE_AFTER.total_seconds() // 3600)
