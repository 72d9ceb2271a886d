"""Step 1's one-screen picker in Chromium, with JavaScript on and off: the visitor's zone
without a second load, days swapped in place with focus on the first time, Back, the
keyboard, axe and screenshots at phone and desktop width, light and dark."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.booking_pages import (
    SCHEMES,
    WIDTHS,
    documents_requested,
    expected_labels,
    focused_name,
)
from tests.browser.checks import (
    assert_no_axe_violations,
    assert_no_horizontal_scroll,
    record_console_errors,
)

pytestmark = pytest.mark.browser


def hold_picker_script(page: Page):
    """Keep picker.js waiting until the returned function is called: what the visitor sees
    before the script runs stays on screen to be checked."""
    held = []
    page.route("**/static/js/picker.js*", lambda route: held.append(route))

    def release() -> None:
        for _ in range(100):  # the route reaches this handler while Playwright waits
            if held:
                held[0].continue_()
                return
            page.wait_for_timeout(20)
        raise AssertionError("the page never asked for picker.js")

    return release


@pytest.mark.parametrize(
    ("zone", "offset"),
    [
        ("America/Los_Angeles", r"Los Angeles \(GMT-[78]\)"),
        ("Asia/Kolkata", r"Kolkata \(GMT\+5:30\)"),
        ("Australia/Adelaide", r"Adelaide \(GMT\+(9|10):30\)"),
    ],
)
def test_visitor_zone_is_shown_in_place_without_a_second_load(
    new_context, live_server, open_hours, zone, offset
):
    page = new_context(timezone_id=zone, locale="en-GB").new_page()
    errors = record_console_errors(page)
    documents = documents_requested(page)
    release_script = hold_picker_script(page)
    page.goto(f"{live_server}/book", wait_until="commit")

    # Before the script runs, the server's labels are right for the zone they name: Saed's.
    expect(page.locator("#times time").first).to_be_attached()
    expect(page.locator("[data-zone-label]")).to_have_text(re.compile(r"London \(GMT\+0\)"))
    shown = page.locator("#times time").all_inner_texts()
    assert shown and shown == expected_labels(page, "Europe/London")

    release_script()
    expect(page.locator("[data-zone-label]")).to_have_text(re.compile(offset))
    expect(page.get_by_label("Your time zone")).to_have_value(zone)
    expect(page.locator("#picker-body")).to_have_attribute("data-timezone", zone)
    shown = page.locator("#times time").all_inner_texts()
    assert shown and shown == expected_labels(page, zone)
    assert len(documents) == 1, documents  # the script never loads /book again
    assert errors == []


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Kolkata", "Australia/Adelaide"])
def test_without_javascript_the_chosen_zone_labels_every_time(
    new_context, live_server, open_hours, zone
):
    page = new_context(java_script_enabled=False, timezone_id=zone).new_page()
    page.goto(f"{live_server}/book")
    page.get_by_label("Your time zone").select_option(zone)
    page.get_by_role("button", name="Show times").click()
    expect(page).to_have_url(re.compile(r"#times$"))
    shown = page.locator("#times time").all_inner_texts()
    assert shown and shown == expected_labels(page, zone)


def test_choosing_a_day_swaps_the_times_in_place_and_back_returns(
    new_context, live_server, open_hours
):
    page = new_context(timezone_id="Europe/London", locale="en-GB").new_page()
    documents = documents_requested(page)
    page.goto(f"{live_server}/book")
    first_day = page.locator("#picker-body").get_attribute("data-day")
    days = page.locator("a[data-day]")
    second = days.nth(1)
    second_day = second.get_attribute("data-day")
    second.click()
    expect(page.locator("#picker-body")).to_have_attribute("data-day", second_day)
    expect(page).to_have_url(re.compile(rf"day={second_day}"))
    focused = page.evaluate("document.activeElement.className")
    assert focused == "time"  # focus on the first time, ready for Enter
    page.go_back()
    expect(page.locator("#picker-body")).to_have_attribute("data-day", first_day)
    assert len(documents) == 1, documents


def choose_day(page: Page, index: int) -> str:
    """Click the calendar's `index`th day with times; returns its date once it is shown."""
    day = page.locator("a[data-day]").nth(index)
    chosen = day.get_attribute("data-day")
    day.click()
    expect(page.locator("#picker-body")).to_have_attribute("data-day", chosen)
    return chosen


