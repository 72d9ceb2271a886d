"""Production fails closed: with APP_ENV unset the app is production, and production refuses
to start, naming every missing or unsafe setting, until each is set (or chosen on purpose).

The checks run on plain settings; start-up itself runs in a fresh interpreter with exactly
the environment a server would give it (no `.env`, nothing inherited from this shell).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import production_problems

PROJECT_ROOT = Path(__file__).resolve().parents[1]
READY = {
    "SECRET_KEY": "kP3v9QxW2mZr7TbY5nLd8HsJ4fGc6AeU1oVi0wXq",
    "SITE_URL": "https://shafane.consulting",
    "DATABASE_URL": "postgresql+psycopg://app@db.internal/library",
    "SMTP_HOST": "smtp.mailhost.net",
    "MAIL_BACKEND": "",
    "RATELIMIT_STORAGE_URI": "redis://cache.internal:6379/0",
    "OWNER_EMAIL": "saed@shafane.consulting",
    "MAIL_FROM": "Saed Shafane <calls@shafane.consulting>",
}


def start(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Import `app` (what gunicorn does) in a fresh interpreter; print what it became."""
    show = (
        "import json, app; c = app.app.config; print(json.dumps({'debug': app.app.debug, "
        "'env': c['APP_ENV'], 'secure': [c.get('SESSION_COOKIE_SECURE'), "
        "c.get('REMEMBER_COOKIE_SECURE'), c.get('REMEMBER_COOKIE_HTTPONLY'), "
        "c.get('REMEMBER_COOKIE_SAMESITE')]}))"
    )
    base = {"PATH": os.environ["PATH"], "FLASK_SKIP_DOTENV": "1", "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", show],
        cwd=PROJECT_ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_ready_production_settings_pass():
    assert production_problems(READY) == []


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"SECRET_KEY": "dev-only-not-secret"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short-but-random-Zq81"}, "SECRET_KEY"),
        ({"SECRET_KEY": "x" * 64}, "SECRET_KEY"),
        ({"SECRET_KEY": "abcd" * 16}, "SECRET_KEY"),
        ({"SITE_URL": "http://127.0.0.1:5000"}, "SITE_URL"),
        ({"SITE_URL": "https://"}, "SITE_URL"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"SMTP_HOST": ""}, "SMTP_HOST"),
        ({"MAIL_BACKEND": "carrier-pigeon"}, "MAIL_BACKEND"),
        ({"RATELIMIT_STORAGE_URI": ""}, "REDIS_URL"),
        ({"OWNER_EMAIL": "owner@example.com"}, "OWNER_EMAIL"),
        ({"MAIL_FROM": "Saed Shafane <calls@example.com>"}, "MAIL_FROM"),
        ({"MAIL_FROM": "calls@mail.example.org"}, "MAIL_FROM"),
        ({"METRICS_TOKEN": "secret"}, "METRICS_TOKEN"),
        ({"METRICS_TOKEN": "m" * 40}, "METRICS_TOKEN"),
    ],
)
def test_each_missing_or_unsafe_setting_is_refused_by_name(changes, named):
    (problem,) = production_problems(READY | changes)
    assert problem.startswith(f"{named}:")


@pytest.mark.parametrize(
    "on_purpose",
    [
        {"SMTP_HOST": "", "MAIL_BACKEND": "log"},
        {"RATELIMIT_STORAGE_URI": "memory://"},
        {"DATABASE_URL": "sqlite:////srv/library/library.sqlite3"},
        {"METRICS_TOKEN": ""},  # metrics for loopback only
        {"METRICS_TOKEN": "Jx7rK2pQ9vLm4TzW8nYb3HdF6gSa1CeU5oRi0tXk"},
    ],
)
def test_a_weaker_choice_made_on_purpose_is_accepted(on_purpose):
    assert production_problems(READY | on_purpose) == []


def test_with_app_env_unset_a_bare_environment_refuses_to_start_naming_everything(tmp_path):
    started = start({}, tmp_path)
    assert started.returncode != 0
    error = started.stderr.strip().splitlines()
    assert "Production refuses to start" in started.stderr
    for setting in ("SECRET_KEY", "SITE_URL", "DATABASE_URL", "SMTP_HOST", "REDIS_URL",
                    "OWNER_EMAIL", "MAIL_FROM"):  # fmt: skip
        assert any(line.strip().startswith(f"- {setting}:") for line in error), setting


def test_with_app_env_unset_ready_settings_start_as_production_without_debug(tmp_path):
    env = {**READY, "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}"}
    env["REDIS_URL"] = env.pop("RATELIMIT_STORAGE_URI")
    started = start(env, tmp_path)
    assert started.returncode == 0, started.stderr
    shown = json.loads(started.stdout.strip().splitlines()[-1])
    assert shown == {"debug": False, "env": "production", "secure": [True, True, True, "Lax"]}


def test_development_starts_on_a_bare_machine(tmp_path):
    started = start({"APP_ENV": "development"}, tmp_path)
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout.strip().splitlines()[-1])["debug"] is True


def test_mail_backend_log_writes_to_the_log_even_with_a_mail_server():
    from domain.mail.mailer import LogMailer, mailer_from_config

    assert isinstance(mailer_from_config({"SMTP_HOST": "smtp.x", "MAIL_BACKEND": "log"}), LogMailer)
