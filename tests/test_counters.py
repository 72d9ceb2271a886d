"""Article views are counted per article and day, cheaply, and never lost on a failed write."""

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from domain.content.counters import CounterBuffer
from extensions import db
from models import ArticleDailyStat

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
