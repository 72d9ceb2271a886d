"""/metrics: who may read it, and what it counts after real requests (the in-memory
registry of one process; several gunicorn workers: tests/test_metrics_gunicorn.py)."""

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from extensions import db
from tests.conftest import ARTICLE_SLUG, OWNER_EMAIL, VALID_ANSWERS, log_in

TOKEN = "metrics-token-0123456789-abcdefghijklmnop"
OUTSIDER = "203.0.113.9"


def scrape(client, **kwargs) -> str:
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}, **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def value(text: str, name: str, **labels) -> float | None:
    """The sample `name` with exactly these labels (None: not there)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


@pytest.fixture
def with_token(settings):
    settings["METRICS_TOKEN"] = TOKEN
    return settings


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_loopback_clients_may_read_the_metrics(client, address):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"]
)
def test_other_clients_get_the_sites_404_without_the_token(with_token, client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": OUTSIDER})
    assert response.status_code == 404
    assert "http_request_duration_seconds" not in response.get_data(as_text=True)
    assert client.get("/no-such-page").get_data() == response.get_data()  # nothing tells


def test_the_bearer_token_opens_the_metrics_to_another_address(with_token, client):
    response = client.get(
        "/metrics",
        headers={"Authorization": f"Bearer {TOKEN}"},
        environ_base={"REMOTE_ADDR": OUTSIDER},
    )
    assert response.status_code == 200


def test_no_token_set_means_loopback_only(client):
    response = client.get(
        "/metrics", headers={"Authorization": "Bearer "}, environ_base={"REMOTE_ADDR": OUTSIDER}
    )
    assert response.status_code == 404


@pytest.fixture
def behind_nginx(settings):
    settings["PROXY_COUNT"] = 1
    return settings


def test_behind_the_proxy_a_client_outside_is_not_loopback(behind_nginx, client):
    """nginx connects from loopback; the address that counts is the one it forwards."""
    outside = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": OUTSIDER}
    assert client.get("/metrics", environ_base=outside).status_code == 404
    spoofed = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": f"127.0.0.1, {OUTSIDER}"}
    assert client.get("/metrics", environ_base=spoofed).status_code == 404
    local = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}
    assert client.get("/metrics", environ_base=local).status_code == 200


@pytest.mark.parametrize("address", ["127.0.0.1", OUTSIDER])
def test_metrics_never_set_a_cookie(client, address):
    client.get(f"/library/{ARTICLE_SLUG}", query_string={"utm_source": "news"})  # a session
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert "Set-Cookie" not in response.headers


def test_request_latency_is_counted_by_endpoint_never_by_path(client, visitor):
    for _ in range(2):
        client.get(f"/library/{ARTICLE_SLUG}")
    client.get("/library/no-such-article")
    manage_path = visitor.book().headers["Location"].removesuffix("/confirmed")
    client.get(manage_path)
    client.open("/", method="BREW")  # a method an outsider made up
    text = scrape(client)
    count = "http_request_duration_seconds_count"
    assert value(text, count, endpoint="library.article", method="GET", status="2xx") == 2
    assert value(text, count, endpoint="library.article", method="GET", status="4xx") == 1
    assert value(text, count, endpoint="booking.manage", method="GET", status="2xx") == 1
    assert value(text, count, endpoint="none", method="other", status="4xx") == 1  # 405
    assert manage_path.split("/")[2] not in text and "no-such-article" not in text


def test_bookings_are_counted_by_the_article_they_came_from(client, visitor):
    assert visitor.book().status_code == 303
    assert visitor.book(article=None).status_code == 303
    assert visitor.book(article="not-an-article").status_code == 303
    text = scrape(client)
    assert value(text, "bookings_made_total", source=ARTICLE_SLUG) == 1
    assert value(text, "bookings_made_total", source="none") == 2
    assert "not-an-article" not in text


@pytest.fixture
def one_booking_an_hour(settings):
    settings["BOOKING_RATE_LIMIT"] = "1 per hour"
    return settings


def test_rate_limit_refusals_are_counted_by_limit_and_endpoint(one_booking_an_hour, visitor):
    assert visitor.book(name="").status_code == 400  # the one allowed
    assert visitor.book().status_code == 429
    text = scrape(visitor.client)
    assert value(
        text, "rate_limit_refusals_total", limit="1 per 1 hour", endpoint="booking.submit"
    ) == 1  # fmt: skip


def test_login_failures_are_counted_by_reason_never_by_address(client, owner_account):
    log_in(client, password="wrong")
    log_in(client, password="wrong", email="someone@else.example")
    text = scrape(client)
    assert value(text, "owner_login_failures_total", reason="wrong_password") == 2
    assert OWNER_EMAIL not in text and "someone@else" not in text


@pytest.fixture
def mail_app(settings, mail_settings):
    settings.update(mail_settings)
    return settings


def test_outbox_gauges_follow_what_is_queued_sent_and_failed(
    mail_app, client, visitor, runner, smtp_server
):
    text = scrape(client)
    assert value(text, "database_up") == 1
    assert value(text, "outbox_waiting_messages") == 0
    assert value(text, "outbox_oldest_due_age_seconds") == 0
    # confirmation, owner's notice; the reminder and the owner's brief later
    assert visitor.book().status_code == 303
    text = scrape(client)
    assert value(text, "outbox_waiting_messages") == 4
    assert value(text, "outbox_oldest_due_age_seconds") >= 0
    smtp_server.refuse(VALID_ANSWERS["email"], "550 5.1.1 unknown")
    runner.invoke(args=["outbox", "send"])
    text = scrape(client)
    assert value(text, "outbox_waiting_messages") == 2  # the reminder and brief, not due yet
    assert value(text, "outbox_failed_messages") == 1
    assert value(text, "outbox_oldest_due_age_seconds") == 0


def test_with_the_database_down_the_scrape_still_answers_and_says_so(client, database_outage):
    client.get("/")
    database_outage.cut()
    text = scrape(client)
    assert value(text, "database_up") == 0
    assert value(text, "outbox_waiting_messages") is None  # left out, not made up
    count = "http_request_duration_seconds_count"
    assert value(text, count, endpoint="library.index", method="GET", status="2xx") == 1
    database_outage.restore()
    assert value(scrape(client), "database_up") == 1


@pytest.fixture
def counters_flushed_later(settings):
    settings["COUNTER_FLUSH_SECONDS"] = 3600  # as in production: no write per view
    return settings


def test_an_article_view_costs_no_database_statement(counters_flushed_later, app, client):
    statements = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    response = client.get(f"/library/{ARTICLE_SLUG}", headers={"X-Request-ID": "abc"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "abc"
    assert statements == []
    scrape(client)
    assert statements  # the listener works: a scrape reads the outbox
    with app.app_context():
        app.extensions["counters"].flush()  # not at exit, when this database is gone
