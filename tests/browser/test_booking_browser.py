"""Booking a strategy call in Chromium: from the article to a booked, then cancelled, call.

With JavaScript the visitor's zone is detected; without it the zone list and the forms work
alone. Every booking page is checked with axe-core in light and dark, at phone and desktop
width, and photographed into test-artifacts/screenshots.
"""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import Booking
from tests.browser.booking_pages import (
    ANSWERS,
    BAD_EMAIL,
    COMPANY_SIZE,
    CONSENT,
    SCHEMES,
    SEED_SLUG,
    SITUATIONS,
    WIDTHS,
    booking_row,
    cancel_from_manage_page,
    check_page,
    fill_details,
    focused_name,
    pick_day_and_first_time,
    tab_to,
    tab_to_element,
)
from tests.browser.checks import (
    record_console_errors,
)

pytestmark = pytest.mark.browser


def test_reader_books_a_call_from_the_article_and_cancels_it(
    app, new_context, live_server, open_hours
):
    page = new_context(timezone_id="America/New_York").new_page()
    console_errors = record_console_errors(page)
    page.goto(f"{live_server}/library/{SEED_SLUG}")
    next_step = page.get_by_role("complementary", name="Architect a System")
    next_step.get_by_role("link", name="Book a strategy call").click()

    # picker.js reads the browser's zone and shows the picker in it, without a reload.
    expect(page.locator(".zone-note")).to_contain_text(re.compile(r"New York \(GMT-[45]\)"))
    assert f"article={SEED_SLUG}" in page.url
    expect(page.get_by_label("Your time zone")).to_have_value("America/New_York")

    time_text = pick_day_and_first_time(page)
    chosen = page.get_by_role("group", name="Your call")
    expect(chosen).to_contain_text(time_text)
    expect(chosen).to_contain_text(re.compile(r"New York \(GMT-[45]\)"))

    fill_details(page, email=ANSWERS["Work email"], consent=True)
    page.get_by_role("button", name="Book the call").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your call is booked, {ANSWERS['Your name']}"
    )
    times = page.locator("dl.call-times")
    expect(times).to_contain_text(time_text)
    expect(times).to_contain_text(re.compile(r"New York \(GMT-[45]\)"))
    # Saed's own time beside the visitor's
    expect(times).to_contain_text(re.compile(r"London \(GMT\+[01]\)"))
    stored = booking_row(app)
    assert (stored.visitor_timezone, stored.source_article) == ("America/New_York", SEED_SLUG)

    page.get_by_role("link", name="manage your booking").click()
    call = page.get_by_role("article")
    expect(call).to_have_count(1)
    cancel_from_manage_page(page)

    expect(page.get_by_role("status")).to_contain_text("Your call is cancelled")
    expect(page.get_by_role("heading", level=2)).to_contain_text("Cancelled: call on")
    expect(call.get_by_role("link", name="Cancel this call")).to_have_count(0)
    assert booking_row(app).status == "cancelled"
    assert console_errors == []


