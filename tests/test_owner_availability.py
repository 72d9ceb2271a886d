"""The owner's availability page: saving rules, errors beside fields, the slot preview."""

import html
import re
from datetime import datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from domain.booking.availability import load_values
from extensions import db
from models import AvailabilitySettings, Booking
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD

LONDON = ZoneInfo("Europe/London")


def hour_fields(day: int, text: str) -> dict[str, list[str]]:
    """The time inputs of one day, from "09:00-12:00, 13:00-17:00" (one row a range, and the
    empty row the page always adds)."""
    rows = [part.split("-", 1) for part in filter(None, map(str.strip, text.split(",")))]
    rows = [[*row, ""][:2] for row in rows] + [["", ""]]
    return {
        f"hours_{day}_start": [start.strip() for start, _ in rows],
        f"hours_{day}_end": [end.strip() for _, end in rows],
    }


def answers(**overrides) -> dict:
    """A full, valid form: Tuesdays 10:00–11:00 London, one-hour calls. An override
    hours_N="09:00-12:00, …" fills day N's time inputs."""
    hours = {"1": "10:00-11:00"}
    for key in [key for key in overrides if re.fullmatch(r"hours_[0-9]", key)]:
        hours[key.removeprefix("hours_")] = overrides.pop(key)
    data = {
        "timezone": "Europe/London",
        **{
            key: value
            for day in range(7)
            for key, value in hour_fields(day, hours.get(str(day), "")).items()
        },
        "call_minutes": "60",
        "buffer_minutes": "15",
        "min_notice_hours": "24",
        "horizon_days": "21",
        "daily_limit": "",
        "dates_off": "",
    }
    return {**data, **overrides}


def save(client, **overrides):
    return client.post("/owner/availability", data=answers(**overrides))


def errors_in(response) -> dict[str, str]:
    found = re.findall(
        r'<p class="error" id="([^"]+)-error">([^<]+)</p>', response.get_data(as_text=True)
    )
    return {field: html.unescape(text) for field, text in found}


def ranges_shown(response, day: int) -> list[tuple[str, str]]:
    """The (start, end) time inputs shown for a day, empty rows left out."""
    page = response.get_data(as_text=True)
    values = {}
    for part in ("start", "end"):
        tags = re.findall(rf'<input[^>]*name="hours_{day}_{part}"[^>]*>', page)
        values[part] = [html.unescape(re.search(r'value="([^"]*)"', tag).group(1)) for tag in tags]
    return [row for row in zip(values["start"], values["end"], strict=True) if any(row)]


def input_value(response, name) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', response.get_data(as_text=True))
    found = tag and re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(found.group(1)) if found else None


def stored(app):
    with app.app_context():
        return load_values(db.session)


def offered_slots(client) -> list[datetime]:
    page = client.get("/book", query_string={"timezone": "Europe/London"}).get_data(as_text=True)
    return [
        datetime.fromisoformat(unquote(s).replace("Z", "+00:00"))
        for s in re.findall(r"slot=([0-9T%A-Z:\-]+Z)", page)
    ]


def preview(response) -> str:
    text = response.get_data(as_text=True)
    return text[text.index('id="preview-heading"') :]


def test_anonymous_visitor_is_sent_to_login(client):
    assert client.get("/owner/availability").status_code == 302
    assert client.post("/owner/availability", data=answers()).status_code == 302


def test_page_shows_the_saved_rules_in_the_form(owner, open_hours):
    response = owner.get("/owner/availability")
    assert response.status_code == 200
    assert ranges_shown(response, 0) == [("08:00", "20:00")]
    assert 'type="time"' in response.get_data(as_text=True)
    assert input_value(response, "min_notice_hours") == "24"
    assert input_value(response, "daily_limit") == ""
    assert '<option selected value="Europe/London">' in response.get_data(as_text=True)
    assert "<legend>Weekly hours</legend>" in response.get_data(as_text=True)


def test_saving_valid_values_changes_the_slots_offered_on_book(app, owner, open_hours):
    before = offered_slots(owner)
    assert {s.astimezone(LONDON).hour for s in before} != {10}
    response = save(owner)
    assert response.status_code == 303
    assert response.headers["Location"] == "/owner/availability"
    assert "Availability saved" in owner.get("/owner/availability").get_data(as_text=True)
    after = offered_slots(owner)
    assert after, "Tuesday 10:00 should be offered"
    assert {
        (s.astimezone(LONDON).weekday(), s.astimezone(LONDON).strftime("%H:%M")) for s in after
    } == {(1, "10:00")}
    values = stored(app)
    assert values.weekly_hours == {"1": [["10:00", "11:00"]]}
    assert (values.call_minutes, values.buffer_minutes, values.min_notice_minutes) == (60, 15, 1440)
    assert (values.horizon_days, values.daily_limit) == (21, None)


