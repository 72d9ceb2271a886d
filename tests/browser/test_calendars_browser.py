"""In Chromium: the owner adds a calendar feed on /owner/calendars, and the busy time it
holds disappears from /book. The page passes axe and does not scroll sideways at phone
and desktop width."""

from urllib.parse import unquote

import pytest
from playwright.sync_api import Page, expect

from tests.browser.checks import (
    assert_no_axe_violations,
    assert_no_horizontal_scroll,
    record_console_errors,
)
from tests.browser.test_owner_browser import log_in
from tests.feed_server import calendar_text
from tests.test_calendar_feeds import at, day_ahead, meeting

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("allow_private")]


def offered_times(page: Page, live_server: str, day) -> set[str]:
    page.goto(f"{live_server}/book?timezone=Europe/London&day={day.isoformat()}")
    hrefs = page.locator("a[href*='slot=']").evaluate_all("links => links.map(l => l.href)")
    return {unquote(href.split("slot=", 1)[1].split("&", 1)[0]) for href in hrefs}


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_owner_adds_a_feed_and_the_busy_slot_leaves_book(
    new_context, live_server, open_hours, owner_account, feed_server, screenshot
):
    day = day_ahead(3)
    url = feed_server.serve("/secret-8d2f/basic.ics", calendar_text(meeting(day, 10, 11)))
    visitor = new_context(timezone_id="Europe/London").new_page()
    before = offered_times(visitor, live_server, day)
    assert {iso(at(day, 10)), iso(at(day, 11))} <= before

    owner = log_in(new_context(viewport={"width": 1280, "height": 900}), live_server)
    errors = record_console_errors(owner)
    owner.get_by_role("link", name="Calendars").click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Calendars")
    owner.get_by_label("Feed address").fill(url)
    owner.get_by_label("Name (optional)").fill("Client work")
    owner.get_by_role("button", name="Add calendar").click()
    expect(owner.get_by_role("status").or_(owner.locator(".flash"))).to_contain_text("1 event read")
    expect(owner.get_by_role("heading", name="Client work")).to_be_visible()
    assert "secret-8d2f" not in owner.content()

    after = offered_times(visitor, live_server, day)
    assert iso(at(day, 10)) not in after and iso(at(day, 10).replace(minute=30)) not in after
    assert iso(at(day, 11)) in after

    for width in (375, 1280):
        owner.set_viewport_size({"width": width, "height": 900})
        owner.goto(f"{live_server}/owner/calendars")
        assert_no_axe_violations(owner, f"/owner/calendars at {width}px")
        assert_no_horizontal_scroll(owner, f"/owner/calendars at {width}px")
        screenshot(owner, f"calendars-{width}")
    assert errors == []


def test_a_refused_feed_shows_its_error_beside_the_field(
    new_context, live_server, owner_account, feed_server
):
    owner = log_in(new_context(viewport={"width": 375, "height": 800}), live_server)
    owner.goto(f"{live_server}/owner/calendars")
    owner.get_by_label("Feed address").fill("ftp://calendar.example/feed.ics")
    owner.get_by_role("button", name="Add calendar").click()
    field = owner.get_by_label("Feed address")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(owner.locator("#url-error")).to_have_text("Give an https:// (or webcal://) address.")
    assert_no_axe_violations(owner, "/owner/calendars with an error at 375px")
    assert_no_horizontal_scroll(owner, "/owner/calendars with an error at 375px")
