"""Step 1's month picker: one month's days with what can really be booked on each, and
the chosen day's times. Only the shown month is computed, from one query for its busy
times: the page shows one month, so it never pays for the whole horizon."""

from calendar import Calendar
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, true, union_all
from sqlalchemy.orm import Session

from domain.booking.slots import AvailabilityRules, Busy, available_slots
from domain.calendar.sync import calendar_spans
from domain.platform.utc_text import parse_utc_text, utc_text
from models import Booking

# Two zones' dates differ by at most two days (UTC-12 against UTC+14), so the owner's days
# that can fall in a visitor's month are the month and two days either side.
ZONE_SLACK = timedelta(days=2)
_WEEKS = Calendar(firstweekday=0)  # Monday first, as the owner's weekly hours are
# The longest span one call can keep busy (480-minute call + 240-minute buffer, the most
# domain.booking.availability allows) fits in a day: an earlier start cannot reach a slot.
LONGEST_SPAN = timedelta(days=1)


@dataclass(frozen=True)
class CalendarDay:
    day: date
    count: int  # times that can really be booked (daily limit applied); 0: none
    in_month: bool


@dataclass(frozen=True)
class MonthPicker:
    month: date  # the first of the shown month, in the visitor's zone
    weeks: tuple[tuple[CalendarDay, ...], ...]
    chosen: date | None
    times: tuple[datetime, ...]  # the chosen day's free starts, UTC
    previous: date | None  # first of the month before, when it has offered days
    next: date | None

    @property
    def has_times(self) -> bool:
        return any(d.count for week in self.weeks for d in week)


def parse_month(value: str | None) -> date | None:
    """'2026-12' -> date(2026, 12, 1); None for anything else."""
    if not value or len(value) != 7:
        return None
    try:
        return date.fromisoformat(value + "-01")
    except ValueError:
        return None


def parse_day(value: str | None) -> date | None:
    if not value or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def _previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def busy_between(
    session: Session, rules: AvailabilityRules, start: datetime, end: datetime,
    excluding: int | None = None,
) -> list[Busy]:  # fmt: skip
    """Active calls and calendar busy times that can reach [start, end): a month's for the
    picker, the whole horizon for the booking check. This runs on every picker page, so
    it is one statement for both, reading only the times, as text parsed in one C call
    each (domain/platform/utc_text.py), on the session's connection: plain columns, which
    the ORM's result machinery (a quarter of the time at a thousand rows) adds nothing to."""
    buffer = timedelta(minutes=rules.buffer_minutes)
    spans = union_all(calls_reaching(start, end, excluding), calendar_spans(start, end))
    rows = session.connection().execute(spans).all()  # one fetchall, not a fetchone a row
    return busy_spans(rows, buffer)


def busy_spans(rows, buffer: timedelta) -> list[Busy]:
    """Busy spans from the rows of `calls_reaching` and `calendar_spans`."""
    parse = parse_utc_text
    # The slot check adds today's buffer to a call's end; the stored span may carry an older
    # one. A calendar busy time's third column is its end again, so it keeps its own end.
    return [
        Busy(parse(begin), max(parse(finish), parse(blocked_until) - buffer), is_call)
        for begin, finish, blocked_until, is_call in rows
    ]


def calls_reaching(start, end, excluding: int | None = None, *, earliest=None) -> Select:
    """The statement for the active calls whose blocked span meets [start, end): start,
    end and blocked_until as `utc_text`, and True (a call). `earliest` (bound parameters
    may be given for all three) is the earliest start that can, by default `start` less
    LONGEST_SPAN."""
    query = select(
        utc_text(Booking.starts_at), utc_text(Booking.ends_at), utc_text(Booking.blocked_until),
        true(),
    ).where(
        Booking.status == "active",
        # A call keeps at most LONGEST_SPAN busy, so the partial index on active starts
        # (uq_booking_active_start) is read over the window and a day, not all history.
        Booking.starts_at >= (start - LONGEST_SPAN if earliest is None else earliest),
        Booking.starts_at < end,
        Booking.blocked_until > start,
    )  # fmt: skip
    if excluding is not None:
        query = query.where(Booking.id != excluding)
    return query


def offered_range(rules: AvailabilityRules, now: datetime, timezone: str) -> tuple[date, date]:
    """The first and last visitor-local days that can hold a free time."""
    owner = ZoneInfo(rules.timezone)
    visitor = ZoneInfo(timezone)
    first = (now + rules.min_notice).astimezone(visitor).date()
    last_owner_day = now.astimezone(owner).date() + timedelta(days=rules.horizon_days + 1)
    last = datetime.combine(last_owner_day, time(), owner).astimezone(visitor).date()
    return first, last


