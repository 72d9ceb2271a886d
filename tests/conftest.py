"""Fixtures shared by the whole suite (flaskr style: app, client, runner).

The database is chosen by TEST_DATABASE_URL: empty means SQLite, a postgresql URL means
that server. Either way the schema is built once per run by the Alembic migrations (never
`create_all`), and every test starts from it with no rows in any table.
"""

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

# Importing `app` builds its module-level app, and an unset APP_ENV means production, which
# refuses to start without production settings. The tests' own apps are TestConfig.
os.environ["APP_ENV"] = "development"
# The tests' own apps count in memory (prometheus-client picks its mode at import); the
# multiprocess mode is tested through real gunicorn servers.
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

from app import create_app  # noqa: E402
from config import normalise_database_url  # noqa: E402
from extensions import db  # noqa: E402

pytest_plugins = [
    "tests.mail_fixtures",
    "tests.outage",
    "tests.radicale_fixtures",
    "tests.feed_server",
]

TEST_DATABASE_URL = normalise_database_url(os.environ.get("TEST_DATABASE_URL", "").strip())
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


def pytest_report_header(config):
    return f"database: {'PostgreSQL ' + TEST_DATABASE_URL if ON_POSTGRES else 'SQLite'}"


def base_settings(database_url: str) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SITE_URL": "https://example.test",
        "WTF_CSRF_ENABLED": False,
        "COUNTER_FLUSH_SECONDS": 0,
        "OUTBOX_SEND_INLINE": False,
        # Every test client books from 127.0.0.1; the caps have tests of their own.
        "BOOKING_MAX_UPCOMING_PER_EMAIL": 1000,
        "BOOKING_MAX_UPCOMING_PER_CLIENT": 1000,
    }


