"""Settings read from the environment, one class per mode.

A `.env` file is honoured (python-dotenv), read here before any setting is, unless
FLASK_SKIP_DOTENV=1. Defaults make `make run` work on a bare machine. With APP_ENV unset
the app runs as production, which refuses to start, naming every setting, when anything
it needs is missing or unsafe (`production_problems`).
"""

import os
from collections.abc import Mapping
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET_KEY = "dev-only-not-secret"
TEST_SECRET_KEY = "test-secret-key"
SECRET_KEY_MIN_LENGTH = 32
# Reserved names (RFC 2606): mail to them never reaches anyone.
RESERVED_DOMAINS = ("example.com", "example.org", "example.net", "example", "invalid", "test")
MAIL_BACKENDS = ("", "smtp", "log")
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")

if os.environ.get("FLASK_SKIP_DOTENV", "") not in ("1", "true", "yes"):
    load_dotenv()


def _sqlite_url_in(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "library.sqlite3")


def normalise_database_url(url: str) -> str:
    """Let the common `postgres://` and `postgresql://` forms use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    APP_ENV = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    DATABASE_URL = os.environ.get("DATABASE_URL")  # None: SQLite file in the instance folder
    SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:5000").rstrip("/")
    SITE_NAME = os.environ.get("SITE_NAME", "Saed Shafane · Intelligence Library")
    CONTENT_DIR = os.environ.get("CONTENT_DIR", str(BASE_DIR / "content" / "articles"))
    # Page-view counters are buffered in memory and written in one statement at most
    # this often, so the article page never waits on a write per view.
    COUNTER_FLUSH_SECONDS = float(os.environ.get("COUNTER_FLUSH_SECONDS", "5"))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Nothing is uploaded: the longest form (a booking with a 2,000-character message, or
    # 1,000 lead ids in a bulk change) is a few KB. A larger body is refused with 413.
    # Werkzeug's own form limits (500 KB a field, 1,000 multipart parts) cannot be reached
    # within it; the field limit follows it, should it ever be raised.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(64 * 1024)))
    MAX_FORM_MEMORY_SIZE = MAX_CONTENT_LENGTH
    # A 503 (the database cannot be reached) asks clients to try again after this long.
    RETRY_AFTER_SECONDS = int(os.environ.get("RETRY_AFTER_SECONDS", "30"))

    # Mail. With no SMTP_HOST, messages are written to the log instead (development);
    # MAIL_BACKEND=log chooses the log even with one (and lets production run without).
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "").strip().lower()
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = env_flag("SMTP_STARTTLS", False)
    SMTP_SSL = env_flag("SMTP_SSL", False)
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", "10"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "Saed Shafane <calls@example.com>")
    OWNER_EMAIL = os.environ.get("OWNER_EMAIL", "owner@example.com")
    OWNER_NAME = os.environ.get("OWNER_NAME", "Saed Shafane")
    # The owner's brief goes out this many hours before each call (0 sends it at booking).
    BRIEF_HOURS_BEFORE = float(os.environ.get("BRIEF_HOURS_BEFORE", "2"))
    # Where to report a vulnerability (/.well-known/security.txt): OWNER_EMAIL if unset.
    SECURITY_CONTACT = os.environ.get("SECURITY_CONTACT", "")
    # Try to send a booking's emails right after it commits (a background thread); the
    # outbox worker remains the durable path for anything that did not go out.
    OUTBOX_SEND_INLINE = env_flag("OUTBOX_SEND_INLINE", True)
    # Rate limits are shared across processes when REDIS_URL is set.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis going away must not cost a visitor a 500: each process falls back to its own
    # memory (and logs it) until Redis answers again; any other limiter error is logged
    # and the request goes on. A dead Redis costs a request about two socket timeouts.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    REDIS_TIMEOUT_SECONDS = float(os.environ.get("REDIS_TIMEOUT_SECONDS", "1"))
    BOOKING_RATE_LIMIT = os.environ.get("BOOKING_RATE_LIMIT", "10 per minute;40 per hour")
    # Upcoming calls one address, and one client (by network address), may hold at once.
    BOOKING_MAX_UPCOMING_PER_EMAIL = int(os.environ.get("BOOKING_MAX_UPCOMING_PER_EMAIL", "2"))
    BOOKING_MAX_UPCOMING_PER_CLIENT = int(os.environ.get("BOOKING_MAX_UPCOMING_PER_CLIENT", "3"))
    # "Send me my booking links": per client, and per address so no mailbox is flooded.
    LINKS_RATE_LIMIT = os.environ.get("LINKS_RATE_LIMIT", "5 per hour")
    LINKS_PER_ADDRESS_LIMIT = os.environ.get("LINKS_PER_ADDRESS_LIMIT", "3 per hour")
    # A human needs a few seconds to fill the form; a faster submission is a bot.
    BOOKING_MIN_SECONDS = float(os.environ.get("BOOKING_MIN_SECONDS", "3"))
    EMAIL_CHECK_DELIVERABILITY = env_flag("EMAIL_CHECK_DELIVERABILITY", False)
    # How many proxies in front of the app set X-Forwarded-For (for the client's IP).
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
    # /metrics answers loopback clients, and others that send `Authorization: Bearer` this
    # token; unset, loopback only. /readyz fails when a due email has waited this long.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    READY_OUTBOX_LAG_SECONDS = float(os.environ.get("READY_OUTBOX_LAG_SECONDS", "900"))
    # The owner's calendar feeds: read every CALENDAR_SYNC_SECONDS by the outbox worker.
    # Feeds at private or loopback addresses are refused (a feed URL must not reach into
    # the server's own network) unless this is true: tests, or a Nextcloud on the LAN.
    CALENDAR_ALLOW_PRIVATE = env_flag("CALENDAR_ALLOW_PRIVATE", False)
    CALENDAR_SYNC_SECONDS = float(os.environ.get("CALENDAR_SYNC_SECONDS", "300"))
    CALENDAR_FETCH_SECONDS = float(os.environ.get("CALENDAR_FETCH_SECONDS", "15"))
    # Keeps the visitor's first touch (attribution) for 90 days.
    PERMANENT_SESSION_LIFETIME = timedelta(days=90)
    # Send the cookie only when it changes, not on every page a reader opens.
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # The owner's login never sets Flask-Login's remember cookie; were it ever set, it
    # would be HttpOnly, SameSite and (in production) Secure like the session.
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # The owner's CalDAV calendar (Fastmail, iCloud, Nextcloud), read for busy times and
    # written with each call. Off while CALDAV_URL is empty. CALDAV_CALENDAR is the
    # calendar's display name, as the owner's calendar app shows it.
    CALDAV_URL = os.environ.get("CALDAV_URL", "").strip()
    CALDAV_USERNAME = os.environ.get("CALDAV_USERNAME", "")
    CALDAV_PASSWORD = os.environ.get("CALDAV_PASSWORD", "")
    CALDAV_CALENDAR = os.environ.get("CALDAV_CALENDAR", "").strip()
    CALDAV_TIMEOUT = float(os.environ.get("CALDAV_TIMEOUT", "15"))
    WTF_CSRF_TIME_LIMIT = None
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    APP_ENV = "development"
    DEBUG = True


class TestConfig(Config):
    APP_ENV = "testing"
    TESTING = True
    SECRET_KEY = TEST_SECRET_KEY
    COUNTER_FLUSH_SECONDS = 0
    OUTBOX_SEND_INLINE = False
    BOOKING_MIN_SECONDS = 0
    RATELIMIT_ENABLED = env_flag("RATELIMIT_ENABLED", True)
    DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


class ProductionConfig(Config):
    # Per-process memory only when chosen: RATELIMIT_STORAGE_URI=memory:// on purpose.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or Config.REDIS_URL
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


class UnsafeProductionSettings(RuntimeError):
    """Production was asked to start without what it needs; the message names each setting."""


def production_problems(config: Mapping[str, Any]) -> list[str]:
    """Every missing or unsafe production setting, each named, with what to set instead."""
    checks = (
        (secret_key_is_random(config.get("SECRET_KEY") or ""), "SECRET_KEY: set a random "
         "value of at least 32 characters, e.g. python -c 'import secrets; "
         "print(secrets.token_urlsafe(48))'"),
        (is_https_url(config.get("SITE_URL") or ""), "SITE_URL: set the site's public "
         "https:// address; links in emails and calendar invites are built from it"),
        (bool(config.get("DATABASE_URL")), "DATABASE_URL: set it explicitly "
         "(postgresql://…, or sqlite:///… on purpose)"),
        (bool(config.get("SMTP_HOST")) or config.get("MAIL_BACKEND") == "log", "SMTP_HOST: "
         "set the mail server, or MAIL_BACKEND=log to write emails to the log on purpose"),
        (config.get("MAIL_BACKEND", "") in MAIL_BACKENDS, "MAIL_BACKEND: smtp or log"),
        (bool(config.get("RATELIMIT_STORAGE_URI")), "REDIS_URL: set it so every worker "
         "shares the rate limits, or RATELIMIT_STORAGE_URI=memory:// for per-process "
         "limits on purpose (they multiply with the workers)"),
        (is_real_address(config.get("OWNER_EMAIL") or ""), "OWNER_EMAIL: set the address "
         "that gets booking notices (not an example.com one)"),
        (is_real_address(config.get("MAIL_FROM") or ""), "MAIL_FROM: set the sender of the "
         "site's emails (not an example.com one)"),
        (not config.get("METRICS_TOKEN") or secret_key_is_random(config["METRICS_TOKEN"]),
         "METRICS_TOKEN: unset (metrics for loopback only) or a random value of at least "
         "32 characters"),
    )  # fmt: skip
    return [problem for passed, problem in checks if not passed] + caldav_problems(config)


def caldav_problems(config: Mapping[str, Any]) -> list[str]:
    """With CALDAV_URL set, each CalDAV setting it needs, and a URL that keeps the password
    off the wire (https, or plain http only to this machine)."""
    url = config.get("CALDAV_URL") or ""
    if not url:
        return []
    needed = {
        "CALDAV_USERNAME": "the CalDAV account's user name",
        "CALDAV_PASSWORD": "the CalDAV password (an app password where the provider has them)",
        "CALDAV_CALENDAR": "the name of the calendar to read and write, as your calendar "
        "app shows it",
    }
    problems = [f"{name}: set {what}" for name, what in needed.items() if not config.get(name)]
    if not is_https_url(url) and not is_loopback_http_url(url):
        problems.append(
            "CALDAV_URL: use https:// (plain http would send the CalDAV password in clear; "
            "it is allowed only to 127.0.0.1, ::1 or localhost)"
        )
    return problems


def check_production(config: Mapping[str, Any]) -> None:
    problems = production_problems(config)
    if problems:
        raise UnsafeProductionSettings(
            "Production refuses to start (APP_ENV=production, or unset). Set:\n  - "
            + "\n  - ".join(problems)
            + "\nor APP_ENV=development to run on this machine."
        )


def secret_key_is_random(key: str) -> bool:
    """Long enough, not a known default, not a character or a short pattern repeated."""
    if len(key) < SECRET_KEY_MIN_LENGTH or key in (DEV_SECRET_KEY, TEST_SECRET_KEY):
        return False
    repeats_a_pattern = any(key == (key[:n] * len(key))[: len(key)] for n in range(1, 9))
    return not repeats_a_pattern and len(set(key)) >= 10


def is_https_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


def is_loopback_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def is_real_address(value: str) -> bool:
    domain = parseaddr(value)[1].rpartition("@")[2].lower().rstrip(".")
    reserved = any(domain == name or domain.endswith("." + name) for name in RESERVED_DOMAINS)
    return bool(domain) and not reserved


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}


def config_for_environment(env: Mapping[str, str] = os.environ) -> type[Config]:
    """The settings APP_ENV names; unset means production, so nothing runs open by mistake."""
    name = env.get("APP_ENV") or "production"
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None
