"""/healthz (alive and its database answers) and /readyz (database, Redis, outbox lag):
JSON, never cached, no session or cookie, not a reader's view; 503 names what failed.
Real outages: the database and Redis behind links the tests cut (tests/outage.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from domain.mail.emails import EmailDraft
from domain.mail.outbox import enqueue
from domain.mail.outbox_health import outbox_health
from domain.platform.readiness import redis_check, redis_url
from extensions import db
from models import ArticleDailyStat, OutboxMessage
from tests.conftest import ARTICLE_SLUG

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def queue_email(app, *, due: datetime, status: str = "pending") -> None:
    with app.app_context():
        draft = EmailDraft(to="ada@analytical.example", subject="Your call", body_text="Hello")
        message = enqueue(db.session, draft, kind="visitor_confirmation", send_after=due, now=due)
        message.status = status
        db.session.commit()


def assert_fresh_json(response) -> None:
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_answers_are_fresh_json_that_touch_no_session_and_count_no_view(app, client, path):
    client.get(f"/library/{ARTICLE_SLUG}", query_string={"utm_source": "news"})  # a session
    response = client.get(path)
    assert response.status_code == 200
    assert_fresh_json(response)
    with app.app_context():
        assert db.session.scalar(select(func.sum(ArticleDailyStat.views))) == 1


def test_healthz_names_the_database_while_it_is_down(client, database_outage):
    database_outage.cut()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert_fresh_json(response)
    assert response.get_json() == {
        "status": "error", "database": "unreachable", "failed": ["database"]
    }  # fmt: skip


def test_readyz_is_ready_and_says_redis_is_not_used_with_limits_in_memory(client):
    body = client.get("/readyz").get_json()
    assert body["status"] == "ok" and body["failed"] == []
    assert body["checks"]["database"] == {"state": "ok"}
    assert body["checks"]["redis"] == {"state": "not used"}
    assert body["checks"]["outbox"]["state"] == "ok"
    assert body["checks"]["outbox"]["limit_seconds"] == 900


def test_readyz_says_503_naming_the_database_while_it_is_down(client, database_outage):
    database_outage.cut()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["database"]
    assert body["checks"]["outbox"] == {"state": "not checked"}  # it lives in the database
    database_outage.restore()
    assert client.get("/readyz").status_code == 200


@pytest.fixture
def redis_settings(settings, redis_link):
    settings["RATELIMIT_STORAGE_URI"] = redis_link.url
    return settings


def test_readyz_says_503_naming_redis_while_it_is_cut(redis_settings, redis_link, client):
    assert client.get("/readyz").get_json()["checks"]["redis"] == {"state": "ok"}
    redis_link.cut()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["redis"]
    assert redis_link.url not in response.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200  # the process itself is fine
    redis_link.restore()
    assert client.get("/readyz").status_code == 200


def test_readyz_says_503_when_a_due_email_has_waited_past_the_limit(app, client):
    queue_email(app, due=datetime.now(UTC) - timedelta(minutes=5))
    assert client.get("/readyz").status_code == 200  # late, within the 15 minutes
    queue_email(app, due=datetime.now(UTC) - timedelta(minutes=20))
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["outbox"]
    assert body["checks"]["outbox"]["oldest_due_seconds"] >= 20 * 60


def test_readyz_says_503_when_a_bookings_emails_have_been_owed_past_the_limit(app, client):
    """A booking whose emails nobody composed (its request and every sender died) is mail
    that never leaves: the outbox is late, not healthy."""
    queue_email(app, due=datetime.now(UTC) - timedelta(minutes=20), status="owed")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["outbox"]["oldest_due_seconds"] >= 20 * 60


@pytest.fixture
def one_minute_limit(settings):
    settings["READY_OUTBOX_LAG_SECONDS"] = 60
    return settings


def test_the_outbox_limit_is_a_setting(one_minute_limit, client, app):
    queue_email(app, due=datetime.now(UTC) - timedelta(minutes=5))
    assert client.get("/readyz").get_json()["failed"] == ["outbox"]


def test_emails_that_failed_for_good_are_reported_but_keep_the_service_ready(app, client):
    queue_email(app, due=datetime.now(UTC) - timedelta(days=2), status="failed")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["outbox"]["failed_messages"] == 1


def test_outbox_health_counts_what_waits_and_measures_the_longest_due_wait(app):
    queue_email(app, due=NOW - timedelta(minutes=30))
    queue_email(app, due=NOW - timedelta(minutes=2), status="sending")  # claimed, not sent
    queue_email(app, due=NOW + timedelta(days=3))  # a reminder: waiting, not late
    queue_email(app, due=NOW - timedelta(days=9), status="sent")
    queue_email(app, due=NOW - timedelta(days=9), status="cancelled")
    queue_email(app, due=NOW - timedelta(days=1), status="failed")
    with app.app_context():
        health = outbox_health(db.session, NOW)
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 6
    assert (health.waiting, health.failed, health.oldest_due_seconds) == (3, 1, 30 * 60)
    assert health.lagging(29 * 60) and not health.lagging(30 * 60)


def test_an_empty_outbox_is_not_late(app):
    with app.app_context():
        health = outbox_health(db.session, NOW)
    assert (health.waiting, health.failed, health.oldest_due_seconds) == (0, 0, 0)


def test_only_a_redis_storage_is_pinged():
    assert redis_url("redis://127.0.0.1:6379/3") == "redis://127.0.0.1:6379/3"
    assert redis_url("redis+unix:///run/redis.sock") == "unix:///run/redis.sock"
    assert redis_check("memory://", 1).state == "not used"
    assert redis_check("", 1).state == "not used"
    assert redis_check("memcached://127.0.0.1:11211", 1).state == "not checked"
