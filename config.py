"""Settings read from the environment, one class per mode.

A `.env` file is honoured in development (python-dotenv, loaded by app.py).
Defaults make `make run` work on a bare machine; production refuses the unsafe ones.
"""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET_KEY = "dev-only-not-secret"


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

    # Mail. With no SMTP_HOST, messages are written to the log instead (development).
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
    # Try to send a booking's emails right after it commits (a background thread); the
    # outbox worker remains the durable path for anything that did not go out.
    OUTBOX_SEND_INLINE = env_flag("OUTBOX_SEND_INLINE", True)
    # Rate limits are shared across processes when REDIS_URL is set.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    BOOKING_RATE_LIMIT = os.environ.get("BOOKING_RATE_LIMIT", "10 per minute;40 per hour")
    # A human needs a few seconds to fill the form; a faster submission is a bot.
    BOOKING_MIN_SECONDS = float(os.environ.get("BOOKING_MIN_SECONDS", "3"))
    EMAIL_CHECK_DELIVERABILITY = env_flag("EMAIL_CHECK_DELIVERABILITY", False)
    # How many proxies in front of the app set X-Forwarded-For (for the client's IP).
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
    # Keeps the visitor's first touch (attribution) for 90 days.
    PERMANENT_SESSION_LIFETIME = timedelta(days=90)
    # Send the cookie only when it changes, not on every page a reader opens.
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    DEBUG = True


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    COUNTER_FLUSH_SECONDS = 0
    OUTBOX_SEND_INLINE = False
    BOOKING_MIN_SECONDS = 0
    RATELIMIT_ENABLED = env_flag("RATELIMIT_ENABLED", True)
    DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True

    @classmethod
    def check(cls) -> None:
        if cls.SECRET_KEY == DEV_SECRET_KEY or len(cls.SECRET_KEY) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production"
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}


def config_for_environment() -> type[Config]:
    name = os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None
