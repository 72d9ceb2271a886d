"""Article views are counted per article and day, cheaply, and never lost on a failed write."""

import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app import create_app
from domain.content.counters import CounterBuffer
from extensions import db
from models import ArticleDailyStat
from tests.live_server import running_gunicorn

ARTICLE_URL = "/library/ai-systems-architect-vs-ai-engineer"


def stats(app) -> dict:
    with app.app_context():
        rows = db.session.scalars(select(ArticleDailyStat)).all()
        return {(row.slug, row.day): (row.views, row.cta_clicks) for row in rows}


def test_each_article_view_is_counted_for_today(app, client, seed_slug):
    for _ in range(3):
        client.get(ARTICLE_URL)
    today = datetime.now(UTC).date()
    assert stats(app) == {(seed_slug, today): (3, 0)}


def test_revalidated_view_still_counts(app, client, seed_slug):
    etag = client.get(ARTICLE_URL).headers["ETag"]
    assert client.get(ARTICLE_URL, headers={"If-None-Match": etag}).status_code == 304
    assert sum(views for views, _ in stats(app).values()) == 2


def test_crawlers_and_unknown_articles_are_not_counted(app, client):
    client.get(
        ARTICLE_URL, headers={"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}
    )
    client.get("/library/not-an-article")
    assert stats(app) == {}


def test_buffer_writes_one_batch_and_adds_to_existing_rows(app, seed_slug):
    with app.app_context():
        buffer = app.extensions["counters"]
        day = datetime(2026, 3, 1, 12, tzinfo=UTC)
        for _ in range(5):
            buffer.add(seed_slug, "views", now=day)
        buffer.add(seed_slug, "cta_clicks", now=day)
        buffer.flush()
        buffer.add(seed_slug, "views", now=day)
        buffer.flush()
    assert stats(app) == {(seed_slug, date(2026, 3, 1)): (6, 1)}


def test_counts_survive_a_failed_write_and_go_out_with_the_next_flush():
    written: list[Counter] = []
    failing = {"now": True}

    def write(batch):
        if failing["now"]:
            raise ConnectionError("database away")
        written.append(batch)

    buffer = CounterBuffer(write, flush_seconds=0)
    buffer.add("a", "views")
    with pytest.raises(ConnectionError):
        buffer.flush()
    failing["now"] = False
    buffer.add("a", "views")
    buffer.flush()
    assert sum(written[0].values()) == 2


def test_buffer_waits_for_its_interval_before_writing():
    written = []
    buffer = CounterBuffer(written.append, flush_seconds=3600)
    buffer.add("a", "views")
    buffer.flush_if_due()
    assert written == []
    buffer.flush()
    assert len(written) == 1


def test_unknown_counter_is_refused():
    with pytest.raises(ValueError):
        CounterBuffer(lambda batch: None, 0).add("a", "likes")


def test_rereading_an_article_does_not_resend_the_session_cookie(client):
    first = client.get(ARTICLE_URL)
    assert "session=" in first.headers.get("Set-Cookie", "")
    again = client.get(ARTICLE_URL)
    assert "Set-Cookie" not in again.headers


def served_views(base_url: str, requests: int, headers: dict) -> int:
    """GET the article `requests` times from 8 threads at once; the 200s and 304s."""

    def one(_number):
        request = urllib.request.Request(base_url + ARTICLE_URL, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=8) as pool:
        return sum(status in (200, 304) for status in pool.map(one, range(requests)))


def stored_views(settings: dict) -> int:
    app = create_app(settings)
    with app.app_context():
        views = db.session.scalar(select(func.coalesce(func.sum(ArticleDailyStat.views), 0)))
        db.engine.dispose()
    return views


def test_under_gunicorn_every_served_view_is_written_on_the_timer_and_at_exit(
    settings, database_url, tmp_path
):
    server_settings = {"DATABASE_URL": database_url, "COUNTER_FLUSH_SECONDS": "0.5"}
    with running_gunicorn(server_settings, tmp_path / "gunicorn.log", workers=2) as server:
        served = served_views(server.base_url, 120, {})
        etag = urllib.request.urlopen(server.base_url + ARTICLE_URL, timeout=10).headers["ETag"]
        served += 1 + served_views(server.base_url, 40, {"If-None-Match": etag})
        # No request comes after the last view: each worker's own timer writes it.
        deadline = time.monotonic() + 10
        while stored_views(settings) < served and time.monotonic() < deadline:
            time.sleep(0.2)
        assert stored_views(settings) == served, server.log()
        served += served_views(server.base_url, 60, {})
    # Stopped (SIGTERM) before any timer came round again: written as the workers exit.
    assert stored_views(settings) == served == 221
