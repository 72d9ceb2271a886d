"""Step 2's short form and the cancel confirmation, in Chromium: the form fits a laptop
screen with "Help me prepare" folded, the fold and the cancel flow work by keyboard alone,
and axe finds nothing at phone and desktop width, light and dark."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import Booking
from tests.browser.booking_pages import (
    SCHEMES,
    WIDTHS,
    check_page,
    focused_name,
    manage_url_of,
    open_step_two,
    tab_to,
)
from tests.browser.checks import (
    record_console_errors,
)

pytestmark = pytest.mark.browser


def test_step_two_fits_a_laptop_screen_with_the_fold_closed(new_context, live_server, open_hours):
    page = new_context(viewport={"width": 1280, "height": 800}).new_page()
    open_step_two(page, live_server)
    expect(page.locator("details.prepare")).not_to_have_attribute("open", "")
    button = page.get_by_role("button", name="Book the call")
    box = button.bounding_box()
    assert box is not None
    bottom = box["y"] + box["height"]
    print(f"step 2 at 1280x800, fold closed: the submit button ends at {bottom:.0f}px")
    assert bottom <= 800, f"the button ends at {bottom}px"
    # The visible questions are the short ones; the rest wait under the fold.
    for label in ("Your name", "Work email", "Company", "Your role", "Company size"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    expect(page.get_by_label("Anything else we should know?")).to_be_hidden()


TYPEFACES = """() => {
  const family = el => getComputedStyle(el).fontFamily;
  return { interface: family(document.querySelector(".site-header")),
           hints: Array.from(document.querySelectorAll(".hint"), family) };
}"""


def test_hints_on_booking_pages_share_the_interface_typeface(new_context, live_server, visitor):
    """Small print in the serif of the articles reads as a misprint beside the form's hints."""
    page = new_context().new_page()
    open_step_two(page, live_server)
    manage_url = live_server + manage_url_of(visitor)
    for where in ("step 2", "manage"):
        if where == "manage":
            page.goto(manage_url)
        fonts = page.evaluate(TYPEFACES)
        assert fonts["hints"], where
        assert set(fonts["hints"]) == {fonts["interface"]}, (where, fonts)


def test_change_link_lines_up_with_the_time_on_a_phone(new_context, live_server, open_hours):
    page = new_context(viewport={"width": 375, "height": 800}).new_page()
    open_step_two(page, live_server)
    time_box = page.locator(".chosen-when strong").bounding_box()
    change_box = page.get_by_role("link", name="Change the time").bounding_box()
    assert change_box["y"] >= time_box["y"] + time_box["height"]  # on a line of its own
    assert abs(change_box["x"] - time_box["x"]) < 1, (change_box, time_box)


def test_the_fold_opens_by_keyboard(new_context, live_server, open_hours):
    page = new_context(viewport={"width": 1280, "height": 800}).new_page()
    open_step_two(page, live_server)
    page.get_by_label("Company size").focus()
    tab_to(page, "Help me prepare (optional)")
    page.keyboard.press("Enter")
    expect(page.locator("details.prepare")).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.getAttribute('name')")
    assert focused == "situation"  # straight into the first question of the fold
    message = page.get_by_label("Anything else we should know?")
    expect(message).to_be_visible()
    # Enter on the summary folds it again.
    page.locator("details.prepare summary").focus()
    page.keyboard.press("Enter")
    expect(message).to_be_hidden()


def test_cancel_by_keyboard_with_a_reason(app, new_context, live_server, visitor):
    page = new_context(viewport={"width": 1280, "height": 800}).new_page()
    console_errors = record_console_errors(page)
    page.goto(live_server + manage_url_of(visitor))
    tab_to(page, "Cancel this call")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your call?")
    tab_to(page, "Why are you cancelling?")
    page.keyboard.type("The project was paused.")
    page.keyboard.press("Tab")
    assert focused_name(page) == "Cancel the call"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Your call is cancelled")
    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        assert (booking.status, booking.cancel_reason) == ("cancelled", "The project was paused.")
    assert console_errors == []


def test_keep_it_leaves_the_call_booked(app, new_context, live_server, visitor):
    page = new_context().new_page()
    page.goto(live_server + manage_url_of(visitor) + "/cancel")
    page.get_by_role("link", name="Keep it").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your strategy call")
    with app.app_context():
        assert db.session.scalars(select(Booking)).one().status == "active"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_step_two_manage_and_cancel_are_accessible(
    new_context, live_server, screenshot, visitor, scheme, width
):
    page = new_context(color_scheme=scheme, viewport={"width": width, "height": 800}).new_page()
    console_errors = record_console_errors(page)

    def check(label: str) -> None:
        check_page(page, screenshot, label, scheme, width)

    open_step_two(page, live_server)
    check("step-two")
    page.locator("details.prepare summary").click()
    check("step-two-open")

    manage_url = live_server + manage_url_of(visitor)
    page.goto(manage_url)
    check("manage")
    page.get_by_role("link", name="Cancel this call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your call?")
    check("cancel")

    reason = page.get_by_label(re.compile("^Why are you cancelling"))
    reason.evaluate("el => el.removeAttribute('maxlength')")  # as a browser without it
    reason.fill("x" * 1001)
    page.get_by_role("button", name="Cancel the call").click()
    expect(page.locator("#reason-error")).to_have_text(
        "Please keep the reason to 1,000 characters or fewer."
    )
    check("cancel-error")
    assert console_errors == []
