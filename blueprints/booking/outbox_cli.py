"""`flask outbox send` (one pass) and `flask outbox worker` (a loop): the outbox's senders.

Run the worker beside the web processes; any number of workers may run, since each
message is claimed before it is sent.
"""

import signal
import threading
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import AppGroup

from domain.mail.mailer import Mailer, mailer_from_config
from domain.mail.outbox import SendReport, run_worker, send_due_with_settings
from extensions import db

outbox_cli = AppGroup("outbox", help="Send the emails waiting in the outbox.")


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
    passes = run_worker(lambda: send_pass(mailer, limit), interval=interval, stop=stop)
    click.echo(f"outbox worker stopped after {passes} pass(es)")
