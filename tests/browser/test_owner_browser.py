"""The owner's pages in Chromium: a visitor's booking followed into the owner's pipeline,
then every owner page checked with axe-core in light and dark, at phone and desktop width,
and photographed into test-artifacts/screenshots.
"""

import re
import time
from zoneinfo import ZoneInfo

import pyotp
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.checks import (
    assert_no_axe_violations,
    assert_no_horizontal_scroll,
    record_console_errors,
)
from tests.browser.test_booking_browser import fill_details, pick_day_and_first_time
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD
from tests.owner_data import NOTE, populate_owner_pages

pytestmark = pytest.mark.browser

SEED_SLUG = "ai-systems-architect-vs-ai-engineer"
WIDTHS = (375, 1280)  # a phone, a laptop
SECURITY_WIDTHS = WIDTHS
SCHEMES = ("light", "dark")
LONDON = ZoneInfo("Europe/London")


def log_in(context: BrowserContext, live_server: str) -> Page:
    page = context.new_page()
    page.goto(f"{live_server}/owner/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    return page


def test_owner_follows_a_new_booking_into_the_pipeline_then_logs_out(
    new_context, live_server, open_hours, owner_account
):
    visitor = new_context(timezone_id="Europe/London").new_page()
    visitor.goto(f"{live_server}/book?article={SEED_SLUG}&timezone=Europe/London")
    pick_day_and_first_time(visitor)
    fill_details(visitor, email="grace@compilers.example.com", consent=True)
    visitor.get_by_label("Company", exact=True).fill("Compilers Ltd")
    visitor.get_by_role("button", name="Book the call").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "Your call is booked, Grace Hopper"
    )

    owner_context = new_context()
    page = owner_context.new_page()
    console_errors = record_console_errors(page)
    page.goto(f"{live_server}/owner/")
    expect(page).to_have_url(re.compile(r"/owner/login\?next="))
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    new_leads = page.get_by_role("region", name="New leads since your last visit")
    expect(new_leads.get_by_role("listitem")).to_have_count(1)
    expect(new_leads.get_by_role("listitem")).to_contain_text("Grace Hopper, Compilers Ltd")
    expect(page.get_by_role("region", name="Next calls")).to_contain_text("Grace Hopper")

    page.get_by_role("navigation", name="Owner").get_by_role("link", name="Leads").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Leads")
    page.get_by_role("searchbox", name="Search").fill("Hopper")
    page.get_by_role("button", name="Show leads").click()
    expect(page).to_have_url(re.compile(r"q=Hopper"))
    expect(page.locator(".lead-count")).to_have_text("1 lead match these filters")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Compilers Ltd")
    rows.get_by_role("link", name="Grace Hopper").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Hopper")
    status = page.get_by_role("region", name="Status")
    status.get_by_label("Move to").select_option(label="Qualified")
    status.get_by_role("button", name="Change status").click()
    expect(page.locator(".lead-summary")).to_contain_text("Status: Qualified")
    expect(status.locator('.pipeline [aria-current="step"]')).to_have_text("Qualified")
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline.locator(".timeline-status").first).to_contain_text(
        re.compile(r"Status changed from .+ to Qualified")
    )

    timeline.get_by_label("Add a note").fill(NOTE)
    timeline.get_by_role("button", name="Add note").click()
    note = page.locator(".timeline-note")
    expect(note).to_have_count(1)
    expect(note.locator(".timeline-body")).to_have_text(NOTE)
    stamp = note.locator(".timeline-when time")
    expect(stamp).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d"))
    expect(stamp).to_have_text(re.compile(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d"))
    # Newest first: the note comes before the status change it followed.
    kinds = timeline.locator(".timeline > li").evaluate_all("items => items.map(i => i.className)")
    assert kinds.index("timeline-note") < kinds.index("timeline-status"), kinds

    page.get_by_role("navigation", name="Owner").get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server}/owner/login")
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    page.goto(f"{live_server}/owner/")
    expect(page).to_have_url(re.compile(r"/owner/login\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    assert console_errors == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_owner_pages_are_accessible_and_fit_the_screen(
    app, new_context, live_server, screenshot, open_hours, owner_account, scheme, width
):
    lead_id = populate_owner_pages(app)
    phone = width < 640
    context = new_context(color_scheme=scheme, viewport={"width": width, "height": 900})

    def check(page: Page, label: str) -> None:
        where = f"{label} ({scheme}, {width}px)"
        screenshot(page, f"{label}-{scheme}")
        assert_no_horizontal_scroll(page, where)
        assert_no_axe_violations(page, where)

    login = context.new_page()
    login.goto(f"{live_server}/owner/login")
    check(login, "login")
    login.get_by_label("Email").fill(OWNER_EMAIL)
    login.get_by_label("Password").fill("not the password")
    login.get_by_role("button", name="Log in").click()
    expect(login.get_by_role("alert")).to_contain_text("do not match")
    check(login, "login-refused")
    login.close()

    page = log_in(context, live_server)
    console_errors = record_console_errors(page)
    expect(page.get_by_role("region", name="Today")).to_contain_text("Ada Lovelace")
    expect(page.locator(".funnel-chart")).to_be_visible()
    check(page, "dashboard")

    page.goto(f"{live_server}/owner/leads")
    expect(page.locator(".lead-new").first).to_be_visible()
    expect(page.get_by_role("navigation", name="Pages of leads")).to_be_visible()
    search = page.get_by_role("searchbox", name="Search")
    if phone:  # the filters fold away, and each lead is a card as wide as the screen
        expect(search).to_be_hidden()
        card = page.locator(".lead-table tbody tr").first.bounding_box()
        assert card["x"] >= 0 and card["x"] + card["width"] <= width
        check(page, "leads-folded")
        page.get_by_text("Filters", exact=True).click()
    expect(search).to_be_visible()
    check(page, "leads")

    for label, shown_id in (("lead", lead_id), ("lead-long", lead_id + 1)):
        page.goto(f"{live_server}/owner/leads/{shown_id}")
        page.get_by_role("region", name="Privacy").locator(".danger-zone summary").click()
        expect(page.get_by_label(re.compile("to confirm"))).to_be_visible()
        check(page, label)
    page.goto(f"{live_server}/owner/leads/{lead_id}")
    expect(page.locator(".timeline-note")).to_contain_text("board meets in March")
    expect(page.locator(".details-differ")).to_contain_text("Chief Executive Officer")

    page.goto(f"{live_server}/owner/calendars")
    expect(page.locator(".feed-stale")).to_contain_text("500 Internal Server Error")
    check(page, "calendars")

    page.goto(f"{live_server}/owner/availability")
    expect(page.locator(".preview-times").first).to_be_visible()
    check(page, "availability")

    monday = page.get_by_role("group", name="Monday")
    monday.get_by_role("button", name="Add a range on Monday").click()
    expect(monday.locator(".time-range")).to_have_count(2)
    monday.get_by_label("From (Monday, range 2)").fill("07:00")
    monday.get_by_label("to (Monday, range 2)").fill("06:00")
    page.get_by_role("button", name="Save availability").click()
    expect(page.get_by_role("alert")).to_be_visible()
    monday = page.get_by_role("group", name="Monday")
    expect(monday.locator(".error")).to_have_text("The range 07:00–06:00 must end after it starts.")
    expect(monday.get_by_label("From (Monday, range 1)")).to_have_attribute("aria-invalid", "true")
    check(page, "availability-refused")
    # The refused range, the saved one and the empty row stay on screen; remove the bad one.
    expect(monday.locator(".time-range")).to_have_count(3)
    monday.get_by_role("button", name="Remove range 2 of Monday").click()
    expect(monday.locator(".time-range")).to_have_count(2)
    page.get_by_role("button", name="Save availability").click()
    expect(page.get_by_role("status")).to_contain_text("Availability saved")
    assert console_errors == []


def unexpected(console_errors: list[str]) -> list[str]:
    # Chromium logs the 401 of a refused code; that answer is the design.
    return [error for error in console_errors if "status of 401" not in error]


def next_step_code(secret: str) -> str:
    """The code of the next 30-second step: accepted now, and never one already used."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_owner_turns_on_two_factor_then_logs_in_with_a_code(
    new_context, live_server, owner_account
):
    context = new_context()
    page = log_in(context, live_server)
    console_errors = record_console_errors(page)
    page.get_by_role("navigation", name="Owner").get_by_role("link", name="Security").click()
    expect(page.get_by_role("heading", level=2, name="Two-factor sign-in is off")).to_be_visible()
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.locator(".totp-key").inner_text().replace(" ", "")

    page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")
    expect(page.locator(".code-list li")).to_have_count(10)
    recovery = page.locator(".code-list li").first.inner_text()
    page.get_by_role("link", name="I have saved them").click()
    expect(page.locator(".recovery-left")).to_contain_text("10 of 10")

    page.get_by_role("navigation", name="Owner").get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter a code")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_label("Code")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Code").fill(next_step_code(secret))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")

    page.get_by_role("navigation", name="Owner").get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_label("Code").fill(recovery)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("status")).to_contain_text("You used a recovery code: 9 left.")
    assert unexpected(console_errors) == []


@pytest.mark.parametrize("width", SECURITY_WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_security_pages_are_accessible_and_fit_the_screen(
    new_context, live_server, screenshot, owner_account, scheme, width
):
    context = new_context(color_scheme=scheme, viewport={"width": width, "height": 900})

    def check(page: Page, label: str) -> None:
        where = f"{label} ({scheme}, {width}px)"
        screenshot(page, f"{label}-{scheme}")
        assert_no_horizontal_scroll(page, where)
        assert_no_axe_violations(page, where)

    page = log_in(context, live_server)
    console_errors = record_console_errors(page)
    page.goto(f"{live_server}/owner/security")
    check(page, "security-off")
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    expect(page.locator("figure.qr svg")).to_be_visible()
    check(page, "security-setup")
    secret = page.locator(".totp-key").inner_text().replace(" ", "")
    page.get_by_label("Code from your app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_label("Code from your app")).to_have_attribute("aria-invalid", "true")
    check(page, "security-setup-refused")
    page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator(".code-list li")).to_have_count(10)
    check(page, "recovery-codes")
    page.get_by_role("link", name="I have saved them").click()
    page.locator(".danger-zone summary").click()
    check(page, "security-on")

    page.get_by_role("navigation", name="Owner").get_by_role("button", name="Log out").click()
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter a code")
    check(page, "login-code")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_label("Code")).to_have_attribute("aria-invalid", "true")
    check(page, "login-code-refused")
    page.get_by_label("Code").fill(next_step_code(secret))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    assert unexpected(console_errors) == []
