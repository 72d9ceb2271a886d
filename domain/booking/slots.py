"""Free strategy-call slots for an independent consultant.

Pure scheduling logic: no Flask, no database, standard library only. The
owner's weekly hours are wall-clock ranges in the owner's IANA time zone; slots
are generated per owner-local day with ``zoneinfo`` and returned as aware UTC
instants, so daylight-saving changes move the UTC time, never the local time.

``available_slots`` lists every bookable start; ``slot_problem`` explains why a
particular start is not bookable and agrees exactly with ``available_slots``.
All intervals are half-open, so a call may start the instant another's buffer
ends.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class AvailabilityRules:
    """The owner's bookable hours and booking constraints."""

    timezone: str  # owner's IANA zone, e.g. "Europe/London"
    # weekday (0=Mon..6=Sun) -> owner-local (start, end) wall-clock ranges
    weekly_hours: Mapping[int, Sequence[tuple[time, time]]]
    call_minutes: int = 30
    buffer_minutes: int = 0  # gap kept free after each call
    min_notice: timedelta = timedelta(hours=24)
    horizon_days: int = 30  # owner-local days after today that are offered
    daily_limit: int | None = None  # max active calls per owner-local day
    dates_off: frozenset[date] = frozenset()  # owner-local dates, no slots

    def __post_init__(self) -> None:
        # A non-positive step would make slot generation loop forever.
        if self.call_minutes <= 0 or self.buffer_minutes < 0:
            raise ValueError("call_minutes must be > 0 and buffer_minutes >= 0")
        if self.horizon_days < 0:
            raise ValueError("horizon_days must be >= 0")
        ZoneInfo(self.timezone)  # fail at configuration time, not mid-request


class Busy(NamedTuple):
    """A span the owner is busy: an active booking, or (`is_call` False) a busy time from
    the owner's own calendars. Aware datetimes; `end` excludes the buffer. Only calls
    count towards the daily limit. A named tuple, not a dataclass: a picker page makes
    one per call in its month, and a tuple is made in half the time."""

    start: datetime
    end: datetime
    is_call: bool = True


def blocked_interval(
    start: datetime, call_minutes: int, buffer_minutes: int
) -> tuple[datetime, datetime]:
    """[start, start + call + buffer) — the span a booking keeps busy."""
    # Arithmetic on a zoneinfo-aware datetime is wall-clock arithmetic and
    # would be an hour off across a DST change, so work in UTC.
    begin = _to_utc(start)
    return begin, begin + timedelta(minutes=call_minutes + buffer_minutes)


def available_slots(
    rules: AvailabilityRules,
    bookings: Iterable[Busy],
    now: datetime,
    *,
    between: tuple[date, date] | None = None,
) -> list[datetime]:
    """Sorted aware-UTC start instants of every bookable slot; with `between` (first, last
    owner-local day, inclusive) only those days', so a page showing one month computes
    one month. `bookings` need then only reach those days."""
    schedule = _Schedule(rules, bookings, now)
    free: list[datetime] = []
    for day in schedule.offered_days(between):
        if day not in rules.dates_off and not schedule.day_full(day):
            free.extend(map(_from_micros, schedule.free_micros(schedule.grid_micros(day))))
    return free


def slot_problem(
    rules: AvailabilityRules,
    bookings: Iterable[Busy],
    now: datetime,
    start: datetime,
    *,
    calls_that_day: int | None = None,
) -> str | None:
    """None when `start` (aware) is bookable, else one of the codes:
    'past', 'notice', 'beyond_horizon', 'day_off', 'outside_hours',
    'daily_limit', 'taken'. Checked in that order.

    `calls_that_day`, when given, is the count of active calls on the owner-local day of
    `start`; then `bookings` need only hold the spans that can reach `start`."""
    schedule = _Schedule(rules, bookings, now)
    start = _to_utc(start)
    if calls_that_day is not None:
        schedule.calls_per_day[schedule.local_date(start)] = calls_that_day
    problem = schedule.timing_problem(start)
    if problem is not None:
        return problem
    day = schedule.local_date(start)
    if day > schedule.last_day:
        return "beyond_horizon"
    if day in rules.dates_off:
        return "day_off"
    # Compared as whole microseconds: a day's grid as datetimes cost more than the rest.
    if _micros(start) not in schedule.grid_micros(day):
        return "outside_hours"
    return schedule.booking_problem(start)


def slots_by_local_day(slots: Iterable[datetime], timezone: str) -> dict[date, list[datetime]]:
    """Group UTC slots by the calendar day in `timezone` (the visitor's zone,
    for display), ordered; values stay UTC instants."""
    zone = ZoneInfo(timezone)
    grouped: dict[date, list[datetime]] = {}
    for slot in sorted(_to_utc(s) for s in slots):
        grouped.setdefault(slot.astimezone(zone).date(), []).append(slot)
    return grouped


