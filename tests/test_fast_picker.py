"""Booking's step one and its times fragment served before Flask (fast_picker.py): what a
visitor gets is what Flask alone gives (body, headers, session cookie, click counts, request
line), a time booked anywhere is gone from the next page, and whatever is personal, hostile
or failing still goes through Flask (issue 10)."""

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import delete, func, select

from app import create_app
from domain.booking.picker import next_minute
from extensions import db
from models import ArticleDailyStat
from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS, Visitor, log_in
from tests.test_fast_pages import (
    SEARCH,
    flask_dispatches,
    header_set,
    returning_reader,
    session_cookie,
    signed_session,
)
from tests.test_metrics import scrape, value

PICKER = ("/book", "/book/times")


@pytest.fixture
def reference(settings, open_hours):
    """The same site with the picker's fast path off: what Flask alone answers."""
    app = create_app(settings | {"FAST_PICKER_PAGES": False})
    yield app
    with app.app_context():
        db.engine.dispose()


def fetch(app, path: str, **kwargs):
    """One request from a browser of its own (no cookie unless the test sends one)."""
    return app.test_client(use_cookies=False).get(path, **kwargs)


def offered(app, path: str, day: str) -> list[str]:
    query = {"article": ARTICLE_SLUG, "timezone": "Europe/London", "day": day}
    html = fetch(app, path, query_string=query).get_data(as_text=True)
    return [unquote(s) for s in re.findall(r"slot=([0-9T%A-Z:\-]+Z)", html)]


def in_one_minute(check):
    """`check()`, run again if the minute turned while it ran: the free times may move on,
    and a page kept for one minute is answered afresh by Flask in the next."""
    for _ in range(2):
        minute = next_minute(datetime.now(UTC))
        result = check()
        if next_minute(datetime.now(UTC)) == minute:
            return result
    raise AssertionError("the minute turned twice")


def visitor_cases(app, day: str) -> dict[str, dict]:
    followed = returning_reader(app, 60)
    data = app.session_interface.get_signing_serializer(app).loads(followed.split("=", 1)[1])
    data["visit"]["cta"] = [ARTICLE_SLUG]
    return {
        "no cookie": {},
        "from search": {"headers": SEARCH},
        "from an article's call to action": {"query_string": {"article": ARTICLE_SLUG}},
        "campaign link, a day and a zone": {
            "query_string": {"utm_source": "news", "day": day, "timezone": "Asia/Kolkata"}
        },
        "returning visitor seen a moment ago": {"headers": {"Cookie": returning_reader(app, 0)}},
        "returning visitor back after an hour": {
            "headers": {"Cookie": returning_reader(app, 60)},
            "query_string": {"article": ARTICLE_SLUG},
        },
        "visitor who followed this call to action already": {
            "headers": {"Cookie": signed_session(app, data)},
            "query_string": {"article": ARTICLE_SLUG},
        },
        "forged cookie": {"headers": {"Cookie": "session=eyJ2aXNpdCI6MX0.forged.sig"}},
    }


def test_the_fast_path_sends_what_flask_sends_for_every_kind_of_visitor(app, reference):
    reached = flask_dispatches(app)
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    cases = visitor_cases(app, day)

    def compare(path, case, kwargs) -> list[str]:
        for site in (app, reference):
            fetch(site, path, **kwargs)  # each URL's first answer is Flask's, then kept
        reached.clear()
        fast, full = fetch(app, path, **kwargs), fetch(reference, path, **kwargs)
        assert fast.status_code == full.status_code == 200, case
        assert fast.get_data() == full.get_data(), case
        assert header_set(fast) == header_set(full), case
        assert session_cookie(app, fast) == session_cookie(reference, full), case
        assert fast.headers["X-Request-ID"], case
        return list(reached)

    for path in PICKER:
        for case, kwargs in cases.items():
            assert in_one_minute(lambda: compare(path, case, kwargs)) == [], case  # noqa: B023
    assert fetch(app, "/book").headers.get("Set-Cookie")  # a first touch, as Flask gives
    assert "Set-Cookie" not in fetch(app, "/book/times").headers


def test_a_slot_booked_is_gone_from_the_next_fast_page_in_this_and_another_process(
    app, settings, client, visitor
):
    other = create_app(settings)  # a second process on the same database
    reached = flask_dispatches(other)
    slot = visitor.free_slots()[0]
    day = slot[:10]
    for site in (app, other):
        for path in PICKER:
            for _ in range(2):  # the second from the kept page
                assert slot in offered(site, path, day)
    reached.clear()
    form = visitor.form_for(slot)
    booked = client.post(
        "/book", query_string={"article": ARTICLE_SLUG}, data={**form, **VALID_ANSWERS}
    )
    assert booked.status_code == 303
    for site in (app, other):
        for path in PICKER:
            for _ in range(3):
                times = offered(site, path, day)
                assert times and slot not in times
    assert reached in (list(PICKER), [*PICKER, *PICKER])  # once per page (or per minute)
    with other.app_context():
        db.engine.dispose()


def clicks(app) -> int:
    with app.app_context():
        app.extensions["counters"].flush()
        total = db.session.scalar(select(func.coalesce(func.sum(ArticleDailyStat.cta_clicks), 0)))
        db.session.execute(delete(ArticleDailyStat))
        db.session.commit()
    return total


def test_call_to_action_clicks_are_counted_as_flask_counts_them(app, reference):
    counted = []
    for site in (app, reference):
        for _ in range(3):  # three visitors without a cookie: three clicks
            fetch(site, "/book", query_string={"article": ARTICLE_SLUG})
        browser = site.test_client()
        for _ in range(3):  # one visitor reloading: one click
            browser.get("/book", query_string={"article": ARTICLE_SLUG})
        fetch(site, "/book", query_string={"article": "no-such-article"})
        fetch(site, "/book/times", query_string={"article": ARTICLE_SLUG})
        counted.append(clicks(site))
    assert counted == [4, 4]


