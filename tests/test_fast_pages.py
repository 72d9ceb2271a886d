"""Article pages served from the page cache, before Flask: what a reader gets is what the
full Flask path gives (body, headers, session cookie, view count, request line), and an
owner, an unknown page or a first render still go through Flask."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import request
from sqlalchemy import func, select

from app import create_app
from domain.content.library import load_library
from extensions import db
from models import ArticleDailyStat
from tests.conftest import copy_seed, log_in

SLUG = "ai-systems-architect-vs-ai-engineer"
URL = f"/library/{SLUG}"
SEARCH = {"Referer": "https://www.google.com/search?q=ai+architect"}
TIMES = ("at", "seen")


def flask_dispatches(app) -> list[str]:
    """The paths that reached Flask's request handling (the fast path never does)."""
    reached: list[str] = []
    app.before_request(lambda: reached.append(request.path) and None)
    return reached


@pytest.fixture
def reference(settings):
    """The same site with the fast path turned off: what Flask alone answers."""
    app = create_app(settings | {"FAST_ARTICLE_PAGES": False})
    yield app
    with app.app_context():
        db.engine.dispose()


def served(app, **kwargs):
    return app.test_client(use_cookies=False).get(URL, **kwargs)


def views(app) -> int:
    with app.app_context():
        app.extensions["counters"].flush()
        return db.session.scalar(select(func.coalesce(func.sum(ArticleDailyStat.views), 0)))


def session_cookie(app, response) -> tuple[dict, list[str]] | None:
    """The session a Set-Cookie holds (its times blanked) and the cookie's attributes
    (its expiry date dropped), or None when no cookie is sent."""
    header = response.headers.get("Set-Cookie")
    if header is None:
        return None
    value, *attributes = header.split("; ")
    name, signed = value.split("=", 1)
    assert name == "session"
    data = app.session_interface.get_signing_serializer(app).loads(signed)
    return without_times(data), [a for a in attributes if not a.startswith("Expires=")]


def without_times(value):
    if isinstance(value, dict):
        return {k: "<time>" if k in TIMES else without_times(v) for k, v in value.items()}
    return value


def signed_session(app, data: dict) -> str:
    return "session=" + app.session_interface.get_signing_serializer(app).dumps(data)


def header_set(response) -> list[tuple[str, str]]:
    skip = {"X-Request-ID", "Set-Cookie"}
    return [(name, value) for name, value in response.headers if name not in skip]


def returning_reader(app, seen_minutes_ago: int) -> str:
    seen = (datetime.now(UTC) - timedelta(minutes=seen_minutes_ago)).isoformat()
    touch = {"referrer": "", "landing": "/", "at": seen}
    visit = {"last": touch, "first": touch, "articles": [SLUG], "cta": [], "seen": seen}
    return signed_session(app, {"_permanent": True, "_fresh": False, "visit": visit})


