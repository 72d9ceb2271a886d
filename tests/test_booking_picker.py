"""Step 1's month picker and zone list, without HTTP: `now` is passed in, the database is real."""

import re
from datetime import UTC, date, datetime, time, timedelta

from domain.booking.picker import bookable_counts, month_picker, parse_day, parse_month
from domain.booking.slots import AvailabilityRules, Busy, available_slots
from domain.booking.timezones import (
    canonical_names,
    canonical_zone,
    choice_label,
    zone_choices,
    zone_options,
)
from extensions import db

NOW = datetime(2026, 6, 10, 9, tzinfo=UTC)  # a Wednesday


def rules(**overrides) -> AvailabilityRules:
    values = {
        "timezone": "Europe/London",
        "weekly_hours": {day: [(time(9), time(12))] for day in range(7)},
        "call_minutes": 30,
        "min_notice": timedelta(hours=24),
        "horizon_days": 30,
    }
    return AvailabilityRules(**{**values, **overrides})


def test_between_limits_slots_to_those_days_and_agrees_with_the_whole_horizon():
    whole = available_slots(rules(), [], NOW)
    june_20 = available_slots(rules(), [], NOW, between=(date(2026, 6, 20), date(2026, 6, 20)))
    assert june_20 == [s for s in whole if s.date() == date(2026, 6, 20)]
    assert len(june_20) == 6


def test_month_shows_only_its_days_and_the_chosen_days_times(app):
    with app.app_context():
        view = month_picker(db.session, rules(), NOW, "Europe/London", day=date(2026, 6, 20))
    assert view.month == date(2026, 6, 1)
    assert view.chosen == date(2026, 6, 20)
    assert [t.astimezone(UTC).hour for t in view.times] == [8, 8, 9, 9, 10, 10]
    days = {d.day: d.count for week in view.weeks for d in week if d.in_month}
    assert days[date(2026, 6, 10)] == 0  # inside the notice
    assert days[date(2026, 6, 12)] == 6
    assert view.previous is None and view.next == date(2026, 7, 1)


def test_next_month_holds_the_rest_of_the_horizon_and_no_further(app):
    with app.app_context():
        view = month_picker(db.session, rules(), NOW, "Europe/London", month=date(2026, 7, 1))
    counted = [d.day for week in view.weeks for d in week if d.count]
    assert counted[-1] == date(2026, 7, 10)
    assert view.previous == date(2026, 6, 1) and view.next is None


def test_a_day_not_offered_falls_back_to_the_first_with_times(app):
    with app.app_context():
        view = month_picker(db.session, rules(), NOW, "Europe/London", day=date(2026, 6, 10))
    assert view.chosen == date(2026, 6, 11)


def test_day_counts_show_what_the_daily_limit_leaves():
    limited = rules(daily_limit=2)
    day = date(2026, 6, 20)
    call = Busy(datetime(2026, 6, 20, 8, tzinfo=UTC), datetime(2026, 6, 20, 8, 30, tzinfo=UTC))
    free = available_slots(limited, [call], NOW, between=(day, day))
    assert len(free) == 5  # five times are free...
    assert bookable_counts(limited, [call], {day: free}) == {day: 1}  # ...one can be booked


def test_bad_day_and_month_values_are_ignored():
    assert parse_day("2026-02-30") is None and parse_day("x" * 500) is None
    assert parse_month("2026-13") is None and parse_month("2026-06") == date(2026, 6, 1)


def test_zone_list_is_canonical_and_labelled_by_place_and_offset():
    assert "Asia/Kolkata" in canonical_names() and "Asia/Calcutta" not in canonical_names()
    assert canonical_zone("Asia/Calcutta") == "Asia/Kolkata"
    assert canonical_zone("Mars/Olympus") is None
    assert choice_label(NOW, "Europe/London") == "London (GMT+1)"
    assert choice_label(NOW, "Australia/Adelaide") == "Adelaide (GMT+9:30)"
    assert choice_label(NOW, "America/Los_Angeles") == "Los Angeles (GMT-7)"
    common, everything = zone_choices(NOW.date())
    assert common[0].label.startswith("London (GMT")
    assert all(label.count("(") == 1 for label in (c.label for c in everything))


def test_the_chosen_zone_is_selected_once():
    html = zone_options(NOW.date(), "Asia/Kolkata")
    assert html.count(" selected>") == 1
    assert '<option value="Asia/Kolkata" selected>Kolkata (GMT+5:30)</option>' in html


def test_a_time_range_is_kept_on_one_line(client, visitor):
    confirmation = client.get(visitor.book().headers["Location"]).get_data(as_text=True)
    # A word joiner after the dash: no line break between "18:30–" and "19:00".
    assert re.search(r"\d\d:\d\d–&#8288;\d\d:\d\d", confirmation)


def test_without_javascript_day_and_month_links_land_on_the_times(client, open_hours):
    html = client.get("/book").get_data(as_text=True)
    day_links = re.findall(r'<a href="([^"]+)" data-day=', html)
    assert day_links and all(link.endswith("#times") for link in day_links)
    assert 'id="times"' in html
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:00Z">\d\d:\d\d</time>', html)


def test_times_fragment_is_the_calendar_and_times_alone(client, open_hours):
    response = client.get("/book/times", query_string={"timezone": "Asia/Calcutta"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="picker-body" id="picker-body"')
    assert 'data-timezone="Asia/Kolkata"' in html  # the old alias answered in the current name
    assert "<html" not in html


def test_hostile_picker_parameters_fall_back_instead_of_failing(client, open_hours):
    for path in ("/book", "/book/times"):
        response = client.get(
            path,
            query_string={"day": "2026-99-99", "month": "'; DROP", "timezone": "<script>"},
        )
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<script>" not in html.split("</head>")[-1]
        assert 'data-timezone="Europe/London"' in html