class _Schedule:
    """Rules plus bookings pre-processed once, so each slot check is O(log n).

    Instants are whole microseconds since the epoch (ints): exact, and far cheaper to
    compare and step than aware datetimes, which matters at 30 days of slots."""

    def __init__(self, rules: AvailabilityRules, bookings: Iterable[Busy], now: datetime) -> None:
        self.rules = rules
        self.zone = ZoneInfo(rules.timezone)
        self.now = _to_utc(now)
        self.now_micros = _micros(self.now)
        self.earliest = max(self.now_micros + 1, _micros(self.now + rules.min_notice))
        self.span = (rules.call_minutes + rules.buffer_minutes) * _MINUTE
        self.today = self.local_date(self.now)
        self.last_day = self.today + timedelta(days=rules.horizon_days)
        bookings = list(bookings)
        ordered = sorted((_micros(b.start), _micros(b.end)) for b in bookings)
        self.busy_starts, self.busy_ends = _merge_busy(ordered, rules.buffer_minutes * _MINUTE)
        # Only a daily limit needs each call's local day.
        counted = [b for b in bookings if b.is_call] if rules.daily_limit is not None else []
        self.calls_per_day = Counter(self.local_date(b.start) for b in counted)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def offered_days(self, between: tuple[date, date] | None = None) -> Iterable[date]:
        first, last = self.today, self.last_day
        if between is not None:
            first, last = max(first, between[0]), min(last, between[1])
        for offset in range((last - first).days + 1):
            yield first + timedelta(days=offset)

    def grid_micros(self, day: date) -> list[int]:
        midnight = datetime.combine(day, time(), self.zone)
        offset = midnight.utcoffset()
        if offset != datetime.combine(day + timedelta(days=1), time(), self.zone).utcoffset():
            return self._grid_across_change(day)
        # One offset all day (no clock change): every wall time exists once, so each start
        # is midnight's instant plus its minutes.
        base = _micros(midnight.replace(tzinfo=UTC) - offset)
        step = self.span
        call = self.rules.call_minutes * _MINUTE
        starts: set[int] = set()
        for range_start, range_end in self.rules.weekly_hours.get(day.weekday(), ()):
            first = base + (range_start.hour * 60 + range_start.minute) * _MINUTE
            limit = base + (range_end.hour * 60 + range_end.minute) * _MINUTE
            starts.update(range(first, limit - call + 1, step))
        return sorted(starts)

    def _grid_across_change(self, day: date) -> list[int]:
        starts: set[int] = set()
        for range_start, range_end in self.rules.weekly_hours.get(day.weekday(), ()):
            for wall in _wall_clock_starts(day, range_start, range_end, self.rules):
                instant = self._existing_instant(wall)
                if instant is not None:
                    starts.add(_micros(instant))
        return sorted(starts)

    def timely(self, start: int) -> bool:
        return start >= self.earliest

    def timing_problem(self, start: datetime) -> str | None:
        if start <= self.now:
            return "past"
        if start < self.now + self.rules.min_notice:
            return "notice"
        return None

    def day_full(self, day: date) -> bool:
        limit = self.rules.daily_limit
        return limit is not None and self.calls_per_day[day] >= limit

    def booking_problem(self, start: datetime) -> str | None:
        if self.day_full(self.local_date(start)):
            return "daily_limit"
        if self.overlaps_busy(_micros(start)):
            return "taken"
        return None

    def _existing_instant(self, wall: datetime) -> datetime | None:
        # fold=0 picks the first of two ambiguous fall-back times; a time in
        # the spring-forward gap does not survive the round trip, so skip it.
        instant = wall.replace(tzinfo=self.zone, fold=0).astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) != wall:
            return None
        return instant

    def free_micros(self, starts: list[int]) -> list[int]:
        """The sorted `starts` that are timely and meet no busy span: one sweep along both
        sorted lists, where a search per start cost a function call and a bisect each."""
        starts = starts[bisect_left(starts, self.earliest) :]
        if not starts:
            return []
        begins, ends, span = self.busy_starts, self.busy_ends, self.span
        count = len(ends)
        index = bisect_right(ends, starts[0])  # the first span still running at the start
        free = []
        for start in starts:
            while index < count and ends[index] <= start:
                index += 1
            # Spans are disjoint and sorted: only the first one not yet over can meet it.
            if index == count or begins[index] >= start + span:
                free.append(start)
        return free

    def overlaps_busy(self, begin: int) -> bool:
        """Whether [begin, begin + call + buffer) meets a busy span."""
        end = begin + self.span
        # Merged spans are disjoint and sorted, so the last one starting before
        # `end` is the only candidate that can reach past `begin`.
        index = bisect_left(self.busy_starts, end) - 1
        return index >= 0 and self.busy_ends[index] > begin


def _wall_clock_starts(
    day: date, range_start: time, range_end: time, rules: AvailabilityRules
) -> Iterable[datetime]:
    step = timedelta(minutes=rules.call_minutes + rules.buffer_minutes)
    call = timedelta(minutes=rules.call_minutes)
    wall = datetime.combine(day, range_start)
    limit = datetime.combine(day, range_end)
    while wall + call <= limit:
        yield wall
        wall += step


def _merge_busy(ordered: Sequence[tuple[int, int]], buffer: int) -> tuple[list[int], list[int]]:
    """Union of the bookings' busy spans [start, end + buffer) as parallel lists."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in ordered:
        end += buffer
        if end <= start:
            continue  # an empty span blocks nothing
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)  # touching spans merge harmlessly
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = 60_000_000  # microseconds
_ONE_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    """Whole microseconds since the epoch: exact, unlike a float timestamp."""
    try:
        return (moment - _EPOCH) // _ONE_MICROSECOND  # aware minus aware: offsets applied
    except TypeError:
        raise ValueError(f"naive datetime not allowed: {moment!r}") from None


def _from_micros(micros: int) -> datetime:
    seconds, rest = divmod(micros, 1_000_000)
    if rest:
        return _EPOCH + timedelta(microseconds=micros)
    return datetime.fromtimestamp(seconds, UTC)  # one C call: slots are whole seconds


def _to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime not allowed: {moment!r}")
    return moment.astimezone(UTC)
