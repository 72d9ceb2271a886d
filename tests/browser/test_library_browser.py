"""The library as a reader meets it in Chromium: links, layout, accessibility, no JavaScript."""

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_no_axe_violations

pytestmark = pytest.mark.browser

SEED_SLUG = "ai-systems-architect-vs-ai-engineer"
SEED_TITLE = "AI Systems Architect vs AI Engineer: What's the Difference?"
TOPIC_PATH = "/library/topics/ai-systems-architecture"
PAGES = {
    "library": "/",
    "article": f"/library/{SEED_SLUG}",
    "topic": TOPIC_PATH,
}
WIDTHS = (360, 1280)


def test_reader_follows_article_to_topic_and_call_to_action(page, live_server):
    page.goto(live_server + "/")
    page.get_by_role("link", name=SEED_TITLE).click()
    expect(page).to_have_url(f"{live_server}/library/{SEED_SLUG}")
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED_TITLE)

    page.get_by_role("link", name="Explore AI Systems Architecture →").click()
    expect(page).to_have_url(live_server + TOPIC_PATH)
    expect(page.get_by_role("heading", level=1)).to_have_text("AI Systems Architecture")

    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED_TITLE)
    next_step = page.get_by_role("complementary", name="Architect a System")
    expect(next_step).to_contain_text("Next step")
    # Only the address the browser asked for: what /book then does is not this test's concern.
    with page.expect_request(lambda request: request.is_navigation_request()) as booking:
        next_step.get_by_role("link", name="Book a strategy call").click()
    assert booking.value.url == f"{live_server}/book?article={SEED_SLUG}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_page_fits_viewport_without_horizontal_scroll(
    new_context, live_server, screenshot, name, width
):
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    console_errors = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server + PAGES[name])
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    screenshot(page, name)
    assert scroll_width <= inner_width, f"{name} scrolls sideways at {width}px: {scroll_width}px"
    # A blocked inline style or script (the CSP forbids them) shows up here.
    assert console_errors == []


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_accessibility_violations(new_context, live_server, name, width):
    page = new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(live_server + PAGES[name])
    assert_no_axe_violations(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_article_has_no_accessibility_violations_in_dark_scheme(
    new_context, live_server, screenshot, width
):
    context = new_context(color_scheme="dark", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(live_server + PAGES["article"])
    screenshot(page, "article")
    assert_no_axe_violations(page)


def test_article_renders_comparison_table_without_javascript(new_context, live_server):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(live_server + PAGES["article"])
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED_TITLE)
    table = page.locator(".comparison table")
    expect(table.locator("thead th")).to_have_text(
        ["Responsibility", "AI Systems Architect", "AI Engineer"]
    )
    expect(table.locator("tbody tr")).to_have_count(8)
    first_row = table.locator("tbody tr").first
    expect(first_row.get_by_role("rowheader")).to_have_text("Strategic Design")
    # Each mark is a word, not only an icon: readable without colour and by a screen reader.
    expect(first_row.get_by_role("cell")).to_contain_text(["Full", "Limited"])
