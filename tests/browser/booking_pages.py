"""What the booking browser tests share: the visitor's answers, and the steps a visitor takes
through step 1 (the picker), step 2 (the details form) and the manage and cancel pages."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlalchemy import select

from extensions import db
from models import Booking
from tests.browser.checks import assert_no_axe_violations, assert_no_horizontal_scroll

SEED_SLUG = "ai-systems-architect-vs-ai-engineer"
WIDTHS = (375, 1280)
SCHEMES = ("light", "dark")
ANSWERS = {
    "Your name": "Grace Hopper",
    "Work email": "grace@compilers.example.com",
    "Company": "Compilers Inc",
    "Your role": "Chief Technology Officer",
    "Anything else we should know?": "Three pilots, no shared platform; where do we start?",
}
COMPANY_SIZE = "51-200"
SITUATIONS = (
    "Scaling AI across multiple departments simultaneously",
    "Existing AI investments are not compounding or integrating",
)
CONSENT = re.compile(r"^I agree that Saed Shafane may store my answers")
BAD_EMAIL = "grace@"

TWENTY_FOUR_HOURS = """time => new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  timeZone: document.querySelector("#picker-body").dataset.timezone,
}).format(new Date(time.dateTime))"""

# What a keyboard user hears for the focused element: its label, else its own text.
FOCUSED_NAME = """() => { const el = document.activeElement;
  return ((el.labels && el.labels[0] ? el.labels[0].innerText : el.innerText) || '').trim(); }"""


def open_step_two(page: Page, live_server: str) -> None:
    """Step 1 in London's zone, then its first time: the details form."""
    page.goto(f"{live_server}/book?article={SEED_SLUG}&timezone=Europe/London")
    page.locator("section.time-list a.time").first.click()
    expect(page.get_by_role("group", name="Your call")).to_be_visible()


def open_prepare(page: Page) -> None:
    """Unfold "Help me prepare (optional)" unless a redisplay left it open."""
    fold = page.locator("details.prepare")
    if fold.get_attribute("open") is None:
        fold.locator("summary").click()


def fill_details(page: Page, *, email: str, consent: bool) -> None:
    open_prepare(page)
    for label, value in ANSWERS.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Company size").select_option(COMPANY_SIZE)
    for situation in SITUATIONS:
        page.get_by_role("checkbox", name=situation).check()
    page.get_by_role("checkbox", name=CONSENT).set_checked(consent)


def pick_day_and_first_time(page: Page, day_index: int = 1) -> str:
    """Choose a day other than the preselected one, then its first time; returns the time."""
    days = page.get_by_role("navigation", name="Days with free times").locator("a[data-day]")
    days.nth(day_index).click()
    expect(days.nth(day_index)).to_have_attribute("aria-current", "date")
    expect(page.locator('[aria-current="date"]')).to_have_count(1)
    first_time = page.locator("section.time-list a.time").first
    # The label follows the visitor's clock (12 or 24 hours); the next pages show 24 hours.
    time_text = first_time.locator("time").evaluate(TWENTY_FOUR_HOURS)
    assert re.fullmatch(r"\d\d:\d\d", time_text)
    first_time.click()
    return time_text


def cancel_from_manage_page(page: Page) -> None:
    """Manage page -> the confirmation page -> cancelled."""
    page.get_by_role("link", name="Cancel this call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your call?")
    page.get_by_role("button", name="Cancel the call").click()


def manage_url_of(visitor) -> str:
    """Book a call through the test client; the path of its manage page."""
    return visitor.book().headers["Location"].removesuffix("/confirmed")


def booking_row(app) -> Booking:
    with app.app_context():
        found = db.session.scalars(select(Booking)).one()
        db.session.expunge(found)
        return found


def focused_name(page: Page) -> str:
    return page.evaluate(FOCUSED_NAME)


def tab_to(page: Page, text: str, limit: int = 60) -> None:
    """Press Tab until the focused element's name starts with `text`, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_name(page).startswith(text):
            return
    raise AssertionError(f"{limit} Tabs never reached {text!r}")


def tab_to_element(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the focused element matches the CSS `selector`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{limit} Tabs never reached {selector!r}")


def documents_requested(page: Page) -> list[str]:
    """Every document (page) request the tab makes: a reload or redirect shows up here."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if r.resource_type == "document" else None)
    return seen


def expected_labels(page: Page, zone: str) -> list[str]:
    """Each shown time's instant, written in `zone` on a 24-hour clock (Python's zoneinfo)."""
    instants = page.locator("#times time").evaluate_all("ts => ts.map(t => t.dateTime)")
    return [
        datetime.fromisoformat(i.replace("Z", "+00:00"))
        .astimezone(ZoneInfo(zone))
        .strftime("%H:%M")
        for i in instants
    ]


def check_page(page: Page, screenshot, label: str, scheme: str, width: int) -> None:
    """Photograph the page as <test>-<label>-<scheme>-<width>.png, then check it fits the
    screen and passes axe."""
    where = f"{label} ({scheme}, {width}px)"
    screenshot(page, f"{label}-{scheme}")
    assert_no_horizontal_scroll(page, where)
    assert_no_axe_violations(page, where)
