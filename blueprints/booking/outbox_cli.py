"""`flask outbox send` (one pass) and `flask outbox worker` (a loop): the outbox's senders.

Run the worker beside the web processes; any number of workers may run, since each
message is claimed before it is sent. The worker also reads the owner's calendar feeds
(every CALENDAR_SYNC_SECONDS per feed, each feed claimed by one worker), after the mail
of a pass and apart from it: a calendar that fails never holds back an email.
"""

import logging
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from domain.calendar.sync import sync_calendars
from domain.mail.mailer import Mailer, mailer_from_config
from domain.mail.outbox import SendReport, run_worker, send_due_with_settings
from extensions import db

outbox_cli = AppGroup("outbox", help="Send the emails waiting in the outbox.")
log = logging.getLogger(__name__)
# How often the worker looks for calendar feeds that are due; each feed itself is read
# once per CALENDAR_SYNC_SECONDS, so a feed is at most this much late.
CALENDAR_CHECK_SECONDS = 30.0


def send_pass(mailer: Mailer, limit: int, now: datetime | None = None) -> SendReport:
    try:
        return send_due_with_settings(
            db.session, current_app.config, now=now or datetime.now(UTC), limit=limit, mailer=mailer
        )
    finally:
        # A fresh session per pass: nothing stale is kept, and a failed pass rolls back.
        db.session.remove()


@outbox_cli.command("send")
@click.option("--limit", default=100, show_default=True, help="Most messages to send.")
@click.option(
    "--now",
    "clock",
    metavar="ISO-TIME",
    help="Send as if it were this moment (e.g. 2026-12-03T12:00:00+00:00): what is due then "
    "goes out. For trying timed emails such as the brief; a time without a zone is UTC.",
)
def send_command(limit: int, clock: str | None) -> None:
    """Send every message that is due, once, and print what happened."""
    report = send_pass(mailer_from_config(current_app.config), limit, parse_clock(clock))
    click.echo(str(report))


def parse_clock(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise click.BadParameter("use an ISO time like 2026-12-03T12:00:00+00:00") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def stop_on_signals(stop: threading.Event) -> None:
    """The first Ctrl+C or SIGTERM finishes the message in hand; a second one interrupts."""

    def request_stop(signum, _frame):
        stop.set()
        signal.signal(
            signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
        )

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)


class CalendarPasses:
    """Calls the calendar pass when CALENDAR_CHECK_SECONDS have gone by; never raises."""

    def __init__(self, settings, every: float = CALENDAR_CHECK_SECONDS):
        self.settings = settings
        self.every = every
        self.next_at = 0.0  # the first worker pass reads the calendars at once

    def run_if_due(self) -> None:
        if time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + self.every
        period = timedelta(seconds=self.settings["CALENDAR_SYNC_SECONDS"])
        try:
            sync_calendars(db.session, self.settings, now=datetime.now(UTC), period=period)
        except Exception:  # the mail goes on; the feeds keep their last good copy
            log.exception("calendar pass failed; trying again in %s s", self.every)
        finally:
            db.session.remove()


@outbox_cli.command("worker")
@click.option(
    "--interval", default=5.0, show_default=True, type=float, help="Seconds between passes."
)
@click.option("--limit", default=100, show_default=True, help="Most messages per pass.")
def worker_command(interval: float, limit: int) -> None:
    """Send due messages every INTERVAL seconds until interrupted."""
    mailer = mailer_from_config(current_app.config)
    stop = threading.Event()
    stop_on_signals(stop)
    click.echo(f"outbox worker: a pass every {interval:g} s through {mailer!r}; Ctrl+C stops")
    calendars = CalendarPasses(current_app.config)

    def one_pass() -> SendReport:
        try:
            return send_pass(mailer, limit)
        finally:
            calendars.run_if_due()

    passes = run_worker(one_pass, interval=interval, stop=stop)
    click.echo(f"outbox worker stopped after {passes} pass(es)")
