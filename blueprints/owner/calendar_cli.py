"""`flask calendar …`: the owner's calendar feeds from the command line.

add (read once, refused with exit code 1 if that fails), list, remove, and sync (every
feed now, whatever the period; exit code 1 if any failed).
"""

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from domain.booking.availability import load_values
from domain.booking.tokens import utc_now
from domain.calendar.feeds import feed_host, options_from_settings
from domain.calendar.owner_feeds import FeedRefused, add_feed, all_feeds, remove_feed
from domain.calendar.sync import summary, sync_calendars
from extensions import db

calendar_cli = AppGroup("calendar", help="The owner's calendar feeds (busy times).")


@calendar_cli.command("add")
@click.argument("url")
@click.option("--name", default="", help="A name for the list; default: the calendar's own.")
def add_command(url: str, name: str) -> None:
    """Add the feed at URL (https:// or webcal://); it is read once first."""
    try:
        added = add_feed(
            db.session, url, name, now=utc_now(), options=options_from_settings(current_app.config)
        )
    except FeedRefused as refusal:
        raise click.ClickException(f"Not added ({refusal.field}): {refusal.message}") from None
    click.echo(f"Added calendar {added.feed_id} “{added.name}”: {summary(added.copy)}")


@calendar_cli.command("list")
def list_command() -> None:
    """Every feed: id, name, host, last read, events, last error (times in your zone)."""
    feeds = all_feeds(db.session)
    if not feeds:
        click.echo("No calendar feeds. Add one with: flask calendar add URL")
        return
    zone = load_values(db.session).timezone
    for feed in feeds:
        read = _local(feed.last_success_at, zone) if feed.last_success_at else "never"
        click.echo(
            f"{feed.id}\t{feed.name}\t{feed_host(feed.url)}\tlast read {read}"
            f"\t{feed.event_count} events\t{feed.last_error or 'no error'}"
        )


@calendar_cli.command("remove")
@click.argument("feed_id", type=click.IntRange(min=1, max=2**31 - 1))
def remove_command(feed_id: int) -> None:
    """Remove feed FEED_ID (see `flask calendar list`) and its busy times."""
    name = remove_feed(db.session, feed_id)
    if name is None:
        raise click.ClickException(f"No calendar feed with id {feed_id}.")
    click.echo(f"Removed calendar {feed_id} “{name}” and its busy times.")


@calendar_cli.command("sync")
def sync_command() -> None:
    """Read every feed now and print what happened to each."""
    results = sync_calendars(db.session, current_app.config, now=utc_now(), period=timedelta(0))
    for result in results:
        click.echo(f"{result.feed_id}\t{'ok' if result.ok else 'FAILED'}\t{result.message}")
    if not results:
        click.echo("No calendar feeds to read.")
    if any(not result.ok for result in results):
        raise click.ClickException("Some calendars could not be read; they keep their last copy.")


def _local(moment, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
