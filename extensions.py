"""Flask extensions, created unbound and bound to the app in app.py."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from observability import Metrics
from outbox_delivery import InlineDelivery

# Named constraints so that Alembic migrations are stable on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
metrics = Metrics()
# Every refusal is counted, whichever limit and route (a callback, not a 429 handler: the
# limit's own text is known here).
limiter = Limiter(key_func=get_remote_address, on_breach=metrics.count_rate_limit_refusal)
login_manager = LoginManager()
outbox_delivery = InlineDelivery()


def rate_limit_storage_options(storage_uri: str, timeout: float) -> dict:
    """For Redis: short socket timeouts and one immediate retry (for a pooled connection
    Redis dropped), instead of redis-py's ten with back-off, so that a dead Redis is found
    out within a request and the limiter falls back to memory."""
    if not storage_uri.startswith(("redis://", "rediss://", "redis+unix://")):
        return {}
    return {
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
        "retry": Retry(NoBackoff(), 1),
    }