def request_cases(app, etag: str) -> dict[str, dict]:
    return {
        "from search, no cookie": {"headers": SEARCH},
        "campaign link": {"query_string": {"utm_source": "news", "utm_campaign": "may"}},
        "revalidation, no cookie": {"headers": {"If-None-Match": etag}},
        "reader seen a moment ago": {"headers": {"Cookie": returning_reader(app, 0)}},
        "reader back after an hour": {"headers": {"Cookie": returning_reader(app, 60)}},
        "revalidation, back after an hour": {
            "headers": {"If-None-Match": etag, "Cookie": returning_reader(app, 60)}
        },
        "forged cookie": {"headers": {"Cookie": "session=eyJ2aXNpdCI6MX0.forged.sig"}},
        "crawler": {"headers": {"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}},
    }


def test_fast_path_sends_what_flask_sends_for_every_kind_of_reader(app, reference):
    reached = flask_dispatches(app)
    etag = served(app).headers["ETag"]  # the first view renders through Flask
    for case, kwargs in request_cases(app, etag).items():
        fast, full = served(app, **kwargs), served(reference, **kwargs)
        assert fast.status_code == full.status_code, case
        assert fast.get_data() == full.get_data(), case
        assert header_set(fast) == header_set(full), case
        assert session_cookie(app, fast) == session_cookie(reference, full), case
        # Only a reader whose visit is still current is not sent the cookie again.
        assert ("Set-Cookie" in fast.headers) == (case != "reader seen a moment ago"), case
        assert fast.headers["X-Request-ID"], case
    assert reached == [URL]


def test_cookieless_reader_gets_a_first_touch_cookie_with_the_article_read(app):
    served(app)
    response = served(app, headers=SEARCH, query_string={"utm_source": "news"})
    data, attributes = session_cookie(app, response)
    assert data["_permanent"] is True
    assert data["visit"]["articles"] == [SLUG]
    first = data["visit"]["first"]
    assert first["referrer"] == SEARCH["Referer"]
    assert first["utm_source"] == "news"
    assert first["landing"] == f"{URL}?utm_source=news"
    assert "HttpOnly" in attributes and "SameSite=Lax" in attributes


def test_every_served_view_is_counted_once(app):
    reached = flask_dispatches(app)
    client = app.test_client()
    etag = client.get(URL).headers["ETag"]
    for _ in range(20):
        assert served(app, headers=SEARCH).status_code == 200
    for _ in range(5):
        assert client.get(URL).status_code == 200  # a reader with the cookie
    for _ in range(4):
        assert served(app, headers={"If-None-Match": etag}).status_code == 304
    served(app, headers={"User-Agent": "Mozilla/5.0 (compatible; bingbot/2.0)"})
    assert views(app) == 1 + 20 + 5 + 4
    assert reached == [URL]


def test_counts_wait_in_memory_until_the_flush(settings):
    app = create_app(settings | {"COUNTER_FLUSH_SECONDS": 3600})
    for _ in range(7):
        served(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ArticleDailyStat)) == 0
    assert views(app) == 7
    with app.app_context():
        db.engine.dispose()


def test_owner_and_unknown_pages_go_through_flask(app, client, owner_account):
    reached = flask_dispatches(app)
    assert log_in(client).status_code == 303
    owner = client
    assert owner.get(URL).status_code == 200  # the owner's view is not kept for readers
    served(app)
    assert owner.get(URL).status_code == 200
    assert served(app).status_code == 200
    assert app.test_client().get("/library/no-such-article").status_code == 404
    assert app.test_client().head(URL).status_code == 200
    assert reached == ["/owner/login", URL, URL, URL, "/library/no-such-article", URL]
    with owner.session_transaction() as session:
        assert "visit" not in session  # the owner is not a lead


def test_the_request_line_has_the_proxys_id(app, capsys):
    served(app)
    capsys.readouterr()
    response = served(app, headers={"X-Request-ID": "nginx-42.a"})
    assert response.headers["X-Request-ID"] == "nginx-42.a"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [
        (line["request_id"], line["endpoint"], line["path"], line["status"]) for line in lines
    ] == [("nginx-42.a", "library.article", URL, 200)]


def test_an_edited_article_is_served_after_the_deploy(settings, content_dir):
    article = copy_seed(content_dir)
    settings = settings | {"CONTENT_DIR": str(content_dir)}
    before = create_app(settings)
    served(before)
    assert b"Freshly edited paragraph" not in served(before).get_data()
    article.write_text(article.read_text() + "\nFreshly edited paragraph.\n")
    after = create_app(settings)  # a new process starts with an empty cache
    reached = flask_dispatches(after)
    assert b"Freshly edited paragraph" in served(after).get_data()
    assert b"Freshly edited paragraph" in served(after).get_data()
    assert reached == [URL]
    for app in (before, after):
        with app.app_context():
            db.engine.dispose()


def test_a_reloaded_library_never_gets_the_old_page(app, content_dir):
    old_etag = served(app).headers["ETag"]
    article = copy_seed(content_dir)
    article.write_text(article.read_text() + "\nA reloaded paragraph.\n")
    app.extensions["library"] = load_library(content_dir)
    response = served(app)
    assert b"A reloaded paragraph" in response.get_data()
    assert response.headers["ETag"] != old_etag
    assert served(app, headers={"If-None-Match": old_etag}).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/library/" + "a" * 5000, "/library/%00", "/library/..%2f..%2fetc", "/library/" + SLUG + "/"],
)
def test_hostile_article_paths_get_a_page_not_an_error(app, path):
    served(app)
    assert app.test_client().get(path).status_code in (308, 404)


def test_hostile_query_and_headers_are_served_and_cleaned(app):
    served(app)
    response = served(
        app,
        query_string={"utm_source": "x\r\nSet-Cookie: evil=1" + "y" * 5000},
        headers={"Referer": "https://evil.test/\x7f" + "z" * 5000, "X-Request-ID": "a b;"},
    )
    assert response.status_code == 200
    data, _ = session_cookie(app, response)
    assert len(data["visit"]["first"]["utm_source"]) <= 200
    assert "\n" not in data["visit"]["first"]["utm_source"]
    assert response.headers["X-Request-ID"] != "a b;"


