"""The checks behind /healthz and /readyz, as plain functions over a session and settings.

Each check says "ok", "failed", "not used" (the app is not set up to use that part) or
"not checked" (it could not be asked, e.g. the outbox while the database is down). Only
"failed" makes an answer 503. A failure is named by its kind of error, never by a URL or
message that could hold a password.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import text
from sqlalchemy.orm import Session

from domain.mail.outbox_health import outbox_health
from domain.platform.database import rollback_quietly

OK, FAILED, NOT_USED, NOT_CHECKED = "ok", "failed", "not used", "not checked"
# limits' names for Redis, and the scheme redis-py knows each by.
REDIS_SCHEMES = {"redis://": "redis://", "rediss://": "rediss://", "redis+unix://": "unix://"}


@dataclass(frozen=True)
class Check:
    name: str
    state: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.state == FAILED


def answer(checks: list[Check]) -> tuple[dict[str, Any], int]:
    """The JSON body and status: 200 when no check failed, else 503 naming the failures."""
    failed = [check.name for check in checks if check.failed]
    body = {
        "status": "unavailable" if failed else "ok",
        "failed": failed,
        "checks": {check.name: {"state": check.state, **check.details} for check in checks},
    }
    return body, 503 if failed else 200


def database_check(session: Session) -> Check:
    """One `SELECT 1`: the cheapest question the database must answer."""
    try:
        session.execute(text("SELECT 1"))
        session.rollback()  # end the transaction: a probe holds nothing open
    except Exception as error:
        rollback_quietly(session)
        return Check("database", FAILED, {"error": type(error).__name__})
    return Check("database", OK)


def redis_url(storage_uri: str) -> str | None:
    """redis-py's URL for the rate-limit storage, or None when that is not a Redis."""
    for scheme, redis_scheme in REDIS_SCHEMES.items():
        if storage_uri.startswith(scheme):
            return redis_scheme + storage_uri[len(scheme) :]
    return None


def redis_check(storage_uri: str, timeout: float) -> Check:
    """A PING to the Redis the rate limits are kept in; one attempt, a short timeout.

    memory:// is "not used"; another storage limits supports (Sentinel, Cluster, Memcached,
    MongoDB) is "not checked".
    """
    if not storage_uri or storage_uri.startswith("memory://"):
        return Check("redis", NOT_USED)
    url = redis_url(storage_uri)
    if url is None:
        return Check("redis", NOT_CHECKED, {"storage": storage_uri.partition("://")[0]})
    client = redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        return Check("redis", FAILED, {"error": type(error).__name__})
    finally:
        client.close()
    return Check("redis", OK)


def outbox_check(
    session: Session, now: datetime, *, limit_seconds: float, database_ok: bool
) -> Check:
    """Failed when a due message has waited longer than `limit_seconds` (no sender is
    keeping up). Messages that failed for good are reported but never fail it: they wait
    for the owner, not for a server, and taking servers out of service would not help."""
    if not database_ok:
        return Check("outbox", NOT_CHECKED)
    try:
        health = outbox_health(session, now)
        session.rollback()
    except Exception as error:
        rollback_quietly(session)
        return Check("outbox", NOT_CHECKED, {"error": type(error).__name__})
    details = {
        "oldest_due_seconds": round(health.oldest_due_seconds),
        "limit_seconds": limit_seconds,
        "failed_messages": health.failed,
    }
    return Check("outbox", FAILED if health.lagging(limit_seconds) else OK, details)