def test_several_ranges_en_dashes_fractional_notice_limit_and_dates_off_are_stored(app, owner):
    response = save(
        owner,
        timezone="America/New_York",
        hours_0="13:00-17:30, 09:00-12:00",  # the order typed does not matter
        min_notice_hours="1.5",
        daily_limit="4",
        dates_off="2026-12-25\n\n 2026-12-24 \n2026-12-25",
    )
    assert response.status_code == 303
    values = stored(app)
    assert values.timezone == "America/New_York"
    assert values.weekly_hours["0"] == [["09:00", "12:00"], ["13:00", "17:30"]]
    assert (values.min_notice_minutes, values.daily_limit) == (90, 4)
    assert values.dates_off == ["2026-12-24", "2026-12-25"]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("09:00-12:00, 11:30-14:00", "Ranges on the same day must not overlap."),
        ("17:00-09:00", "The range 17:00–09:00 must end after it starts."),
        ("9am-5pm", "Write times as HH:MM, for example 09:00–12:00."),
        ("09:00-", "Give each range both a start and an end time, or clear both to remove it."),
    ],
)
def test_bad_hours_are_refused_beside_the_field_with_everything_kept(
    app, owner, open_hours, hours, message
):
    response = save(owner, hours_2=hours, call_minutes="45", dates_off="2026-12-25")
    assert response.status_code == 400
    assert errors_in(response) == {"hours_2": message}
    typed = [tuple([*part.split("-"), ""][:2]) for part in hours.split(", ")]
    assert ranges_shown(response, 2) == typed
    assert ranges_shown(response, 1) == [("10:00", "11:00")]
    assert input_value(response, "call_minutes") == "45"
    assert "2026-12-25" in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert stored(app) == open_hours


def test_unknown_time_zone_is_refused(app, owner, open_hours):
    response = save(owner, timezone="Mars/Olympus_Mons")
    assert response.status_code == 400
    assert errors_in(response) == {
        "timezone": "Choose a time zone from the list (an IANA name such as Europe/London)."
    }
    assert stored(app).timezone == "Europe/London"


def test_bad_numbers_and_dates_are_refused_beside_their_fields(app, owner, open_hours):
    response = save(
        owner,
        call_minutes="half an hour",
        buffer_minutes="-5",
        min_notice_hours="nan",
        horizon_days="1000",
        daily_limit="0",
        dates_off="2026-12-25\n25/12/2026",
    )
    assert response.status_code == 400
    assert errors_in(response) == {
        "call_minutes": "Enter a whole number from 5 to 480.",
        "buffer_minutes": "Enter a whole number from 0 to 240.",
        "min_notice_hours": "Enter a number of hours from 0 to 1440.",
        "horizon_days": "Enter a whole number from 1 to 365.",
        "daily_limit": "Enter a whole number from 1 to 48, or leave it empty for no limit.",
        "dates_off": "'25/12/2026' is not a date like 2026-12-25.",
    }
    assert input_value(response, "call_minutes") == "half an hour"
    assert stored(app) == open_hours


def test_changing_hours_never_touches_an_existing_booking(app, owner, visitor):
    # The confirmation's address ends in /confirmed; the private page is its parent.
    manage_page = visitor.book().headers["Location"].split("/confirmed")[0]
    with app.app_context():
        call = db.session.scalar(select(Booking))
        before = (call.starts_at, call.ends_at, call.blocked_until, call.status, call.sequence)
    weekday = before[0].astimezone(LONDON).weekday()
    everything_but_that_day = {f"hours_{d}": "08:00-20:00" for d in range(7) if d != weekday}
    response = save(
        owner, **everything_but_that_day, **{f"hours_{weekday}": ""}, buffer_minutes="0"
    )
    assert response.status_code == 303
    assert str(weekday) not in stored(app).weekly_hours
    with app.app_context():
        call = db.session.scalar(select(Booking))
        assert (
            call.starts_at,
            call.ends_at,
            call.blocked_until,
            call.status,
            call.sequence,
        ) == before
    page = owner.get(manage_page).get_data(as_text=True)
    assert "Call on " + before[0].astimezone(LONDON).strftime("%A %-d %B") in page
    assert "Cancel this call" in page