def migrate_to_head(database_url: str) -> None:
    app = create_app(base_settings(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def with_search_path(database_url: str, schema: str) -> str:
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}options=-csearch_path%3D{schema}"


def create_schema(database_url: str, schema: str, *, drop: bool = False) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        if not drop:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """A database at the newest migration: a template file on SQLite, a schema on PostgreSQL.

    Each run gets its own PostgreSQL schema, so two runs against one server never collide.
    """
    if ON_POSTGRES:
        schema = f"test_run_{os.getpid()}"
        create_schema(TEST_DATABASE_URL, schema)
        url = with_search_path(TEST_DATABASE_URL, schema)
        migrate_to_head(url)
        yield url
        create_schema(TEST_DATABASE_URL, schema, drop=True)
        return
    template = tmp_path_factory.mktemp("db") / "template.sqlite3"
    migrate_to_head(f"sqlite:///{template}")
    yield str(template)


def empty_postgres_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{name}"' for name in tables)
        if names:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(migrated_database, tmp_path) -> str:
    if ON_POSTGRES:
        empty_postgres_tables(migrated_database)
        return migrated_database
    copy = tmp_path / "test.sqlite3"
    shutil.copyfile(migrated_database, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def settings(database_url) -> dict:
    """Settings for the test's app; a test may change them before asking for `app`."""
    return base_settings(database_url)


@pytest.fixture
def app(settings, request):
    if "database_outage" in request.fixturenames:  # the app reaches its database through it
        settings = settings | request.getfixturevalue("database_outage").settings
    app = create_app(settings)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seed_slug() -> str:
    return "ai-systems-architect-vs-ai-engineer"


@pytest.fixture
def content_dir(tmp_path) -> Path:
    """An empty content folder a test can fill with article files."""
    folder = tmp_path / "articles"
    folder.mkdir()
    return folder


SEED_ARTICLE = Path(__file__).resolve().parents[1] / "content" / "articles"


@pytest.fixture
def seed_article_path(seed_slug) -> Path:
    return SEED_ARTICLE / f"{seed_slug}.md"


def copy_seed(into: Path, slug: str = "ai-systems-architect-vs-ai-engineer") -> Path:
    target = into / f"{slug}.md"
    shutil.copyfile(SEED_ARTICLE / "ai-systems-architect-vs-ai-engineer.md", target)
    return target


ARTICLE_SLUG = "ai-systems-architect-vs-ai-engineer"
VALID_ANSWERS = {
    "name": "Ada Lovelace",
    "email": "ada@analytical-engines.co.uk",
    "company": "Analytical Engines Ltd",
    "role": "Chief Technology Officer",
    "company_size": "51-200",
    "situation": ["architect-01", "architect-05"],
    "message": "We run AI pilots in three departments and none of them build on each other.",
    "consent": "y",
}


class Visitor:
    """A reader who books through the real pages, as a browser without JavaScript would."""

    def __init__(self, client, timezone="Europe/London"):
        self.client = client
        self.timezone = timezone

    def free_slots(self, article=ARTICLE_SLUG, days_ahead: int = 3) -> list[str]:
        """The free times the picker offers on the visitor's day `days_ahead` from today."""
        import re
        from datetime import datetime, timedelta
        from urllib.parse import unquote
        from zoneinfo import ZoneInfo

        day = (datetime.now(ZoneInfo(self.timezone)) + timedelta(days=days_ahead)).date()
        html = self.client.get(
            "/book",
            query_string={"article": article, "timezone": self.timezone, "day": day.isoformat()},
        ).get_data(as_text=True)
        return [unquote(s) for s in re.findall(r"slot=([0-9T%A-Z:\-]+Z)", html)]

    def form_for(self, slot: str, article=ARTICLE_SLUG) -> dict:
        import re

        html = self.client.get(
            "/book", query_string={"article": article, "timezone": self.timezone, "slot": slot}
        ).get_data(as_text=True)
        hidden = {}
        for name in ("slot", "timezone", "rendered", "submission_key", "csrf_token"):
            tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
            if tag:
                hidden[name] = re.search(r'value="([^"]*)"', tag.group(0)).group(1)
        return hidden

    def book(self, slot: str | None = None, article=ARTICLE_SLUG, **answers):
        """Fill the form for a free time, then post it with `slot` (any text) if given."""
        data = {**self.form_for(self.free_slots(article)[0], article), **VALID_ANSWERS, **answers}
        if slot is not None:
            data["slot"] = slot
        data = {key: value for key, value in data.items() if value is not None}
        return self.client.post("/book", query_string={"article": article}, data=data)


@pytest.fixture
def open_hours(app):
    """Calls every day 08:00–20:00 London, 30 min, no buffer, 24 h notice: always some slots."""
    from domain.booking.availability import AvailabilityValues, save_values

    values = AvailabilityValues(
        timezone="Europe/London",
        weekly_hours={str(day): [["08:00", "20:00"]] for day in range(7)},
        call_minutes=30,
        buffer_minutes=0,
        min_notice_minutes=24 * 60,
        horizon_days=14,
        daily_limit=None,
        dates_off=[],
    )
    with app.app_context():
        save_values(db.session, values)
        db.session.commit()
    return values


@pytest.fixture
def visitor(client, open_hours):
    return Visitor(client)


OWNER_EMAIL = "saed@example.test"
OWNER_PASSWORD = "correct horse battery staple"


@pytest.fixture
def owner_account(app):
    from domain.accounts.owners import create_or_reset_owner

    with app.app_context():
        create_or_reset_owner(db.session, OWNER_EMAIL, OWNER_PASSWORD)
        db.session.commit()
    return OWNER_EMAIL


@pytest.fixture
def owner(client, owner_account):
    """The test client, logged in as the owner."""
    response = client.post("/owner/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def call_row(starts_at, minutes: int = 30, **fields):
    """A Booking written straight to the database, for times the pages would not offer."""
    import uuid

    from models import Booking

    values = {
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=minutes),
        "blocked_until": starts_at + timedelta(minutes=minutes),
        "status": "active",
        "visitor_timezone": "Europe/London",
        "owner_timezone": "Europe/London",
        "name": "Ada Lovelace",
        "email": "ada@analytical-engines.co.uk",
        "company": "Analytical Engines Ltd",
        "role": "Chief Technology Officer",
        "company_size": "51-200",
        "consent_version": "v1",
        "situation": [],
        "message": "",
        "attribution": {},
        "fit_score": 50,
        "suggested_engagement": "architect",
        "submission_key": uuid.uuid4().hex,
        **fields,
    }
    return Booking(**values)


@dataclass
class TwoFactor:
    secret: str
    recovery_codes: list[str]

    def code(self) -> str:
        import pyotp

        return pyotp.TOTP(self.secret).now()

    def next_code(self) -> str:
        """The next step's code: accepted now (one step of leeway), and later than now's."""
        import time

        import pyotp

        return pyotp.TOTP(self.secret).at(time.time() + 30)


@pytest.fixture
def two_factor(app, owner_account) -> TwoFactor:
    """The owner's account with two-factor sign-in on."""
    import pyotp
    from sqlalchemy import select

    from domain.accounts.two_factor import replace_recovery_codes
    from models import Owner

    secret = pyotp.random_base32()
    with app.app_context():
        owner = db.session.scalar(select(Owner))
        owner.totp_secret = secret
        owner.totp_enabled_at = datetime.now(UTC)
        codes = replace_recovery_codes(db.session, owner, datetime.now(UTC))
        db.session.commit()
    return TwoFactor(secret, codes)


def log_in(client, password=OWNER_PASSWORD, email=OWNER_EMAIL, ip="127.0.0.1", **kwargs):
    """The password step of the owner's login, from `ip`."""
    return client.post(
        "/owner/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
        **kwargs,
    )


def give_code(client, code: str, ip="127.0.0.1"):
    """The code step of the owner's login, from `ip`."""
    return client.post("/owner/login/code", data={"code": code}, environ_base={"REMOTE_ADDR": ip})
