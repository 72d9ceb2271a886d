"""The funnel per article over a period, summed from the daily counters; no HTTP here."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.content.counters import local_day
from domain.content.library import Library
from domain.leads.actions import count_won
from domain.leads.funnel import (
    ArticleFunnel,
    daily_totals,
    format_rate,
    funnel,
    period_from_query,
    period_key,
    totals,
)
from extensions import db
from models import ArticleDailyStat

TODAY = date(2026, 5, 20)
SEED = "ai-systems-architect-vs-ai-engineer"


@pytest.fixture
def session(app):
    with app.app_context():
        yield db.session


@pytest.fixture
def library(app) -> Library:
    """The seed article and a second one with no counts at all."""
    seed = app.extensions["library"].article(SEED)
    second = replace(seed, slug="second-article", title="A second article")
    return Library(articles=(seed, second), by_slug={SEED: seed, "second-article": second})


def add_stats(session, slug, day, views=0, cta_clicks=0, bookings=0, won=0):
    session.add(
        ArticleDailyStat(
            slug=slug, day=day, views=views, cta_clicks=cta_clicks, bookings=bookings, won=won
        )
    )
    session.commit()


def row_for(rows, slug) -> ArticleFunnel:
    return next(row for row in rows if row.slug == slug)


def test_funnel_sums_the_days_inside_the_period_only(session, library):
    add_stats(session, SEED, date(2026, 5, 1), views=100, cta_clicks=10, bookings=2, won=1)
    add_stats(session, SEED, date(2026, 5, 20), views=50, cta_clicks=5, bookings=1)
    add_stats(session, SEED, date(2026, 4, 30), views=999, cta_clicks=99, bookings=9, won=9)
    add_stats(session, SEED, date(2026, 5, 21), views=888, cta_clicks=88, bookings=8, won=8)
    row = row_for(funnel(session, date(2026, 5, 1), date(2026, 5, 20), library), SEED)
    assert (row.views, row.cta_clicks, row.bookings, row.won) == (150, 15, 3, 1)


def test_rates_are_clicks_and_bookings_over_views(session, library):
    add_stats(session, SEED, TODAY, views=200, cta_clicks=30, bookings=3)
    row = row_for(funnel(session, TODAY, TODAY, library), SEED)
    assert row.click_rate == pytest.approx(0.15)
    assert row.conversion_rate == pytest.approx(0.015)
    assert (format_rate(row.click_rate), format_rate(row.conversion_rate)) == ("15.0%", "1.5%")


def test_rates_are_undefined_without_views_not_a_division_by_zero(session, library):
    add_stats(session, SEED, TODAY, views=0, cta_clicks=2, bookings=1)
    row = row_for(funnel(session, TODAY, TODAY, library), SEED)
    assert row.click_rate is None and row.conversion_rate is None
    assert format_rate(row.click_rate) == "—"


def test_rates_are_shown_with_one_decimal():
    assert format_rate(1 / 3) == "33.3%"
    assert format_rate(0.0) == "0.0%"
    assert format_rate(1.0) == "100.0%"


def test_articles_without_stats_get_a_row_of_zeros(session, library):
    add_stats(session, SEED, TODAY, views=10)
    row = row_for(funnel(session, TODAY, TODAY, library), "second-article")
    assert (row.title, row.in_library) == ("A second article", True)
    assert (row.views, row.cta_clicks, row.bookings, row.won) == (0, 0, 0, 0)
    assert row.click_rate is None


def test_stats_of_a_slug_no_longer_in_the_library_keep_a_row_labelled_by_slug(session, library):
    add_stats(session, "retired-article", TODAY, views=40, cta_clicks=4, bookings=2, won=1)
    rows = funnel(session, TODAY, TODAY, library)
    row = row_for(rows, "retired-article")
    assert (row.title, row.in_library, row.views, row.bookings) == (
        "retired-article",
        False,
        40,
        2,
    )
    assert len(rows) == 3


def test_rows_with_most_bookings_come_first(session, library):
    add_stats(session, SEED, TODAY, views=500, bookings=1)
    add_stats(session, "second-article", TODAY, views=20, bookings=3)
    rows = funnel(session, TODAY, TODAY, library)
    assert [row.slug for row in rows] == ["second-article", SEED]


def test_totals_row_adds_up_every_article(session, library):
    add_stats(session, SEED, TODAY, views=90, cta_clicks=9, bookings=3, won=1)
    add_stats(session, "retired-article", TODAY, views=10, cta_clicks=1, bookings=1)
    total = totals(funnel(session, TODAY, TODAY, library))
    assert (total.views, total.cta_clicks, total.bookings, total.won) == (100, 10, 4, 1)
    assert total.conversion_rate == pytest.approx(0.04)


def test_totals_of_nothing_are_zero_with_undefined_rates():
    total = totals([])
    assert (total.views, total.bookings, total.click_rate, total.conversion_rate) == (
        0,
        0,
        None,
        None,
    )


def test_daily_totals_cover_every_day_of_the_period(session):
    add_stats(session, SEED, date(2026, 5, 18), views=5, bookings=1)
    add_stats(session, "retired-article", date(2026, 5, 18), views=2)
    days = daily_totals(session, date(2026, 5, 17), date(2026, 5, 19))
    assert [(d.day.day, d.views, d.bookings) for d in days] == [(17, 0, 0), (18, 7, 1), (19, 0, 0)]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, (date(2026, 4, 21), TODAY, "Last 30 days")),
        ({"period": "7d"}, (date(2026, 5, 14), TODAY, "Last 7 days")),
        ({"period": "90d"}, (date(2026, 2, 20), TODAY, "Last 90 days")),
        ({"period": "365d"}, (date(2025, 5, 21), TODAY, "Last 12 months")),
        (
            {"period": "custom", "from": "2026-01-05", "to": "2026-02-01"},
            (date(2026, 1, 5), date(2026, 2, 1), "5 Jan 2026 – 1 Feb 2026"),
        ),
    ],
)
def test_period_from_the_query_string(args, expected):
    assert period_from_query(args, TODAY) == expected


def test_custom_dates_given_backwards_are_swapped():
    args = {"period": "custom", "from": "2026-02-01", "to": "2026-01-05"}
    assert period_from_query(args, TODAY)[:2] == (date(2026, 1, 5), date(2026, 2, 1))


@pytest.mark.parametrize(
    "args",
    [
        {"period": "12y"},
        {"period": ""},
        {"period": "<script>"},
        {"period": "custom"},
        {"period": "custom", "from": "yesterday", "to": "2026-01-01"},
        {"period": "custom", "from": "2026-02-30", "to": "2026-03-01"},
        {"period": "custom", "from": "0001-01-01", "to": "9999-12-31"},
    ],
)
def test_unreadable_periods_fall_back_to_the_last_30_days(args):
    assert period_from_query(args, TODAY) == (date(2026, 4, 21), TODAY, "Last 30 days")
    assert period_key(args, TODAY) == "30d"


def save_zone(session, timezone: str) -> None:
    from domain.booking.availability import AvailabilityValues, save_values

    save_values(session, AvailabilityValues(timezone=timezone))
    session.commit()


@pytest.mark.parametrize(
    ("timezone", "moment", "owner_day"),
    [
        # 23:30 UTC on 19 May is 00:30 on 20 May in London (BST).
        ("Europe/London", datetime(2026, 5, 19, 23, 30, tzinfo=UTC), date(2026, 5, 20)),
        # 02:00 UTC on 20 May is still 19 May, 22:00, in New York (EDT).
        ("America/New_York", datetime(2026, 5, 20, 2, 0, tzinfo=UTC), date(2026, 5, 19)),
        # India is 5:30 ahead: 18:29 UTC is 23:59 the same day, 18:30 the next day's 00:00.
        ("Asia/Kolkata", datetime(2026, 5, 19, 18, 29, tzinfo=UTC), date(2026, 5, 19)),
        ("Asia/Kolkata", datetime(2026, 5, 19, 18, 30, tzinfo=UTC), date(2026, 5, 20)),
    ],
)
def test_views_clicks_and_wins_count_on_the_owner_local_day(
    app, session, library, timezone, moment, owner_day
):
    save_zone(session, timezone)
    counters = app.extensions["counters"]
    counters.add(SEED, "views", now=moment)
    counters.add(SEED, "cta_clicks", now=moment)
    counters.flush()
    count_won(session, SEED, "qualified", "won", moment)
    session.commit()

    on_owner_day = row_for(funnel(session, owner_day, owner_day, library), SEED)
    assert (on_owner_day.views, on_owner_day.cta_clicks, on_owner_day.won) == (1, 1, 1)
    # Nothing on the days either side, the UTC day among them when it differs.
    days = daily_totals(session, owner_day - timedelta(days=1), owner_day + timedelta(days=1))
    assert [d.views for d in days] == [0, 1, 0]


def test_the_dashboard_period_ends_on_the_owner_today_not_the_utc_one():
    # 23:30 UTC on 31 Dec is already 1 January in Tokyo: "last 7 days" ends on the 1st.
    today = local_day(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "Asia/Tokyo")
    start, end, _label = period_from_query({"period": "7d"}, today)
    assert (start, end) == (date(2026, 12, 26), date(2027, 1, 1))