def month_picker(
    session: Session, rules: AvailabilityRules, now: datetime, timezone: str,
    *, month: date | None = None, day: date | None = None, excluding: int | None = None,
) -> MonthPicker:  # fmt: skip
    """The month asked for (or the chosen day's, or the first with free times) and its
    chosen day: the asked day when it has times, else the month's first that has."""
    first, last = offered_range(rules, now, timezone)
    wanted = month or (day.replace(day=1) if day else None)
    shown = _clamp_month(wanted or first.replace(day=1), first, last)
    counts, times = month_times(session, rules, now, timezone, shown, excluding)
    if wanted is None and not any(counts.values()) and _next_month(shown) <= last:
        shown = _next_month(shown)  # this month is over: open on the next, as a visitor expects
        counts, times = month_times(session, rules, now, timezone, shown, excluding)
    chosen = (
        day if day and counts.get(day) else next((d for d in sorted(counts) if counts[d]), None)
    )
    weeks = tuple(
        tuple(
            CalendarDay(
                d, counts.get(d, 0) if d.month == shown.month else 0, d.month == shown.month
            )
            for d in week
        )  # fmt: skip
        for week in _WEEKS.monthdatescalendar(shown.year, shown.month)
    )
    previous = _previous_month(shown)
    return MonthPicker(
        month=shown,
        weeks=weeks,
        chosen=chosen,
        times=tuple(times.get(chosen, ())) if chosen else (),
        previous=previous if previous >= first.replace(day=1) else None,
        next=_next_month(shown) if _next_month(shown) <= last else None,
    )


class LastUsed:
    """A small least-recently-used map: what this process computed, bounded, because keys
    carry visitors' parameters and must not grow without end."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()

    def get(self, key):
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key, value) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


_VIEWS = LastUsed(256)
_MINUTE = timedelta(minutes=1)


def next_minute(now: datetime) -> datetime:
    """`now` rounded up to the whole minute. Starts, notice and hours are whole minutes, so
    a view computed at the next whole minute offers, all through the minute before it,
    exactly the times a view computed at that instant would: a minute's cache is exact."""
    whole = now.replace(second=0, microsecond=0)
    return whole if whole == now else whole + _MINUTE


def cached_month_picker(
    session: Session, stamp: str | None, rules: AvailabilityRules, now: datetime,
    timezone: str, *, month: date | None = None, day: date | None = None,
) -> tuple[tuple, MonthPicker]:  # fmt: skip
    """(key, view): `month_picker` reused while nothing that can change it has changed.
    The key holds the availability stamp (`current_stamp`, read before `rules` were: one
    primary-key read instead of the month's busy-time queries), the minute, the zone and
    what was asked; the rules are the stamp's own."""
    minute = next_minute(now)
    key = (stamp, minute, timezone, month, day)
    view = _VIEWS.get(key)
    if view is None:
        view = month_picker(session, rules, minute, timezone, month=month, day=day)
        _VIEWS.put(key, view)
    return key, view


def _clamp_month(month: date, first: date, last: date) -> date:
    return min(max(month, first.replace(day=1)), last.replace(day=1))


def month_times(
    session: Session, rules: AvailabilityRules, now: datetime, timezone: str, month: date,
    excluding: int | None = None,
) -> tuple[dict[date, int], dict[date, list[datetime]]]:  # fmt: skip
    """Per visitor-local day of `month`: how many times can be booked, and the times."""
    owner = ZoneInfo(rules.timezone)
    visitor = ZoneInfo(timezone)
    end_of_month = _next_month(month)
    window = (month - ZONE_SLACK, end_of_month + ZONE_SLACK)
    start = datetime.combine(window[0], time(), owner).astimezone(UTC) - timedelta(days=1)
    end = datetime.combine(window[1], time(), owner).astimezone(UTC) + timedelta(days=1)
    busy = busy_between(session, rules, start, end, excluding)
    free = available_slots(rules, busy, now, between=window)
    times: dict[date, list[datetime]] = {}
    for moment in free:
        local_day = moment.astimezone(visitor).date()
        if month <= local_day < end_of_month:
            times.setdefault(local_day, []).append(moment)
    return bookable_counts(rules, busy, times), times


def bookable_counts(
    rules: AvailabilityRules, busy: list[Busy], times: dict[date, list[datetime]]
) -> dict[date, int]:
    """How many of each day's times can really be booked: with a daily limit of 5 and 3
    calls that day, 2, however many times are free. A visitor's day can meet two of the
    owner's days; each gives at most what it has left."""
    if rules.daily_limit is None:
        return {day: len(moments) for day, moments in times.items()}
    owner = ZoneInfo(rules.timezone)
    calls = Counter(b.start.astimezone(owner).date() for b in busy if b.is_call)
    counts = {}
    for day, moments in times.items():
        per_owner_day = Counter(m.astimezone(owner).date() for m in moments)
        counts[day] = sum(
            min(free, max(rules.daily_limit - calls[owner_day], 0))
            for owner_day, free in per_owner_day.items()
        )
    return counts
