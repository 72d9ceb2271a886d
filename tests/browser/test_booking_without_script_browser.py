"""The booking pages as a browser without JavaScript gets them, checked with axe-core at phone
and desktop width, light and dark: step 1 (the picker), step 2 (the details), the manage page
and the cancel confirmation.

axe-core is itself a page script, so it never runs in a context with JavaScript disabled.
These tests keep JavaScript on and block the site's own scripts instead: the browser then
renders exactly the page a visitor without JavaScript sees, and axe can still be injected.
One context per colour scheme checks every page at both widths.
"""

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.booking_pages import SCHEMES, SEED_SLUG, WIDTHS, check_page, manage_url_of

pytestmark = pytest.mark.browser


def block_site_scripts(page: Page) -> list[str]:
    """Refuse every /static/js/ file to the page; returns the scripts it asked for."""
    blocked: list[str] = []

    def refuse(route: Route) -> None:
        blocked.append(route.request.url)
        route.abort()

    page.route("**/static/js/**", refuse)
    return blocked


def check_each_booking_page(page: Page, screenshot, live_server, manage_url, scheme, width):
    page.set_viewport_size({"width": width, "height": 800})

    def check(label: str) -> None:
        check_page(page, screenshot, f"nojs-{label}", scheme, width)

    # No script, so no detected zone: the zone comes in the address, as the form sends it.
    page.goto(f"{live_server}/book?article={SEED_SLUG}&timezone=Asia/Kolkata")
    expect(page.get_by_role("button", name="Show times")).to_be_visible()
    expect(page.locator("#zone-search")).to_have_count(0)  # picker.js never ran
    check("picker")

    page.locator("section.time-list a.time").first.click()
    expect(page.get_by_role("group", name="Your call")).to_contain_text("Kolkata (GMT+5:30)")
    check("details")

    page.goto(manage_url)
    expect(page.get_by_role("link", name="Cancel this call")).to_be_visible()
    check("manage")

    page.get_by_role("link", name="Cancel this call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your call?")
    check("cancel")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_booking_pages_without_scripts_pass_axe(
    new_context, live_server, screenshot, visitor, scheme
):
    page = new_context(color_scheme=scheme, timezone_id="Asia/Kolkata").new_page()
    blocked = block_site_scripts(page)
    manage_url = live_server + manage_url_of(visitor)
    for width in WIDTHS:
        check_each_booking_page(page, screenshot, live_server, manage_url, scheme, width)
    assert any("/static/js/picker.js" in url for url in blocked), blocked
