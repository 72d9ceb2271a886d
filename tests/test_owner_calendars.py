"""`/owner/calendars`, the dashboard's stale-feed warning, `flask calendar …`, and the
worker's calendar pass."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from blueprints.booking.outbox_cli import CalendarPasses
from domain.booking.tokens import utc_now
from extensions import db
from models import BusyInterval, CalendarFeed
from tests.conftest import OWNER_PASSWORD
from tests.feed_server import calendar_text
from tests.test_calendar_feeds import at, day_ahead, meeting, offered

pytestmark = pytest.mark.usefixtures("allow_private")
SECRET_PATH = "/private-7f3a9c1e5b2d/basic.ics"


def feeds(app) -> list[CalendarFeed]:
    with app.app_context():
        rows = list(db.session.scalars(select(CalendarFeed).order_by(CalendarFeed.id)))
        db.session.expunge_all()
        return rows


def error_beside(page: str, field: str) -> str | None:
    found = re.search(rf'<p class="error" id="{field}-error">([^<]+)</p>', page)
    return found.group(1) if found else None


def test_calendars_page_needs_login(client):
    assert client.get("/owner/calendars").status_code in (302, 303)
    assert client.post("/owner/calendars", data={"url": "https://x.example/a.ics"}).status_code in (
        302,
        303,
    )
    assert client.post("/owner/calendars/sync").status_code in (302, 303)


def test_owner_adds_a_feed_and_its_busy_time_leaves_book(app, owner, open_hours, feed_server):
    day = day_ahead(3)
    url = feed_server.serve(SECRET_PATH, calendar_text(meeting(day, 10, 11)))
    response = owner.post("/owner/calendars", data={"url": url, "name": "Client work"})
    assert response.status_code == 303
    page = owner.get("/owner/calendars").get_data(as_text=True)
    assert "Client work" in page and "1 event read" in page
    assert "127.0.0.1" in page
    assert "private-7f3a9c1e5b2d" not in page  # the secret part of the address never shows
    assert at(day, 10) not in offered(owner, day)
    assert 'aria-current="page">Calendars' in page


def test_webcal_addresses_are_read_over_https(app, owner, feed_server):
    url = feed_server.serve("/f.ics", calendar_text())
    response = owner.post("/owner/calendars", data={"url": url.replace("http:", "webcal:")})
    assert response.status_code == 400
    # Read as https://, so the plain-http test server fails the TLS handshake.
    message = error_beside(response.get_data(as_text=True), "url")
    assert message == "Its secure connection could not be verified."
    assert feeds(app) == []


def test_an_address_where_nothing_listens_is_refused(app, owner):
    response = owner.post("/owner/calendars", data={"url": "http://127.0.0.1:9/feed.ics"})
    assert response.status_code == 400
    message = error_beside(response.get_data(as_text=True), "url")
    assert message == "The calendar server could not be reached."


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"url": ""}, "url", "Enter the feed"),
        ({"url": "javascript:alert(document.cookie)"}, "url", "https://"),
        ({"url": "https://a.example/\x00x.ics"}, "url", "control"),
        ({"url": "https://a.example/" + "x" * 2001}, "url", "2,000"),
        ({"url": "https://a.example/x.ics", "name": "n" * 201}, "name", "200"),
        ({"url": "https://a.example/x.ics", "name": "Work\x1b[31m"}, "name", "control"),
    ],
)
def test_hostile_input_is_refused_beside_its_field(app, owner, data, field, message):
    response = owner.post("/owner/calendars", data=data)
    assert response.status_code == 400
    assert message in (error_beside(response.get_data(as_text=True), field) or "")
    assert feeds(app) == []


def test_a_feed_whose_first_read_fails_is_not_added(app, owner, feed_server):
    url = feed_server.serve("/down.ics", "x")
    feed_server.fail("/down.ics", 503)
    response = owner.post("/owner/calendars", data={"url": url})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert error_beside(page, "url") == "The calendar server answered 503."
    assert f'value="{url}"' in page  # kept, to fix and send again
    assert feeds(app) == []


def test_remove_deletes_the_feed_and_frees_its_times(app, owner, open_hours, feed_server):
    day = day_ahead(3)
    owner.post("/owner/calendars", data={"url": feed_server.serve("/a.ics", calendar_text(
        meeting(day, 10, 11)))})  # fmt: skip
    [feed] = feeds(app)
    assert owner.get(f"/owner/calendars/{feed.id}/remove").status_code == 405
    response = owner.post(f"/owner/calendars/{feed.id}/remove")
    assert response.status_code == 303
    assert feeds(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count(BusyInterval.id))) == 0
    assert at(day, 10) in offered(owner, day)
    again = owner.post(f"/owner/calendars/{feed.id}/remove", follow_redirects=True)
    assert "already removed" in again.get_data(as_text=True)


def test_sync_now_reads_every_feed_and_shows_a_failure(app, owner, feed_server):
    url = feed_server.serve("/b.ics", calendar_text(meeting(day_ahead(3), 10, 11)))
    owner.post("/owner/calendars", data={"url": url})
    feed_server.fail("/b.ics", 500)
    page = owner.post("/owner/calendars/sync", follow_redirects=True).get_data(as_text=True)
    assert "1 failed" in page
    assert "The calendar server answered 500." in page
    assert len(feed_server.requests("/b.ics")) == 2


@pytest.fixture
def with_csrf(settings):
    settings["WTF_CSRF_ENABLED"] = True


def test_forms_need_their_csrf_token(with_csrf, app, feed_server, owner_account):
    client = app.test_client()
    page = client.get("/owner/login").get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page).group(0)
    token = re.search(r'value="([^"]+)"', tag).group(1)
    login = {"email": owner_account, "password": OWNER_PASSWORD, "csrf_token": token}
    assert client.post("/owner/login", data=login).status_code == 303
    url = feed_server.serve("/c.ics", calendar_text())
    assert client.post("/owner/calendars", data={"url": url}).status_code == 400
    assert feed_server.requests("/c.ics") == []
    assert feeds(app) == []


def test_dashboard_warns_when_a_feed_is_more_than_an_hour_old(app, owner, feed_server):
    owner.post("/owner/calendars", data={"url": feed_server.serve("/d.ics", calendar_text())})
    assert "Calendars not read" not in owner.get("/owner/").get_data(as_text=True)
    with app.app_context():
        db.session.execute(
            update(CalendarFeed).values(last_success_at=utc_now() - timedelta(minutes=61))
        )
        db.session.commit()
    page = owner.get("/owner/").get_data(as_text=True)
    assert "Calendars not read for over 1 hour" in page
    assert "/owner/calendars" in page


def test_cli_add_list_sync_remove(app, runner, open_hours, feed_server):
    day = day_ahead(3)
    url = feed_server.serve(SECRET_PATH, calendar_text(meeting(day, 10, 11)))
    added = runner.invoke(args=["calendar", "add", url, "--name", "Client work"])
    assert added.exit_code == 0, added.output
    assert "Added calendar 1 “Client work”: 1 event read" in added.output
    listed = runner.invoke(args=["calendar", "list"])
    assert listed.exit_code == 0
    assert "Client work" in listed.output and "127.0.0.1" in listed.output
    assert "private-7f3a9c1e5b2d" not in listed.output
    synced = runner.invoke(args=["calendar", "sync"])
    assert synced.exit_code == 0 and "ok" in synced.output
    feed_server.fail(SECRET_PATH, 500)
    failed = runner.invoke(args=["calendar", "sync"])
    assert failed.exit_code == 1 and "answered 500" in failed.output
    removed = runner.invoke(args=["calendar", "remove", "1"])
    assert removed.exit_code == 0 and "Removed calendar 1" in removed.output
    assert runner.invoke(args=["calendar", "remove", "1"]).exit_code == 1
    assert runner.invoke(args=["calendar", "remove", "banana"]).exit_code == 2
    assert "No calendar feeds" in runner.invoke(args=["calendar", "list"]).output


def test_cli_refuses_a_feed_that_cannot_be_read(app, runner):
    result = runner.invoke(args=["calendar", "add", "gopher://old.example/feed"])
    assert result.exit_code == 1
    assert "Not added (url): Give an https:// (or webcal://) address." in result.output


def test_worker_pass_reads_due_feeds_and_never_raises(app, feed_server):
    url = feed_server.serve("/e.ics", calendar_text())
    with app.app_context():
        db.session.add(CalendarFeed(name="Due", url=url))
        db.session.add(CalendarFeed(name="Broken", url="https://"))
        db.session.commit()
        passes = CalendarPasses(app.config, every=3600)
        passes.run_if_due()
        passes.run_if_due()  # not due again for an hour: no second read
    assert len(feed_server.requests("/e.ics")) == 1
    due, broken = feeds(app)
    assert due.last_success_at is not None and due.last_error is None
    assert broken.last_success_at is None and "no host" in broken.last_error
