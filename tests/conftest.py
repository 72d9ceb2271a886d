"""Fixtures shared by the whole suite (flaskr style: app, client, runner).

The database is chosen by TEST_DATABASE_URL: empty means SQLite, a postgresql URL means
that server. Either way the schema is built once per run by the Alembic migrations (never
`create_all`), and every test starts from it with no rows in any table.
"""

import os
import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import create_app
from config import normalise_database_url
from extensions import db

pytest_plugins = ["tests.mail_fixtures"]

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
    }


def migrate_to_head(database_url: str) -> None:
    app = create_app(base_settings(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def reset_postgres_schema(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """A database at the newest migration: a template file on SQLite, the server on PostgreSQL."""
    if ON_POSTGRES:
        reset_postgres_schema(TEST_DATABASE_URL)
        migrate_to_head(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    template = tmp_path_factory.mktemp("db") / "template.sqlite3"
    migrate_to_head(f"sqlite:///{template}")
    return str(template)


def empty_postgres_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
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
def app(settings):
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
