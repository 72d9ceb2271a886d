"""Error pages as a visitor meets them in Chromium, at phone and desktop width, light and
dark: a booking form whose session ended while it was open comes back with every answer
and books on the next click; nginx's own pages (static/errors/) fit and pass axe."""

import pytest
from playwright.sync_api import expect

from models import Booking
from tests.browser.booking_pages import (
    ANSWERS,
    SCHEMES,
    WIDTHS,
    check_page,
    fill_details,
    open_step_two,
)
from tests.test_booking_pages import count

pytestmark = pytest.mark.browser

NGINX_PAGES = {
    "nginx-unavailable": ("/static/errors/unavailable.html", "The site is not answering just now"),
    "nginx-too-large": ("/static/errors/too-large.html", "That was more than we can accept"),
}


@pytest.fixture
def with_csrf(settings):
    settings["WTF_CSRF_ENABLED"] = True
    return settings


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_form_whose_session_ended_keeps_its_answers_and_books_when_sent_again(
    with_csrf, app, new_context, live_server, open_hours, screenshot, scheme, width
):
    context = new_context(color_scheme=scheme, viewport={"width": width, "height": 900})
    page = context.new_page()
    open_step_two(page, live_server)
    fill_details(page, email="grace@compilers.example.com", consent=True)
    context.clear_cookies()  # the session ends while the form is open
    page.get_by_role("button", name="Book the call").click()

    expect(page.get_by_text("Your form had expired before it reached us")).to_be_visible()
    for label, value in ANSWERS.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    check_page(page, screenshot, "expired-form", scheme, width)
    assert count(app, Booking) == 0

    page.get_by_role("button", name="Book the call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your call is booked, {ANSWERS['Your name']}"
    )
    assert count(app, Booking) == 1


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", NGINX_PAGES)
def test_nginxs_own_error_pages_fit_and_pass_axe(
    new_context, live_server, screenshot, name, scheme, width
):
    path, heading = NGINX_PAGES[name]
    page = new_context(color_scheme=scheme, viewport={"width": width, "height": 900}).new_page()
    page.goto(live_server + path)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    check_page(page, screenshot, name, scheme, width)
