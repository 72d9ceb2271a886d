"""Unit tests for domain.booking.slots: pure functions, `now` is always passed in."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from domain.booking.slots import (
    AvailabilityRules,
    Busy,
    available_slots,
    blocked_interval,
    slot_problem,
    slots_by_local_day,
)

LONDON = "Europe/London"
NEW_YORK = "America/New_York"
WEEKDAYS = range(5)
EVERY_DAY = range(7)

# Sunday 2026-05-31 12:00 UTC; Monday 2026-06-01 is the first working day.
SUNDAY_NOON = datetime(2026, 5, 31, 12, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def hours(days, *ranges: tuple[int, int]) -> dict[int, list[tuple[time, time]]]:
    """Whole-hour ranges, e.g. hours(WEEKDAYS, (9, 17))."""
    return {day: [(time(start), time(end)) for start, end in ranges] for day in days}


def make_rules(**overrides) -> AvailabilityRules:
    settings = {
        "timezone": LONDON,
        "weekly_hours": hours(WEEKDAYS, (9, 17)),
        "min_notice": timedelta(0),
    }
    settings.update(overrides)
    return AvailabilityRules(**settings)


def booking(start: datetime, minutes: int = 30) -> Busy:
    start = start.astimezone(UTC)
    return Busy(start, start + timedelta(minutes=minutes))


def slots_on(rules, owner_day: date, bookings=(), now=None) -> list[datetime]:
    """Available slots whose owner-local date is `owner_day`."""
    now = now or datetime.combine(owner_day - timedelta(days=3), time(), UTC)
    zone = ZoneInfo(rules.timezone)
    return [
        slot
        for slot in available_slots(rules, bookings, now)
        if slot.astimezone(zone).date() == owner_day
    ]


# --- the weekly grid ---------------------------------------------------------


def test_weekday_hours_give_half_hour_slots_from_start_to_last_fitting_call():
    slots = available_slots(make_rules(horizon_days=1), [], SUNDAY_NOON)

    # London is on BST (UTC+1) in June.
    assert slots[0] == utc(2026, 6, 1, 8, 0)
    assert slots[-1] == utc(2026, 6, 1, 15, 30)
    assert len(slots) == 16
    assert all(b - a == timedelta(minutes=30) for a, b in pairwise(slots))


def test_slots_are_aware_utc_and_sorted():
    slots = available_slots(make_rules(), [], SUNDAY_NOON)

    assert slots == sorted(slots)
    assert all(slot.utcoffset() == timedelta(0) for slot in slots)


def test_days_without_weekly_hours_offer_nothing():
    rules = make_rules()
    saturday = date(2026, 6, 6)

    assert slots_on(rules, saturday) == []
    assert slot_problem(rules, [], SUNDAY_NOON, local(LONDON, 2026, 6, 6, 10)) == "outside_hours"


def test_several_ranges_a_day_are_all_offered():
    rules = make_rules(weekly_hours={0: [(time(9), time(10)), (time(14), time(15, 30))]})

    assert slots_on(rules, date(2026, 6, 1)) == [
        local(LONDON, 2026, 6, 1, 9, 0),
        local(LONDON, 2026, 6, 1, 9, 30),
        local(LONDON, 2026, 6, 1, 14, 0),
        local(LONDON, 2026, 6, 1, 14, 30),
        local(LONDON, 2026, 6, 1, 15, 0),
    ]


def test_call_must_end_by_range_end():
    rules = make_rules(weekly_hours={0: [(time(9), time(10, 15))]})

    assert slots_on(rules, date(2026, 6, 1)) == [
        local(LONDON, 2026, 6, 1, 9, 0),
        local(LONDON, 2026, 6, 1, 9, 30),
    ]


def test_overlapping_ranges_do_not_duplicate_slots():
    rules = make_rules(weekly_hours={0: [(time(9), time(11)), (time(10), time(12))]})

    slots = slots_on(rules, date(2026, 6, 1))

    assert len(slots) == len(set(slots)) == 6


def test_buffer_spaces_the_grid_by_call_plus_buffer():
    rules = make_rules(weekly_hours={0: [(time(9), time(11, 30))]}, buffer_minutes=15)

    assert slots_on(rules, date(2026, 6, 1)) == [
        local(LONDON, 2026, 6, 1, 9, 0),
        local(LONDON, 2026, 6, 1, 9, 45),
        local(LONDON, 2026, 6, 1, 10, 30),
    ]


def test_off_grid_start_is_outside_hours():
    rules = make_rules()
    on_grid = local(LONDON, 2026, 6, 1, 10, 0)

    assert slot_problem(rules, [], SUNDAY_NOON, on_grid) is None
    for wrong in (on_grid + timedelta(minutes=10), local(LONDON, 2026, 6, 1, 8, 30)):
        assert slot_problem(rules, [], SUNDAY_NOON, wrong) == "outside_hours"


# --- bookings and buffers ----------------------------------------------------


def test_booking_blocks_overlapping_slots_and_is_reported_taken():
    rules = make_rules()
    taken = [booking(local(LONDON, 2026, 6, 1, 10, 15))]  # 10:15-10:45

    slots = slots_on(rules, date(2026, 6, 1), taken)

    assert local(LONDON, 2026, 6, 1, 10, 0) not in slots
    assert local(LONDON, 2026, 6, 1, 10, 30) not in slots
    assert local(LONDON, 2026, 6, 1, 9, 30) in slots
    assert local(LONDON, 2026, 6, 1, 11, 0) in slots
    assert slot_problem(rules, taken, SUNDAY_NOON, local(LONDON, 2026, 6, 1, 10, 0)) == "taken"


def test_slot_starting_when_booking_ends_is_still_offered():
    rules = make_rules()
    taken = [booking(local(LONDON, 2026, 6, 1, 10, 0))]

    slots = slots_on(rules, date(2026, 6, 1), taken)

    assert local(LONDON, 2026, 6, 1, 9, 30) in slots
    assert local(LONDON, 2026, 6, 1, 10, 0) not in slots
    assert local(LONDON, 2026, 6, 1, 10, 30) in slots


def test_buffer_after_a_booking_blocks_the_following_slot():
    # Grid 09:00, 09:45, 10:30, 11:15; an off-grid booking at 10:00-10:30
    # keeps 10:30-10:45 free as its buffer, so the 10:30 slot is not offered.
    rules = make_rules(buffer_minutes=15)
    taken = [booking(local(LONDON, 2026, 6, 1, 10, 0))]

    slots = slots_on(rules, date(2026, 6, 1), taken)

    assert local(LONDON, 2026, 6, 1, 10, 30) not in slots
    assert local(LONDON, 2026, 6, 1, 11, 15) in slots
    assert slot_problem(rules, taken, SUNDAY_NOON, local(LONDON, 2026, 6, 1, 10, 30)) == "taken"


def test_slot_whose_buffer_would_run_into_a_booking_is_not_offered():
    # The 09:45 slot keeps 09:45-10:30 busy, which overlaps a 10:15 booking.
    rules = make_rules(buffer_minutes=15)
    taken = [booking(local(LONDON, 2026, 6, 1, 10, 15), minutes=60)]

    slots = slots_on(rules, date(2026, 6, 1), taken)

    assert local(LONDON, 2026, 6, 1, 9, 0) in slots
    assert local(LONDON, 2026, 6, 1, 9, 45) not in slots


def test_bookings_may_be_given_unsorted_and_overlapping():
    rules = make_rules()
    taken = [
        booking(local(LONDON, 2026, 6, 1, 14, 0), minutes=60),
        booking(local(LONDON, 2026, 6, 1, 9, 0), minutes=120),
        booking(local(LONDON, 2026, 6, 1, 9, 30), minutes=30),
    ]

    slots = slots_on(rules, date(2026, 6, 1), taken)

    assert slots[0] == local(LONDON, 2026, 6, 1, 11, 0)
    assert local(LONDON, 2026, 6, 1, 14, 30) not in slots
    assert local(LONDON, 2026, 6, 1, 15, 0) in slots


def test_blocked_interval_is_call_plus_buffer():
    start = utc(2026, 6, 1, 9)

    assert blocked_interval(start, 30, 15) == (start, utc(2026, 6, 1, 9, 45))


def test_blocked_interval_measures_elapsed_time_across_dst_change():
    # 00:30 GMT + 2h is 03:30 BST on spring-forward night, not 02:30.
    start = local(LONDON, 2026, 3, 29, 0, 30)

    begin, end = blocked_interval(start, 90, 30)

    assert begin == utc(2026, 3, 29, 0, 30)
    assert end == utc(2026, 3, 29, 2, 30)
    assert end.utcoffset() == timedelta(0)


# --- notice, horizon, days off ----------------------------------------------


def test_slot_inside_notice_window_is_not_offered():
    rules = make_rules(min_notice=timedelta(hours=24))
    now = local(LONDON, 2026, 6, 1, 11, 0)

    slots = available_slots(rules, [], now)

    assert slots[0] == now + timedelta(hours=24)  # exactly at the limit is fine
    assert slot_problem(rules, [], now, local(LONDON, 2026, 6, 2, 10, 30)) == "notice"
    assert slot_problem(rules, [], now, local(LONDON, 2026, 6, 2, 11, 0)) is None


def test_slot_at_or_before_now_is_past():
    rules = make_rules(min_notice=timedelta(hours=24))
    now = local(LONDON, 2026, 6, 1, 11, 0)

    assert slot_problem(rules, [], now, now) == "past"
    assert slot_problem(rules, [], now, local(LONDON, 2026, 6, 1, 9, 0)) == "past"


def test_slot_at_now_is_not_offered_even_without_notice():
    rules = make_rules()
    now = local(LONDON, 2026, 6, 1, 11, 0)

    slots = available_slots(rules, [], now)

    assert slots[0] == local(LONDON, 2026, 6, 1, 11, 30)


def test_horizon_is_counted_in_owner_local_days_from_today():
    # 02:00 UTC on 2 June is still 1 June in New York, so "today" is 1 June
    # and a two-day horizon ends on 3 June, owner time.
    rules = make_rules(timezone=NEW_YORK, horizon_days=2)
    now = utc(2026, 6, 2, 2, 0)

    slots = available_slots(rules, [], now)
    owner_days = {slot.astimezone(ZoneInfo(NEW_YORK)).date() for slot in slots}

    assert owner_days == {date(2026, 6, 2), date(2026, 6, 3)}
    assert slots[-1] == local(NEW_YORK, 2026, 6, 3, 16, 30)
    assert slot_problem(rules, [], now, local(NEW_YORK, 2026, 6, 4, 9, 0)) == "beyond_horizon"


def test_last_horizon_day_is_included():
    rules = make_rules(horizon_days=1)

    assert slots_on(rules, date(2026, 6, 1), now=SUNDAY_NOON)
    assert slot_problem(rules, [], SUNDAY_NOON, local(LONDON, 2026, 6, 2, 9, 0)) == "beyond_horizon"


def test_dates_off_offer_no_slots_and_report_day_off():
    rules = make_rules(dates_off=frozenset({date(2026, 6, 2)}))

    assert slots_on(rules, date(2026, 6, 2)) == []
    assert slots_on(rules, date(2026, 6, 3))
    assert slot_problem(rules, [], SUNDAY_NOON, local(LONDON, 2026, 6, 2, 9, 0)) == "day_off"


# --- daily limit ---------------------------------------------------------------


def test_daily_limit_counts_bookings_per_owner_local_day():
    # New York evening hours 18:00-22:00 EDT run 22:00Z-02:00Z, so a booking
    # at 21:00 EDT on Monday has a Tuesday UTC date but fills Monday's quota.
    rules = make_rules(timezone=NEW_YORK, weekly_hours=hours(WEEKDAYS, (18, 22)), daily_limit=1)
    monday_evening = local(NEW_YORK, 2026, 6, 1, 21, 0)
    taken = [booking(monday_evening)]
    assert monday_evening.astimezone(UTC).date() == date(2026, 6, 2)

    assert slots_on(rules, date(2026, 6, 1), taken) == []
    tuesday = slots_on(rules, date(2026, 6, 2), taken)
    assert tuesday[0] == utc(2026, 6, 2, 22, 0)
    assert len(tuesday) == 8
    assert (
        slot_problem(rules, taken, SUNDAY_NOON, local(NEW_YORK, 2026, 6, 1, 18, 0)) == "daily_limit"
    )


def test_daily_limit_not_reached_leaves_other_slots_open():
    rules = make_rules(daily_limit=2)
    taken = [booking(local(LONDON, 2026, 6, 1, 10, 0))]

    slots = slots_on(rules, date(2026, 6, 1), taken)

    assert len(slots) == 15
    assert slot_problem(rules, taken, SUNDAY_NOON, local(LONDON, 2026, 6, 1, 10, 0)) == "taken"


# --- daylight saving ------------------------------------------------------------


def first_slot_each_day(rules, now) -> dict[date, datetime]:
    zone = ZoneInfo(rules.timezone)
    first: dict[date, datetime] = {}
    for slot in available_slots(rules, [], now):
        first.setdefault(slot.astimezone(zone).date(), slot)
    return first


def test_london_spring_forward_keeps_nine_local_and_moves_utc():
    rules = make_rules(weekly_hours=hours(EVERY_DAY, (9, 17)), horizon_days=4)

    first = first_slot_each_day(rules, utc(2026, 3, 27, 0))

    assert first[date(2026, 3, 28)] == utc(2026, 3, 28, 9, 0)
    assert first[date(2026, 3, 29)] == utc(2026, 3, 29, 8, 0)
    assert first[date(2026, 3, 30)] == utc(2026, 3, 30, 8, 0)


def test_london_spring_forward_skips_the_missing_hour():
    # 01:00-02:00 local does not exist on 29 March 2026.
    rules = make_rules(weekly_hours={6: [(time(0), time(3))]})

    slots = slots_on(rules, date(2026, 3, 29))

    assert slots == [
        utc(2026, 3, 29, 0, 0),  # 00:00 GMT
        utc(2026, 3, 29, 0, 30),  # 00:30 GMT
        utc(2026, 3, 29, 1, 0),  # 02:00 BST
        utc(2026, 3, 29, 1, 30),  # 02:30 BST
    ]


@pytest.mark.parametrize(
    ("zone", "sunday", "gap_start"),
    [(LONDON, date(2026, 3, 29), 1), (NEW_YORK, date(2026, 3, 8), 2)],
)
def test_hours_entirely_inside_the_spring_forward_gap_offer_nothing(zone, sunday, gap_start):
    rules = make_rules(timezone=zone, weekly_hours=hours([6], (gap_start, gap_start + 1)))
    now = datetime.combine(sunday - timedelta(days=3), time(), UTC)

    assert slots_on(rules, sunday) == []
    wall = datetime.combine(sunday, time(gap_start, 30), ZoneInfo(zone))
    assert slot_problem(rules, [], now, wall) == "outside_hours"


def test_london_fall_back_keeps_nine_local_and_moves_utc():
    rules = make_rules(weekly_hours=hours(EVERY_DAY, (9, 17)), horizon_days=4)

    first = first_slot_each_day(rules, utc(2026, 10, 23, 0))

    assert first[date(2026, 10, 24)] == utc(2026, 10, 24, 8, 0)
    assert first[date(2026, 10, 25)] == utc(2026, 10, 25, 9, 0)
    assert first[date(2026, 10, 26)] == utc(2026, 10, 26, 9, 0)


def test_london_fall_back_offers_the_repeated_hour_once():
    # 01:00-02:00 local happens twice on 25 October 2026; the first (BST) wins.
    rules = make_rules(weekly_hours={6: [(time(0), time(3))]})
    now = utc(2026, 10, 20, 0)

    slots = slots_on(rules, date(2026, 10, 25), now=now)

    assert slots == [
        utc(2026, 10, 24, 23, 0),  # 00:00 BST
        utc(2026, 10, 24, 23, 30),  # 00:30 BST
        utc(2026, 10, 25, 0, 0),  # 01:00 BST
        utc(2026, 10, 25, 0, 30),  # 01:30 BST
        utc(2026, 10, 25, 2, 0),  # 02:00 GMT
        utc(2026, 10, 25, 2, 30),  # 02:30 GMT
    ]
    assert slot_problem(rules, [], now, utc(2026, 10, 25, 1, 0)) == "outside_hours"


def test_new_york_spring_forward_keeps_nine_local_and_skips_missing_hour():
    rules = make_rules(
        timezone=NEW_YORK,
        weekly_hours={
            **hours([0, 5], (9, 10)),
            6: [(time(1), time(4))],
        },
        horizon_days=5,
    )
    now = utc(2026, 3, 6, 0)

    first = first_slot_each_day(rules, now)
    sunday = slots_on(rules, date(2026, 3, 8), now=now)

    assert first[date(2026, 3, 7)] == utc(2026, 3, 7, 14, 0)  # 09:00 EST
    assert sunday == [
        utc(2026, 3, 8, 6, 0),  # 01:00 EST
        utc(2026, 3, 8, 6, 30),  # 01:30 EST
        utc(2026, 3, 8, 7, 0),  # 03:00 EDT
        utc(2026, 3, 8, 7, 30),  # 03:30 EDT
    ]
    assert first[date(2026, 3, 9)] == utc(2026, 3, 9, 13, 0)  # 09:00 EDT


def test_new_york_fall_back_keeps_nine_local_and_offers_repeated_hour_once():
    rules = make_rules(
        timezone=NEW_YORK,
        weekly_hours={
            **hours([0, 5], (9, 10)),
            6: [(time(0), time(3))],
        },
        horizon_days=5,
    )
    now = utc(2026, 10, 30, 0)

    first = first_slot_each_day(rules, now)
    sunday = slots_on(rules, date(2026, 11, 1), now=now)

    assert first[date(2026, 10, 31)] == utc(2026, 10, 31, 13, 0)  # 09:00 EDT
    assert sunday == [
        utc(2026, 11, 1, 4, 0),  # 00:00 EDT
        utc(2026, 11, 1, 4, 30),  # 00:30 EDT
        utc(2026, 11, 1, 5, 0),  # 01:00 EDT
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT
        utc(2026, 11, 1, 7, 0),  # 02:00 EST
        utc(2026, 11, 1, 7, 30),  # 02:30 EST
    ]
    assert first[date(2026, 11, 2)] == utc(2026, 11, 2, 14, 0)  # 09:00 EST


def test_buffer_spanning_the_spring_forward_gap_uses_elapsed_time():
    # A 00:30 GMT call plus buffer ends at 01:30Z (02:30 BST); a booking at
    # 02:00 BST (01:00Z) therefore collides with it.
    rules = make_rules(weekly_hours={6: [(time(0), time(3))]}, buffer_minutes=30)
    taken = [booking(utc(2026, 3, 29, 1, 0))]

    slots = slots_on(rules, date(2026, 3, 29), taken)

    assert utc(2026, 3, 29, 0, 0) in slots
    assert utc(2026, 3, 29, 0, 30) not in slots


# --- visitor display grouping ---------------------------------------------------


def test_late_owner_slot_falls_on_next_day_in_half_hour_offset_zone():
    # 18:00-20:00 BST is 22:30-00:30 IST (UTC+05:30).
    rules = make_rules(weekly_hours={0: [(time(18), time(20))]}, horizon_days=1)
    slots = available_slots(rules, [], SUNDAY_NOON)

    grouped = slots_by_local_day(slots, "Asia/Kolkata")

    assert list(grouped) == [date(2026, 6, 1), date(2026, 6, 2)]
    assert grouped[date(2026, 6, 1)] == [
        utc(2026, 6, 1, 17, 0),
        utc(2026, 6, 1, 17, 30),
        utc(2026, 6, 1, 18, 0),
    ]
    assert grouped[date(2026, 6, 2)] == [utc(2026, 6, 1, 18, 30)]  # 00:00 IST


def test_owner_afternoon_is_next_day_for_an_adelaide_visitor():
    # Adelaide is UTC+09:30 in June: 15:30 BST (14:30Z) is 00:00 next day.
    slots = available_slots(make_rules(horizon_days=1), [], SUNDAY_NOON)

    grouped = slots_by_local_day(slots, "Australia/Adelaide")

    assert list(grouped) == [date(2026, 6, 1), date(2026, 6, 2)]
    assert len(grouped[date(2026, 6, 1)]) == 13
    assert grouped[date(2026, 6, 2)] == [
        utc(2026, 6, 1, 14, 30),
        utc(2026, 6, 1, 15, 0),
        utc(2026, 6, 1, 15, 30),
    ]


def test_grouping_sorts_days_and_slots_and_keeps_utc_values():
    slots = [utc(2026, 6, 2, 9), utc(2026, 6, 1, 10), utc(2026, 6, 1, 9)]

    grouped = slots_by_local_day(slots, LONDON)

    assert list(grouped) == [date(2026, 6, 1), date(2026, 6, 2)]
    assert grouped[date(2026, 6, 1)] == [utc(2026, 6, 1, 9), utc(2026, 6, 1, 10)]
    assert all(s.tzinfo is UTC for day in grouped.values() for s in day)


def test_grouping_nothing_gives_empty_dict():
    assert slots_by_local_day([], "Asia/Kolkata") == {}


# --- problem codes and validation -------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # notice beats daily limit and taken
        (local(LONDON, 2026, 6, 1, 11, 30), "notice"),
        # beyond horizon beats day off and outside hours
        (local(LONDON, 2026, 6, 20, 3, 7), "beyond_horizon"),
        # day off beats outside hours
        (local(LONDON, 2026, 6, 3, 3, 7), "day_off"),
        # outside hours beats daily limit
        (local(LONDON, 2026, 6, 2, 8, 0), "outside_hours"),
        # daily limit beats taken
        (local(LONDON, 2026, 6, 2, 10, 0), "daily_limit"),
    ],
)
def test_problems_are_reported_in_documented_order(start, expected):
    rules = make_rules(
        min_notice=timedelta(hours=24),
        horizon_days=7,
        daily_limit=1,
        dates_off=frozenset({date(2026, 6, 3), date(2026, 6, 20)}),
    )
    taken = [
        booking(local(LONDON, 2026, 6, 1, 11, 30)),
        booking(local(LONDON, 2026, 6, 2, 10, 0)),
    ]

    assert slot_problem(rules, taken, SUNDAY_NOON - timedelta(hours=1), start) == (expected)


def test_naive_datetimes_are_rejected():
    rules = make_rules()
    naive = datetime(2026, 6, 1, 9)

    with pytest.raises(ValueError):
        slot_problem(rules, [], SUNDAY_NOON, naive)
    with pytest.raises(ValueError):
        slot_problem(rules, [], naive, utc(2026, 6, 1, 9))
    with pytest.raises(ValueError):
        available_slots(rules, [], naive)
    with pytest.raises(ValueError):
        available_slots(rules, [Busy(naive, naive + timedelta(minutes=30))], SUNDAY_NOON)
    with pytest.raises(ValueError):
        slots_by_local_day([naive], LONDON)
    with pytest.raises(ValueError):
        blocked_interval(naive, 30, 0)


@pytest.mark.parametrize(
    "overrides",
    [{"call_minutes": 0}, {"buffer_minutes": -5}, {"horizon_days": -1}],
)
def test_rules_that_cannot_produce_a_grid_are_rejected(overrides):
    with pytest.raises(ValueError):
        make_rules(**overrides)


# --- agreement between available_slots and slot_problem ---------------------------


def test_slot_problem_agrees_with_available_slots_over_whole_horizon():
    # London across the March change, with buffer, notice, limit, day off and
    # a spread of bookings; every 5-minute instant is checked both ways.
    rules = make_rules(
        weekly_hours={
            **hours(WEEKDAYS, (9, 12), (13, 17)),
            6: [(time(0), time(3)), (time(10), time(12))],
        },
        buffer_minutes=15,
        min_notice=timedelta(hours=20),
        horizon_days=14,
        daily_limit=3,
        dates_off=frozenset({date(2026, 3, 31)}),
    )
    now = utc(2026, 3, 23, 10, 7)
    taken = [
        booking(local(LONDON, 2026, 3, 24, 9, 0)),
        booking(local(LONDON, 2026, 3, 24, 13, 0)),
        booking(local(LONDON, 2026, 3, 24, 15, 0)),
        booking(local(LONDON, 2026, 3, 25, 10, 10), minutes=50),
        booking(utc(2026, 3, 29, 1, 0)),
        booking(local(LONDON, 2026, 4, 2, 16, 0), minutes=90),
    ]

    offered = available_slots(rules, taken, now)
    assert offered
    for slot in offered:
        assert slot_problem(rules, taken, now, slot) is None

    instant = now.replace(minute=0) - timedelta(days=1)
    end = now + timedelta(days=rules.horizon_days + 2)
    offered_set = set(offered)
    while instant < end:
        if instant not in offered_set:
            assert slot_problem(rules, taken, now, instant) is not None, instant
        instant += timedelta(minutes=5)