def test_behind_the_proxy_https_pages_keep_hsts_and_http_pages_do_not(settings):
    settings = settings | {"PROXY_COUNT": 1}
    fast, full = create_app(settings), create_app(settings | {"FAST_ARTICLE_PAGES": False})
    https = {"headers": {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}}
    for app in (fast, full):
        served(app), served(app, **https)
    for kwargs in ({}, https):
        assert header_set(served(fast, **kwargs)) == header_set(served(full, **kwargs))
    assert "Strict-Transport-Security" in served(fast, **https).headers
    assert "Strict-Transport-Security" not in served(fast).headers
    for app in (fast, full):
        with app.app_context():
            db.engine.dispose()


def test_each_cookieless_reader_gets_their_own_source(app):
    served(app)
    sources = ["https://www.google.com/", "https://news.ycombinator.com/", ""]
    for _ in range(2):
        for source in sources:
            response = served(app, headers={"Referer": source} if source else {})
            data, _ = session_cookie(app, response)
            assert data["visit"]["first"]["referrer"] == source
    for campaign in ("spring", "autumn"):
        response = served(app, query_string={"utm_campaign": campaign})
        data, _ = session_cookie(app, response)
        assert data["visit"]["first"]["utm_campaign"] == campaign
        assert data["visit"]["first"]["landing"] == f"{URL}?utm_campaign={campaign}"


def test_the_fast_request_line_reads_as_flasks(app, reference, capsys):
    served(app), served(reference)
    capsys.readouterr()
    etag = served(app).headers["ETag"]
    capsys.readouterr()
    lines = []
    for site in (app, reference):
        for kwargs in ({}, {"headers": {"If-None-Match": etag}}):
            served(site, **kwargs)
            lines.append(json.loads(capsys.readouterr().err))
    for line in lines:
        datetime.fromisoformat(line.pop("time"))
        assert line.pop("duration_ms") >= 0
        assert len(line.pop("request_id")) == 32
    fast_200, fast_304, full_200, full_304 = lines
    assert list(fast_200) == list(full_200) and fast_200 == full_200
    assert fast_304 == full_304 and fast_304["status"] == 304 and fast_304["bytes"] is None


def test_a_new_article_file_is_served_after_the_deploy_and_old_pages_revalidate(
    settings, content_dir
):
    copy_seed(content_dir)
    settings = settings | {"CONTENT_DIR": str(content_dir)}
    before = create_app(settings)
    etag = served(before).headers["ETag"]
    assert served(before, headers={"If-None-Match": etag}).status_code == 304
    new_url = "/library/a-second-article"
    assert before.test_client().get(new_url).status_code == 404
    copy_seed(content_dir, "a-second-article")
    after = create_app(settings)  # the deploy: a new process reads the new file
    reached = flask_dispatches(after)
    for _ in range(2):
        assert after.test_client(use_cookies=False).get(new_url).status_code == 200
    assert reached == [new_url]  # the second reader had the kept page
    # The unchanged article and templates keep their ETag: a reader's copy is still good.
    assert served(after, headers={"If-None-Match": etag}).status_code == 304
    # A deploy that changes a template or stylesheet changes every page's ETag.
    after.config["PAGE_FINGERPRINT"] = "a-new-stylesheet"
    response = served(after, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert reached == [new_url, URL, URL]  # each new page rendered once, by Flask
    for app in (before, after):
        with app.app_context():
            db.engine.dispose()


def test_a_settled_reader_gets_the_cookie_again_once_their_visit_moves_on(app):
    served(app)
    step = timedelta(minutes=1)  # attribution.SEEN_STEP: "seen" moves a minute at a time
    seen = datetime.now(UTC) - step + timedelta(seconds=1.5)
    touch = {"referrer": "", "landing": "/", "at": seen.isoformat()}
    visit = {"last": touch, "first": touch, "articles": [SLUG], "cta": [], "seen": seen.isoformat()}
    cookie = signed_session(app, {"_permanent": True, "_fresh": False, "visit": visit})
    for _ in range(3):
        assert "Set-Cookie" not in served(app, headers={"Cookie": cookie}).headers
    campaign = served(app, headers={"Cookie": cookie}, query_string={"utm_source": "news"})
    assert session_cookie(app, campaign)[0]["visit"]["last"]["utm_source"] == "news"
    time.sleep(2)
    moved_on = served(app, headers={"Cookie": cookie})
    data, _ = session_cookie(app, moved_on)
    assert datetime.fromisoformat(data_seen(app, moved_on)) > seen
    assert data["visit"]["first"] == without_times(touch)


def data_seen(app, response) -> str:
    signed = response.headers["Set-Cookie"].split("; ")[0].split("=", 1)[1]
    return app.session_interface.get_signing_serializer(app).loads(signed)["visit"]["seen"]