def test_preview_lists_the_next_seven_days_of_free_times_in_the_owners_zone(owner, open_hours):
    save(owner, timezone="Asia/Tokyo", **{f"hours_{d}": "09:00-10:00" for d in range(7)})
    part = preview(owner.get("/owner/availability"))
    assert "Asia/Tokyo (JST)" in part
    assert part.count('class="preview-day"') == 7
    times = re.findall(r'<time datetime="([^"]+)">([0-9:]+)</time>', part)
    assert times, "the preview should list free times"
    assert {label for _, label in times} == {"09:00"}
    for instant, label in times:
        assert (
            datetime.fromisoformat(instant).astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M")
            == label
        )


def test_preview_leaves_out_booked_times(app, owner, visitor):
    visitor.book()
    with app.app_context():
        booked = db.session.scalar(select(Booking)).starts_at
    part = preview(owner.get("/owner/availability"))
    assert booked.astimezone(LONDON).strftime("%A %-d %B") in part
    assert f'datetime="{booked.isoformat()}"' not in part


def test_form_with_errors_previews_the_saved_rules_only(owner, open_hours):
    response = save(owner, hours_1="07:00-08:00, 07:30-09:00", call_minutes="15")
    assert response.status_code == 400
    labels = set(re.findall(r"<time [^>]*>([0-9:]+)</time>", preview(response)))
    assert "07:00" not in labels and "08:00" in labels and "08:15" not in labels


def test_page_has_no_inline_style_or_script(owner, open_hours):
    page = owner.get("/owner/availability").get_data(as_text=True)
    assert "style=" not in page
    # One script, from a file (the CSP allows no other): the weekly hours' buttons.
    assert re.findall(r"<script[^>]*>", page) == [
        re.search(r'<script src="/static/js/weekly-hours\.js\?v=[0-9a-f]+" defer>', page).group(0)
    ]


@pytest.fixture
def with_csrf(settings):
    settings["WTF_CSRF_ENABLED"] = True
    return settings


def csrf_token_of(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_saving_needs_the_csrf_token_when_csrf_is_on(
    with_csrf, app, client, open_hours, owner_account
):
    login = client.get("/owner/login").get_data(as_text=True)
    client.post(
        "/owner/login",
        data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": csrf_token_of(login)},
    )
    page = client.get("/owner/availability")
    assert page.status_code == 200
    assert client.post("/owner/availability", data=answers()).status_code == 400
    assert stored(app) == open_hours
    token = csrf_token_of(page.get_data(as_text=True))
    response = client.post("/owner/availability", data={**answers(), "csrf_token": token})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(AvailabilitySettings, 1).weekly_hours == {"1": [["10:00", "11:00"]]}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        # An end with no start input at all: a forged or truncated request.
        ({"hours_3_end": ["10:00"]}, "Give each range both a start and an end time"),
        ({"hours_3_start": ["09:00"] * 13, "hours_3_end": ["10:00"] * 13}, "at most 12 ranges"),
        ({"hours_3_start": ["24:00"], "hours_3_end": ["25:00"]}, "Write times as HH:MM"),
        ({"hours_3_start": ["<b>9</b>"], "hours_3_end": ["10:00"]}, "Write times as HH:MM"),
    ],
)
def test_forged_time_rows_are_refused_beside_the_day(app, owner, open_hours, fields, message):
    data = answers()
    data.pop("hours_3_start"), data.pop("hours_3_end")
    response = owner.post("/owner/availability", data={**data, **fields})
    assert response.status_code == 400
    assert message in errors_in(response)["hours_3"]
    assert "<b>9</b>" not in response.get_data(as_text=True)
    assert stored(app) == open_hours


def test_a_cleared_row_is_no_range_and_seconds_from_the_browser_are_dropped(app, owner):
    data = answers()
    data["hours_4_start"] = ["", "14:00:00", "09:00"]
    data["hours_4_end"] = ["", "15:30:00", "10:00"]
    assert owner.post("/owner/availability", data=data).status_code == 303
    assert stored(app).weekly_hours["4"] == [["09:00", "10:00"], ["14:00", "15:30"]]
    shown = owner.get("/owner/availability")
    assert ranges_shown(shown, 4) == [("09:00", "10:00"), ("14:00", "15:30")]
    assert ranges_shown(shown, 5) == []  # a day without calls: only the empty row
    assert len(re.findall(r'name="hours_5_start"', shown.get_data(as_text=True))) == 1
