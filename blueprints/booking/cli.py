"""`flask availability show|set`: the owner's booking rules from the command line."""

import click
from flask.cli import AppGroup

from domain.booking.availability import (
    WEEKDAY_KEYS,
    WEEKDAYS,
    AvailabilityError,
    load_values,
    parse_ranges,
    save_values,
)
from domain.booking.location import LocationError, describe_location, load_location, save_location
from extensions import db

availability_cli = AppGroup("availability", help="The owner's availability for calls.")


def hours_text(minutes: int) -> str:
    """1440 -> '24', 90 -> '1.5': written as the owner's form writes it (and --notice-hours
    reads it), so what `show` prints can be typed back."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


@availability_cli.command("show")
def show():
    """Print the rules in force (the defaults until something is set)."""
    values = load_values(db.session)
    click.echo(f"Time zone:       {values.timezone}")
    for index, name in enumerate(WEEKDAYS):
        ranges = values.weekly_hours.get(str(index), [])
        hours = ", ".join(f"{start}-{end}" for start, end in ranges) or "no calls"
        click.echo(f"{name:<16} {hours}")
    click.echo(f"Call length:     {values.call_minutes} min")
    click.echo(f"Buffer:          {values.buffer_minutes} min")
    # The same units as the form on /owner/availability: notice in hours.
    click.echo(f"Minimum notice:  {hours_text(values.min_notice_minutes)} hours")
    click.echo(f"Horizon:         {values.horizon_days} days")
    click.echo(f"Daily limit:     {values.daily_limit or 'none'}")
    click.echo(f"Dates off:       {', '.join(values.dates_off) or 'none'}")
    location = load_location(db.session)
    setting = f" ({location.setting})" if location else ""
    click.echo(f"Where calls are: {describe_location(location, for_owner=True)}{setting}")


@availability_cli.command("set")
@click.option("--timezone", help="IANA zone, e.g. Europe/London.")
@click.option(
    "--hours",
    "hours",
    multiple=True,
    metavar="DAY=RANGES",
    help="e.g. mon=09:00-12:00,13:00-17:00 (repeat per day; 'sat=' clears a day).",
)
@click.option("--call-minutes", type=int)
@click.option("--buffer-minutes", type=int)
@click.option("--notice-hours", type=float, help="Minimum notice before a call.")
@click.option("--horizon-days", type=int)
@click.option("--daily-limit", type=int, help="0 for no limit.")
@click.option("--day-off", "days_off", multiple=True, metavar="YYYY-MM-DD")
@click.option("--clear-days-off", is_flag=True)
@click.option(
    "--location",
    metavar="KIND:VALUE",
    help="Where calls happen: video:https://…, phone:owner-calls, phone:+44…, "
    "in-person:ADDRESS; '' clears it.",
)
def set_rules(
    timezone,
    hours,
    call_minutes,
    buffer_minutes,
    notice_hours,
    horizon_days,
    daily_limit,
    days_off,
    clear_days_off,
    location,
):
    """Change some rules; the rest stay as they are. Existing bookings are never touched."""
    values = load_values(db.session)
    if timezone:
        values.timezone = timezone
    for entry in hours:
        day, _, ranges = entry.partition("=")
        if day.lower()[:3] not in WEEKDAY_KEYS:
            raise click.BadParameter(f"{day!r} is not a weekday (mon..sun)", param_hint="--hours")
        try:
            values.weekly_hours[str(WEEKDAY_KEYS.index(day.lower()[:3]))] = parse_ranges(ranges)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--hours") from error
    for name, value in (
        ("call_minutes", call_minutes),
        ("buffer_minutes", buffer_minutes),
        ("horizon_days", horizon_days),
    ):
        if value is not None:
            setattr(values, name, value)
    if notice_hours is not None:
        values.min_notice_minutes = round(notice_hours * 60)
    if daily_limit is not None:
        values.daily_limit = daily_limit or None
    values.dates_off = ([] if clear_days_off else values.dates_off) + list(days_off)
    try:
        save_values(db.session, values)
        if location is not None:
            save_location(db.session, location)
    except AvailabilityError as error:
        raise click.ClickException(str(error)) from error
    except LocationError as error:
        raise click.BadParameter(str(error), param_hint="--location") from error
    db.session.commit()
    click.echo("Availability saved.")
