"""One production stack for the stack tests, started by `make stack`'s own script.

Its own ports, folder and PostgreSQL database (`stack_test_<pid>`, dropped at the end), a
Redis database number claimed for this run (tests/outage.py), mail to a loopback SMTP sink
(tests/mail_fixtures.py); every other setting is the stack's production default. The
owner's hours are opened wide (every day 08:00–20:00, 30-minute calls, 24 h notice), so
the tests find free times: that is data in the database, not a setting.
"""

import os
import re
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest

from app import create_app
from extensions import db
from tests.conftest import base_settings
from tests.mail_fixtures import LoopbackSMTPServer
from tests.stack.harness import (
    database_url_named,
    drop_database,
    port_is_closed,
    running_stack,
)

OWNER_EMAIL = "saed@intelligence-library.co.uk"
MAIL_FROM = "Saed Shafane <calls@intelligence-library.co.uk>"


@pytest.fixture(scope="session")
def mail_sink():
    server = LoopbackSMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def stack_database():
    url = database_url_named(f"stack_test_{os.getpid()}")
    drop_database(url)  # left over by a run that died
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def stack_settings(stack_database, redis_database, mail_sink) -> dict[str, str]:
    return {
        "DATABASE_URL": stack_database,
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_database}",
        "SMTP_HOST": mail_sink.host,
        "SMTP_PORT": str(mail_sink.port),
        "OWNER_EMAIL": OWNER_EMAIL,
        "MAIL_FROM": MAIL_FROM,
    }


@pytest.fixture(scope="session")
def stack(stack_settings):
    with running_stack(stack_settings) as stack:
        open_every_day(stack.database_url)
        yield stack
    # Stopped with SIGTERM, and no process of it left (running_stack checks): its ports too.
    for port in (stack.http_port, stack.https_port, *stack.app_ports):
        assert port_is_closed(port), f"port {port} still answers after the stack stopped"


@pytest.fixture(scope="session")
def stack_app(stack):
    """The app on the stack's database, to read and prepare it as the owner's tools would."""
    app = create_app(base_settings(stack.database_url))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def open_every_day(database_url: str) -> None:
    from domain.availability import AvailabilityValues, save_values

    app = create_app(base_settings(database_url))
    with app.app_context():
        save_values(
            db.session,
            AvailabilityValues(
                timezone="Europe/London",
                weekly_hours={str(day): [["08:00", "20:00"]] for day in range(7)},
                call_minutes=30,
                buffer_minutes=0,
                min_notice_minutes=24 * 60,
                horizon_days=14,
                daily_limit=None,
                dates_off=[],
            ),
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def free_slots(stack_app, count: int) -> list[str]:
    """`count` free times (UTC, as the form sends them), spread over the days ahead."""
    from domain.availability import load_rules
    from domain.booking import busy_bookings
    from domain.slots import available_slots

    now = datetime.now(UTC)
    with stack_app.app_context():
        rules = load_rules(db.session)
        slots = available_slots(rules, busy_bookings(db.session, rules, now), now)
        db.session.remove()
    # Not the first hours: those may pass the minimum notice during the test.
    later = [moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in slots[8:]]
    assert len(later) >= count, f"only {len(later)} free times"
    step = max(len(later) // count, 1)
    return later[::step][:count]


def slot_links(html: str) -> list[str]:
    return [unquote(slot) for slot in re.findall(r"slot=([0-9T%A-Z:\-]+Z)", html)]
