"""The application factory, configuration, health check and schema."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import config as settings
from extensions import db
from models import modelled_name

MODELLED = {"include_name": modelled_name}  # SQLite's FTS5 search tables are not models


def test_production_refuses_the_default_secret_key(monkeypatch):
    from app import create_app

    monkeypatch.setattr(settings.ProductionConfig, "SECRET_KEY", settings.DEV_SECRET_KEY)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(settings.ProductionConfig)


def test_production_starts_with_production_settings(monkeypatch, database_url):
    from app import create_app
    from tests.test_production_config import READY

    for name, value in {**READY, "DATABASE_URL": database_url}.items():
        monkeypatch.setattr(settings.ProductionConfig, name, value)
    app = create_app(settings.ProductionConfig)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_postgres_urls_use_psycopg_three():
    assert settings.normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert settings.normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_says_503_when_the_database_is_unreachable(settings, tmp_path):
    from app import create_app

    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": unreachable})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_migrations_build_exactly_the_models(app):
    """A model change without its migration fails here."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=MODELLED)
        assert compare_metadata(context, db.metadata) == []


def test_every_migration_downgrades_and_upgrades_again(app):
    from flask_migrate import downgrade, upgrade

    with app.app_context():
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=MODELLED)
            assert compare_metadata(context, db.metadata) == []
