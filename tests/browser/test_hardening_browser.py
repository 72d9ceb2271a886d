"""The pages this issue added, in Chromium: the 413 and 503 pages a visitor may meet, and
the dashboard's list of emails that could not be sent. Checked with axe-core in light and
dark, at phone and desktop width, and photographed into test-artifacts/screenshots."""

import re

import pytest
from playwright.sync_api import Page, expect

from domain.booking.tokens import utc_now
from domain.mail.emails import EmailDraft
from domain.mail.outbox import enqueue
from extensions import db
from models import OutboxMessage
from tests.browser.checks import assert_no_axe_violations, assert_no_horizontal_scroll
from tests.browser.test_booking_browser import fill_details, pick_day_and_first_time
from tests.browser.test_owner_browser import log_in
from tests.test_owner_dashboard import add_lead

pytestmark = pytest.mark.browser

WIDTHS = (375, 1280)
SCHEMES = ("light", "dark")
SEED_SLUG = "ai-systems-architect-vs-ai-engineer"


def check(page: Page, screenshot, label: str, scheme: str, width: int) -> None:
    where = f"{label} ({scheme}, {width}px)"
    screenshot(page, f"{label}-{scheme}")
    assert_no_horizontal_scroll(page, where)
    assert_no_axe_violations(page, where)


@pytest.fixture
def small_bodies(settings):
    """A limit the booking form's own answers exceed, so a real submit meets the 413."""
    settings["MAX_CONTENT_LENGTH"] = 300
    return settings


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_body_too_large_meets_a_friendly_page(
    small_bodies, new_context, live_server, screenshot, open_hours, scheme, width
):
    page = new_context(color_scheme=scheme, viewport={"width": width, "height": 800}).new_page()
    page.goto(f"{live_server}/book?article={SEED_SLUG}")
    pick_day_and_first_time(page)
    fill_details(page, email="grace@compilers.example.com", consent=True)
    page.get_by_role("button", name="Book the call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("That was more than we can accept")
    check(page, screenshot, "too-large", scheme, width)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_database_down_meets_a_friendly_page(
    new_context, live_server, screenshot, open_hours, database_outage, scheme, width
):
    page = new_context(color_scheme=scheme, viewport={"width": width, "height": 800}).new_page()
    database_outage.cut()
    response = page.goto(f"{live_server}/book?article={SEED_SLUG}")
    assert response.status == 503
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "We can’t reach our records right now"
    )
    check(page, screenshot, "database-down", scheme, width)


def failed_emails(app) -> None:
    lead_id = add_lead(app, name="Grace Hopper")
    drafts = [
        ("visitor_confirmation", "grace@compilers.example.com\r\nBcc: x@example.com",
         "cannot build the message: the To address holds a line break or a control character"),
        ("owner_notification", "owner@example.test",
         "550 'mailbox unavailable: the recipient's mailbox is full and cannot take more mail'"),
    ]  # fmt: skip
    with app.app_context():
        for kind, to, error in drafts:
            draft = EmailDraft(to=to, subject="Your call", body_text="Hello")
            message = enqueue(db.session, draft, kind=kind, lead_id=lead_id, now=utc_now())
            db.session.flush()
            message.status, message.last_error, message.claimed_at = "failed", error, utc_now()
            message.attempts = 1
        db.session.commit()
        assert db.session.query(OutboxMessage).count() == 2


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_owner_sees_emails_that_could_not_be_sent(
    app, new_context, live_server, screenshot, owner_account, scheme, width
):
    failed_emails(app)
    context = new_context(color_scheme=scheme, viewport={"width": width, "height": 900})
    page = log_in(context, live_server)
    panel = page.get_by_role("region", name="Messages that could not be sent")
    expect(panel.get_by_role("listitem")).to_have_count(2)
    check(page, screenshot, "dashboard-failed-mail", scheme, width)
    panel.get_by_role("button", name=re.compile(r"Send again.*New booking, to you")).click()
    expect(page.get_by_role("status")).to_contain_text("back in the queue")
    expect(panel.get_by_role("listitem")).to_have_count(1)