HOSTILE = [
    {"day": "2026-99-99", "month": "'; DROP", "timezone": "<script>"},
    {"day": "9" * 5000, "month": "1" * 5000, "timezone": "Europe/" + "A" * 5000},
    {"article": "../../etc/passwd" + "x" * 3000, "day": "2026-02-30"},
    {"month": "0000-00", "day": "0001-01-01", "timezone": "Etc/GMT+99"},
    {"slot": "not-a-time", "timezone": "\x00\r\nSet-Cookie: evil=1"},
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_picker_queries_get_flasks_calm_default_from_the_fast_path(app, reference, query):
    def compare(path):
        for site in (app, reference):
            fetch(site, path, query_string=query)
        fast = fetch(app, path, query_string=query)
        full = fetch(reference, path, query_string=query)
        assert fast.status_code == full.status_code == 200, path
        assert fast.get_data() == full.get_data(), path
        assert "evil" not in str(fast.headers)

    for path in PICKER:
        in_one_minute(lambda: compare(path))  # noqa: B023
    raw = "day=%ff%fe&month=%00&timezone=%25%25"
    for path in PICKER:
        for _ in range(2):
            assert fetch(app, f"{path}?{raw}").status_code == 200


def test_a_chosen_slot_is_never_kept_each_visitor_gets_their_own_form(app, visitor):
    reached = flask_dispatches(app)
    slot = visitor.free_slots()[0]
    reached.clear()
    keys = []
    for _ in range(2):
        html = fetch(app, "/book", query_string={"slot": slot}).get_data(as_text=True)
        keys.append(re.search(r'name="submission_key"[^>]*value="([^"]+)"', html).group(1))
    assert keys[0] != keys[1]
    assert reached == ["/book", "/book"]


def test_a_message_and_the_owner_go_through_flask(app, client, owner_account, open_hours):
    reached = flask_dispatches(app)
    fetch(app, "/book")
    reached.clear()
    with client.session_transaction() as browser:
        browser["_flashes"] = [("message", "Your call is cancelled.")]
    assert "Your call is cancelled." in client.get("/book").get_data(as_text=True)
    assert "Your call is cancelled." not in client.get("/book").get_data(as_text=True)
    assert log_in(client).status_code == 303
    assert client.get("/book").status_code == 200
    with client.session_transaction() as session:
        assert "visit" not in session  # the owner is not a lead
    assert reached == ["/book", "/owner/login", "/book"]


def test_a_kept_page_is_not_served_while_the_database_is_down(client, open_hours, database_outage):
    for path in PICKER:
        for _ in range(2):
            assert client.get(path).status_code == 200
    database_outage.cut()
    for path in PICKER:
        response = client.get(path)
        assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    database_outage.restore()
    for path in PICKER:
        assert client.get(path).status_code == 200


def test_the_fast_request_line_and_metric_read_as_flasks(app, reference, capsys):
    for path in PICKER:
        fetch(app, path), fetch(reference, path)
    before = value(scrape(app.test_client()), "http_request_duration_seconds_count",
                   endpoint="booking.book", method="GET", status="2xx")  # fmt: skip
    capsys.readouterr()
    lines = []
    for path in PICKER:
        for site in (app, reference):
            fetch(site, path, headers={"X-Request-ID": "nginx-7"})
            lines.append(json.loads(capsys.readouterr().err))
    for line in lines:
        datetime.fromisoformat(line.pop("time"))
        assert line.pop("duration_ms") >= 0
    fast_book, full_book, fast_times, full_times = lines
    assert fast_book == full_book and fast_book["endpoint"] == "booking.book"
    assert fast_times == full_times and fast_times["endpoint"] == "booking.times"
    assert fast_book["request_id"] == "nginx-7" and fast_book["path"] == "/book"
    after = value(scrape(app.test_client()), "http_request_duration_seconds_count",
                  endpoint="booking.book", method="GET", status="2xx")  # fmt: skip
    assert after == before + 1  # the fast answer is observed as Flask's are


def test_behind_the_proxy_https_pages_keep_hsts_and_http_pages_do_not(settings, open_hours):
    settings = settings | {"PROXY_COUNT": 1}
    fast, full = create_app(settings), create_app(settings | {"FAST_PICKER_PAGES": False})
    https = {"headers": {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}}
    for path in PICKER:
        for site in (fast, full):
            fetch(site, path), fetch(site, path, **https)
        for kwargs in ({}, https):
            assert header_set(fetch(fast, path, **kwargs)) == header_set(
                fetch(full, path, **kwargs)
            )
        assert "Strict-Transport-Security" in fetch(fast, path, **https).headers
        assert "Strict-Transport-Security" not in fetch(fast, path).headers
    for site in (fast, full):
        with site.app_context():
            db.engine.dispose()


def test_a_visitor_who_books_after_fast_pages_keeps_their_first_touch(app, client, open_hours):
    client.get("/book", headers=SEARCH, query_string={"article": ARTICLE_SLUG})
    client.get("/book", headers=SEARCH, query_string={"article": ARTICLE_SLUG})
    assert Visitor(client).book().status_code == 303
    from models import Lead

    with app.app_context():
        lead = db.session.scalar(select(Lead))
    assert lead.first_touch["referrer"] == SEARCH["Referer"]
    assert lead.source_article == ARTICLE_SLUG
