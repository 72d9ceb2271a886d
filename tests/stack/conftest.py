"""One production stack for the stack tests, started by `make stack`'s own script.

Its own ports, folder and PostgreSQL database (`stack_test_<pid>`, dropped at the end), a
Redis database number claimed for this run (tests/outage.py), mail to a loopback SMTP sink
(tests/mail_fixtures.py); every other setting is the stack's production default. The
owner's hours are opened wide (tests/stack/load.py), so the tests find free times: that
is data in the database, not a setting.
"""

import os

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
from tests.stack.load import open_every_day

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