def expect_day_in_zone(page: Page, day: str, zone: str, place: str) -> None:
    """The picker shows `day`, its times labelled in `zone`, the list and the note agreeing."""
    body = page.locator("#picker-body")
    expect(body).to_have_attribute("data-day", day)
    expect(body).to_have_attribute("data-timezone", zone)
    expect(page.get_by_label("Your time zone")).to_have_value(zone)
    expect(page.locator("[data-zone-label]")).to_contain_text(place)
    expect(page.locator('[aria-current="date"]')).to_have_attribute("data-day", day)
    shown = page.locator("#times time").all_inner_texts()
    assert shown and shown == expected_labels(page, zone)


def test_back_after_a_zone_change_shows_the_previous_day_in_the_chosen_zone(
    new_context, live_server, open_hours
):
    page = new_context(timezone_id="Europe/London", locale="en-GB").new_page()
    documents = documents_requested(page)
    page.goto(f"{live_server}/book")
    first_day = page.locator("#picker-body").get_attribute("data-day")
    page.get_by_label("Your time zone").select_option("Asia/Kolkata")
    expect_day_in_zone(page, first_day, "Asia/Kolkata", "Kolkata")
    second_day = choose_day(page, 1)
    expect_day_in_zone(page, second_day, "Asia/Kolkata", "Kolkata")

    page.go_back()
    expect_day_in_zone(page, first_day, "Asia/Kolkata", "Kolkata")
    page.go_forward()
    expect_day_in_zone(page, second_day, "Asia/Kolkata", "Kolkata")
    assert len(documents) == 1, documents


def test_back_after_a_detected_zone_and_a_zone_change_keeps_the_chosen_zone(
    new_context, live_server, open_hours
):
    page = new_context(timezone_id="America/Los_Angeles", locale="en-GB").new_page()
    documents = documents_requested(page)
    page.goto(f"{live_server}/book")
    expect(page.locator("#picker-body")).to_have_attribute("data-timezone", "America/Los_Angeles")
    first_day = page.locator("#picker-body").get_attribute("data-day")
    page.get_by_label("Your time zone").select_option("Australia/Adelaide")
    expect_day_in_zone(page, first_day, "Australia/Adelaide", "Adelaide")
    choose_day(page, 1)

    page.go_back()
    expect_day_in_zone(page, first_day, "Australia/Adelaide", "Adelaide")
    page.reload()  # the address itself keeps the day and the chosen zone
    expect_day_in_zone(page, first_day, "Australia/Adelaide", "Adelaide")
    assert len(documents) == 2, documents  # the first load and the reload, nothing else


def test_a_zone_chosen_after_two_days_holds_all_the_way_back(new_context, live_server, open_hours):
    """The zone is the visitor's setting, not a step: Back undoes days, never the zone."""
    page = new_context(timezone_id="Europe/London", locale="en-GB").new_page()
    page.goto(f"{live_server}/book")
    first_day = page.locator("#picker-body").get_attribute("data-day")
    second_day = choose_day(page, 1)
    third_day = choose_day(page, 2)
    page.get_by_label("Your time zone").select_option("America/Los_Angeles")
    expect_day_in_zone(page, third_day, "America/Los_Angeles", "Los Angeles")

    page.go_back()
    expect_day_in_zone(page, second_day, "America/Los_Angeles", "Los Angeles")
    page.go_back()
    expect_day_in_zone(page, first_day, "America/Los_Angeles", "Los Angeles")
    page.go_forward()
    expect_day_in_zone(page, second_day, "America/Los_Angeles", "Los Angeles")