def test_booking_without_javascript_keeps_answers_beside_the_errors(
    app, new_context, live_server, open_hours
):
    page = new_context(java_script_enabled=False).new_page()
    console_errors = record_console_errors(page)
    page.goto(f"{live_server}/book?article={SEED_SLUG}")
    page.get_by_label("Your time zone").select_option("Asia/Kolkata")
    page.get_by_role("button", name="Show times").click()
    expect(page).to_have_url(re.compile(r"timezone=Asia(%2F|/)Kolkata"))
    expect(page.locator(".zone-note")).to_contain_text("Kolkata (GMT+5:30)")

    time_text = pick_day_and_first_time(page)
    expect(page.get_by_role("group", name="Your call")).to_contain_text("Kolkata (GMT+5:30)")
    fill_details(page, email=BAD_EMAIL, consent=False)
    page.get_by_role("button", name="Book the call").click()

    expect(page.get_by_role("alert")).to_contain_text("Please correct the answers marked below")
    email = page.get_by_label("Work email")
    email_field = page.locator(".field", has=email)
    expect(email_field.locator(".error")).to_have_text(re.compile("valid email address"))
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(re.compile("valid email address"))
    consent = page.get_by_role("checkbox", name=CONSENT)
    consent_field = page.locator(".field", has=consent)
    expect(consent_field.locator(".error")).to_have_text(re.compile("Please agree"))
    expect(consent).to_have_accessible_description(re.compile("Please agree"))
    expect(page.locator(".error")).to_have_count(2)

    # Every other answer is still there, and the same time in the same zone.
    for label, value in ANSWERS.items():
        expected = BAD_EMAIL if label == "Work email" else value
        expect(page.get_by_label(label, exact=True)).to_have_value(expected)
    expect(page.get_by_label("Company size")).to_have_value(COMPANY_SIZE)
    for situation in SITUATIONS:
        expect(page.get_by_role("checkbox", name=situation)).to_be_checked()
    expect(page.locator('input[name="situation"]:checked')).to_have_count(len(SITUATIONS))
    expect(consent).not_to_be_checked()
    chosen = page.get_by_role("group", name="Your call")
    expect(chosen).to_contain_text(time_text)
    expect(chosen).to_contain_text("Kolkata (GMT+5:30)")

    email.fill(ANSWERS["Work email"])
    consent.check()
    page.get_by_role("button", name="Book the call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your call is booked, {ANSWERS['Your name']}"
    )
    expect(page.locator("dl.call-times")).to_contain_text(time_text)
    expect(page.locator("dl.call-times")).to_contain_text("Kolkata (GMT+5:30)")
    stored = booking_row(app)
    assert (stored.visitor_timezone, stored.status) == ("Asia/Kolkata", "active")
    assert console_errors == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_keyboard_alone_books_a_call(app, new_context, live_server, open_hours, javascript):
    context = new_context(java_script_enabled=javascript, timezone_id="Asia/Kolkata")
    page = context.new_page()
    page.goto(f"{live_server}/book?timezone=Asia/Kolkata")
    tab_to_element(page, "a[data-day]:not([aria-current])")
    day = page.evaluate("document.activeElement.dataset.day")
    page.keyboard.press("Enter")
    expect(page.locator("#picker-body")).to_have_attribute("data-day", day)
    first_time = page.locator("section.time-list a.time").first
    if not javascript:
        # The page lands on #times, so the next Tab is the day's first time.
        expect(page).to_have_url(re.compile(r"#times$"))
        page.keyboard.press("Tab")
    expect(first_time).to_be_focused()  # with the script, focus is there at once
    slot = first_time.locator("time").get_attribute("datetime")
    page.keyboard.press("Enter")

    expect(page.get_by_role("group", name="Your call")).to_contain_text("Kolkata (GMT+5:30)")
    for label in ("Your name", "Work email", "Company", "Your role"):
        tab_to(page, label)
        page.keyboard.type(ANSWERS[label])
    page.keyboard.press("Tab")
    assert focused_name(page) == "Company size"
    page.keyboard.press("ArrowDown")  # the first size; a closed list changes in place
    tab_to(page, "I agree that Saed Shafane")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert focused_name(page) == "Book the call"
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your call is booked, {ANSWERS['Your name']}"
    )
    stored = booking_row(app)
    assert stored.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ") == slot
    assert (stored.visitor_timezone, stored.email) == ("Asia/Kolkata", ANSWERS["Work email"])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_booking_pages_are_accessible_and_fit_the_screen(
    new_context, live_server, screenshot, open_hours, scheme, width
):
    context = new_context(color_scheme=scheme, viewport={"width": width, "height": 900})
    page = context.new_page()
    console_errors = record_console_errors(page)

    def check(label: str) -> None:
        check_page(page, screenshot, label, scheme, width)

    page.goto(f"{live_server}/book?article={SEED_SLUG}&timezone=Europe/London")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a strategy call")
    check("picker")

    pick_day_and_first_time(page)
    expect(page.get_by_role("group", name="Your call")).to_be_visible()
    check("details")

    fill_details(page, email=BAD_EMAIL, consent=False)
    page.get_by_role("button", name="Book the call").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check("details-errors")

    page.get_by_label("Work email").fill(ANSWERS["Work email"])
    page.get_by_role("checkbox", name=CONSENT).check()
    page.get_by_role("button", name="Book the call").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your call is booked")
    check("confirmed")

    page.get_by_role("link", name="manage your booking").click()
    expect(page.get_by_role("link", name="Cancel this call")).to_be_visible()
    check("manage")

    page.get_by_role("link", name="Reschedule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Move your call")
    check("reschedule")

    new_time = pick_day_and_first_time(page, day_index=2)
    expect(page.get_by_role("heading", name="Confirm the new time")).to_be_visible()
    check("reschedule-confirm")

    page.get_by_role("button", name="Move my call to this time").click()
    expect(page.get_by_role("status")).to_contain_text("Your call has moved")
    expect(page.locator("dl.call-times")).to_contain_text(new_time)
    check("rescheduled")

    page.get_by_role("link", name="manage your booking").click()
    cancel_from_manage_page(page)
    expect(page.get_by_role("status")).to_contain_text("Your call is cancelled")
    check("manage-cancelled")
    assert console_errors == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_time_taken_meanwhile_offers_other_times_with_answers_kept(
    app, new_context, live_server, screenshot, open_hours, visitor, scheme, width
):
    context = new_context(color_scheme=scheme, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/book?article={SEED_SLUG}&timezone=Europe/London")
    page.locator("section.time-list a.time").first.click()
    fill_details(page, email=ANSWERS["Work email"], consent=True)
    taken = page.locator('input[name="slot"]').input_value()
    # Someone else books that very time while this visitor is still typing.
    assert visitor.book(slot=taken).status_code == 303

    page.get_by_role("button", name="Book the call").click()
    chosen = page.get_by_role("group", name="Your call")
    expect(chosen.locator(".error")).to_have_text("That time was just taken, please pick another.")
    expect(page.get_by_label("Your name")).to_have_value(ANSWERS["Your name"])
    expect(page.get_by_role("checkbox", name=CONSENT)).to_be_checked()
    other_times = chosen.get_by_role("radio")
    expect(other_times.first).to_be_visible()
    check_page(page, screenshot, "alternatives", scheme, width)

    other_times.first.check()
    page.get_by_role("button", name="Book the call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your call is booked, {ANSWERS['Your name']}"
    )
    with app.app_context():
        assert len(db.session.scalars(select(Booking)).all()) == 2


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_link_pages_are_accessible_and_fit_the_screen(
    new_context, live_server, screenshot, open_hours, visitor, scheme, width
):
    """The pages around private links: a dead link, asking for links, a replayed form."""
    options = {"color_scheme": scheme, "viewport": {"width": width, "height": 900}}
    page = new_context(**options).new_page()

    def check(label: str) -> None:
        check_page(page, screenshot, label, scheme, width)

    page.goto(f"{live_server}/booking/{'x' * 43}")  # answered 404, as it must be
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    check("link-not-valid")
    console_errors = record_console_errors(page)

    page.get_by_label("Your email address").fill("grace@")
    page.get_by_role("button", name="Send me my booking links").click()
    expect(page.get_by_role("alert")).to_be_visible()
    check("request-links-error")

    page.get_by_label("Your email address").fill(ANSWERS["Work email"])
    page.get_by_role("button", name="Send me my booking links").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    check("links-sent")

    # Another browser sends a form this one was never given: it learns nothing.
    first = new_context(**options).new_page()
    first.goto(f"{live_server}/book?article={SEED_SLUG}&timezone=Europe/London")
    first.locator("section.time-list a.time").first.click()
    fill_details(first, email=ANSWERS["Work email"], consent=True)
    key = first.locator('input[name="submission_key"]').input_value()
    first.get_by_role("button", name="Book the call").click()
    expect(first.get_by_role("heading", level=1)).to_contain_text("Your call is booked")
    page.goto(f"{live_server}/book?article={SEED_SLUG}&timezone=Europe/London")
    page.locator("section.time-list a.time").nth(1).click()
    fill_details(page, email=ANSWERS["Work email"], consent=True)
    page.locator('input[name="submission_key"]').evaluate("(input, key) => input.value = key", key)
    page.get_by_role("button", name="Book the call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("This form was already sent")
    check("already-received")
    assert console_errors == []
