"""The database goes away: pages that need it answer 503 with Retry-After and a friendly
page; the library keeps rendering from its files; /healthz says 503; and once the database
is back, so is everything else. A real outage on both databases (tests/outage.py)."""

import logging
import re

import pytest
from sqlalchemy import func, select

from extensions import db
from models import ArticleDailyStat, Booking
from tests.conftest import ARTICLE_SLUG

FRIENDLY = "We can’t reach our records right now"


@pytest.fixture
def manage_path(app, visitor):
    """The private link of a booking made while all was well."""
    response = visitor.book()
    assert response.status_code == 303
    return response.headers["Location"].removesuffix("/confirmed")


def assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert FRIENDLY in page and 'class="wrap error-page"' in page


def test_booking_pages_answer_503_with_retry_after_while_the_database_is_down(
    client, visitor, manage_path, database_outage
):
    database_outage.cut()
    assert_unavailable(client.get("/book"))
    assert_unavailable(client.get("/book", query_string={"article": ARTICLE_SLUG}))
    assert_unavailable(client.get(manage_path))


def test_owner_pages_answer_503_while_the_database_is_down(owner, database_outage):
    database_outage.cut()
    assert_unavailable(owner.get("/owner/"))
    assert_unavailable(owner.get("/owner/leads"))


def test_the_library_keeps_rendering_while_the_database_is_down(app, client, database_outage):
    database_outage.cut()
    for path in ("/", f"/library/{ARTICLE_SLUG}", "/sitemap.xml", "/feed.xml", "/robots.txt"):
        assert client.get(path).status_code == 200, path
    database_outage.restore()
    client.get("/")  # the counters kept in memory are written now
    with app.app_context():
        assert db.session.scalar(select(func.sum(ArticleDailyStat.views))) == 1


def test_healthz_says_503_while_the_database_is_down_and_200_once_it_is_back(
    client, database_outage
):
    assert client.get("/healthz").status_code == 200
    database_outage.cut()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
    database_outage.restore()
    assert client.get("/healthz").status_code == 200


def test_pages_come_back_with_the_database(client, visitor, database_outage):
    database_outage.cut()
    assert client.get("/book").status_code == 503
    database_outage.restore()
    assert client.get("/book").status_code == 200
    assert visitor.book().status_code == 303


def test_the_outage_is_logged_once_per_request_without_the_url(
    client, manage_path, database_outage, caplog
):
    database_outage.cut()
    with caplog.at_level(logging.INFO, logger="app"):
        client.get(manage_path)
    logged = [r for r in caplog.records if r.name == "app"]
    assert [r.levelname for r in logged] == ["ERROR"]
    assert "database unreachable" in logged[0].getMessage()
    assert manage_path.split("/")[2] not in caplog.text  # the token


def test_a_booking_sent_while_the_database_is_down_comes_back_with_every_answer(
    app, client, visitor, database_outage
):
    from tests.conftest import VALID_ANSWERS

    form = {**visitor.form_for(visitor.free_slots()[0]), **VALID_ANSWERS}
    database_outage.cut()
    response = client.post("/book", query_string={"article": ARTICLE_SLUG}, data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "Nothing was booked and your answers are kept below" in page
    for name in ("name", "email", "company", "role"):
        assert f'value="{VALID_ANSWERS[name]}"' in page
    assert VALID_ANSWERS["message"] in page
    assert re.search(r'<option selected value="51-200">', page)
    assert re.search(r'<input[^>]*value="architect-01"[^>]*checked', page)
    assert f'value="{form["slot"]}"' in page  # the chosen time travels on
    assert f'value="{form["submission_key"]}"' in page  # a resend is still the same booking

    database_outage.restore()
    resent = client.post("/book", query_string={"article": ARTICLE_SLUG}, data=form)
    assert resent.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