def test_back_after_two_day_choices_returns_to_each_day_and_forward_again(
    new_context, live_server, open_hours
):
    page = new_context(timezone_id="Europe/London", locale="en-GB").new_page()
    documents = documents_requested(page)
    page.goto(f"{live_server}/book")
    first_day = page.locator("#picker-body").get_attribute("data-day")
    second_day = choose_day(page, 1)
    third_day = choose_day(page, 2)
    expect(page).to_have_url(re.compile(rf"day={third_day}"))

    page.go_back()
    expect_day_in_zone(page, second_day, "Europe/London", "London")
    expect(page).to_have_url(re.compile(rf"day={second_day}"))
    page.go_back()
    expect_day_in_zone(page, first_day, "Europe/London", "London")
    page.go_forward()
    expect_day_in_zone(page, second_day, "Europe/London", "London")
    page.go_forward()
    expect_day_in_zone(page, third_day, "Europe/London", "London")
    assert len(documents) == 1, documents


def test_skip_link_on_the_picker_moves_on_without_reloading_the_times(
    new_context, live_server, open_hours
):
    page = new_context(timezone_id="Europe/London", locale="en-GB").new_page()
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if "/book/times" in r.url else None)
    page.goto(f"{live_server}/book")
    page.keyboard.press("Tab")
    assert focused_name(page) == "Skip to content"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    page.keyboard.press("Tab")
    assert focused_name(page) == "Your time zone"
    page.wait_for_timeout(300)  # time for a fetch the hash change must not start
    assert fetched == []
    expect(page).to_have_url(re.compile(r"#main$"))


def test_arrow_key_in_the_zone_list_never_loads_a_page(new_context, live_server, open_hours):
    page = new_context(timezone_id="Europe/London", locale="en-GB").new_page()
    documents = documents_requested(page)
    page.goto(f"{live_server}/book")
    select = page.get_by_label("Your time zone")
    select.focus()
    page.keyboard.press("ArrowDown")
    expect(select).to_be_focused()
    expect(page.locator("#picker-body")).to_have_attribute("data-timezone", select.input_value())
    assert len(documents) == 1, documents


def test_clock_toggle_switches_between_24_and_12_hours(new_context, live_server, open_hours):
    page = new_context(timezone_id="Europe/London", locale="en-GB").new_page()
    page.goto(f"{live_server}/book")
    first = page.locator("#times time").first
    expect(first).to_have_text(re.compile(r"^\d\d:\d\d$"))
    page.get_by_role("button", name="Show 12-hour clock").click()
    expect(first).to_have_text(re.compile(r"(am|pm)$", re.I))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_step_one_passes_axe_and_is_photographed(
    new_context, live_server, open_hours, screenshot, width, scheme
):
    """With picker.js; test_booking_without_script_browser.py checks the page without it."""
    context = new_context(
        viewport={"width": width, "height": 800},
        color_scheme=scheme,
        timezone_id="Asia/Kolkata",
        locale="en-GB",
    )
    page = context.new_page()
    page.goto(f"{live_server}/book")
    expect(page.locator("#picker-body")).to_have_attribute("data-timezone", "Asia/Kolkata")
    assert_no_horizontal_scroll(page, f"/book at {width}px")
    assert_no_axe_violations(page, f"/book at {width}px, {scheme}")
    calendar = page.locator("nav.day-list").bounding_box()
    times = page.locator("#times").bounding_box()
    if width == 375:
        # On a phone the times sit right under the calendar, not a screen further down.
        assert 0 <= times["y"] - (calendar["y"] + calendar["height"]) < 40
    else:
        # Side by side on a laptop, the first time above the fold.
        assert times["x"] > calendar["x"] + calendar["width"]
        assert page.locator("a.time").first.bounding_box()["y"] < 800
    screenshot(page, f"{scheme}-js")
