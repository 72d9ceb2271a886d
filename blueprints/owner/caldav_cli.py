"""`flask caldav sync`: read the busy times of the owner's CalDAV calendar once, now.

The periodic sync loop calls the same function (domain/calendar/caldav_sync.py). The
command is a group of its own so it can move under `flask calendar` as `caldav-sync`
(`calendar_cli.add_command(caldav_sync_command, "caldav-sync")`).
"""

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from domain.booking.availability import load_rules
from domain.calendar.caldav_sync import sync_caldav_busy
from extensions import db

caldav_cli = AppGroup("caldav", help="The owner's CalDAV calendar (CALDAV_URL).")


@caldav_cli.command("sync")
def caldav_sync_command() -> None:
    """Read the calendar's busy times now; a failure keeps the last ones and exits 1."""
    result = sync_caldav_busy(
        db.session, current_app.config, load_rules(db.session), datetime.now(UTC)
    )
    if result is None:
        raise click.ClickException("CalDAV is off: set CALDAV_URL (and the other CALDAV_ settings)")
    click.echo(str(result))
    if not result.ok:
        raise SystemExit(1)
