"""The owner's stored availability: defaults, validation, and conversion to slot rules."""

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy.orm import Session

from domain.booking.slots import AvailabilityRules
from models import AvailabilitySettings

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAY_KEYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WORKDAY_HOURS = [["09:00", "12:00"], ["13:00", "17:00"]]


@dataclass
class AvailabilityValues:
    """What the owner sets; weekly_hours maps "0".."6" (Monday first) to "HH:MM" pairs."""

    timezone: str = "Europe/London"
    weekly_hours: dict[str, list[list[str]]] = field(
        default_factory=lambda: {str(day): [list(r) for r in WORKDAY_HOURS] for day in range(5)}
    )
    call_minutes: int = 30
    buffer_minutes: int = 30
    min_notice_minutes: int = 24 * 60
    horizon_days: int = 30
    daily_limit: int | None = 5
    dates_off: list[str] = field(default_factory=list)


class AvailabilityError(ValueError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


def is_known_timezone(name: str) -> bool:
    if name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_ranges(text: str) -> list[list[str]]:
    """'09:00-12:00, 13:00-17:00' -> [["09:00", "12:00"], ["13:00", "17:00"]]; '' -> []."""
    ranges = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        start, separator, end = part.partition("-")
        if not separator:
            raise ValueError(f"{part!r} is not a range like 09:00-12:00")
        ranges.append([start.strip(), end.strip()])
    return ranges


def validate(values: AvailabilityValues) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not is_known_timezone(values.timezone):
        errors["timezone"] = (
            "Choose a time zone from the list (an IANA name such as Europe/London)."
        )
    for day, ranges in values.weekly_hours.items():
        problem = ranges_problem(ranges)
        if problem:
            errors[f"hours_{day}"] = problem
    limits = {
        "call_minutes": (values.call_minutes, 5, 480),
        "buffer_minutes": (values.buffer_minutes, 0, 240),
        "min_notice_minutes": (values.min_notice_minutes, 0, 60 * 24 * 60),
        "horizon_days": (values.horizon_days, 1, 365),
    }
    for name, (value, low, high) in limits.items():
        if not isinstance(value, int) or not low <= value <= high:
            errors[name] = f"Enter a whole number from {low} to {high}."
    if values.daily_limit is not None and not 1 <= values.daily_limit <= 48:
        errors["daily_limit"] = "Enter a whole number from 1 to 48, or leave it empty for no limit."
    for day in values.dates_off:
        try:
            date.fromisoformat(day)
        except ValueError:
            errors["dates_off"] = f"{day!r} is not a date like 2026-12-25."
    return errors


def ranges_problem(ranges: list[list[str]]) -> str | None:
    try:
        parsed = sorted(
            (time.fromisoformat(start), time.fromisoformat(end)) for start, end in ranges
        )
    except (ValueError, TypeError):
        return "Write times as HH:MM, for example 09:00–12:00."
    for start, end in parsed:
        if end <= start:
            return f"The range {start:%H:%M}–{end:%H:%M} must end after it starts."
    for (_, first_end), (second_start, _) in zip(parsed, parsed[1:], strict=False):
        if second_start < first_end:
            return "Ranges on the same day must not overlap."
    return None


SETTINGS_HOLDER = "availability_settings_row"


def settings_row(session: Session) -> AvailabilitySettings | None:
    """The one settings row, held by the session while it lives. SQLAlchemy's identity map
    keeps only what something references, so without a holder every `session.get` of this
    row was a new SELECT: seven of them in one booking. A commit expires it as usual, and
    the next read refreshes it."""
    row = session.info.get(SETTINGS_HOLDER)
    if row is not None and row in session:
        return row
    row = session.get(AvailabilitySettings, 1)
    if row is not None:
        session.info[SETTINGS_HOLDER] = row
    return row


def load_values(session: Session) -> AvailabilityValues:
    row = settings_row(session)
    if row is None:
        return AvailabilityValues()
    return AvailabilityValues(
        timezone=row.timezone,
        weekly_hours=row.weekly_hours,
        call_minutes=row.call_minutes,
        buffer_minutes=row.buffer_minutes,
        min_notice_minutes=row.min_notice_minutes,
        horizon_days=row.horizon_days,
        daily_limit=row.daily_limit,
        dates_off=list(row.dates_off),
    )


def save_values(session: Session, values: AvailabilityValues) -> None:
    """Validate and store; never touches existing bookings. The caller commits."""
    errors = validate(values)
    if errors:
        raise AvailabilityError(errors)
    row = settings_row(session) or AvailabilitySettings(id=1)
    row.timezone = values.timezone
    row.weekly_hours = {
        day: [list(r) for r in ranges] for day, ranges in values.weekly_hours.items() if ranges
    }
    row.call_minutes = values.call_minutes
    row.buffer_minutes = values.buffer_minutes
    row.min_notice_minutes = values.min_notice_minutes
    row.horizon_days = values.horizon_days
    row.daily_limit = values.daily_limit
    row.dates_off = sorted(set(values.dates_off))
    session.add(row)


def rules_from_values(values: AvailabilityValues) -> AvailabilityRules:
    return AvailabilityRules(
        timezone=values.timezone,
        weekly_hours={
            int(day): [(time.fromisoformat(s), time.fromisoformat(e)) for s, e in ranges]
            for day, ranges in values.weekly_hours.items()
        },
        call_minutes=values.call_minutes,
        buffer_minutes=values.buffer_minutes,
        min_notice=timedelta(minutes=values.min_notice_minutes),
        horizon_days=values.horizon_days,
        daily_limit=values.daily_limit,
        dates_off=frozenset(date.fromisoformat(day) for day in values.dates_off),
    )


_last_loaded: list[AvailabilityRules] = []


def load_rules(session: Session) -> AvailabilityRules:
    rules = rules_from_values(load_values(session))
    _last_loaded[:] = [rules]
    return rules


def last_known_rules() -> AvailabilityRules:
    """The rules this process last read (the defaults before any), for pages that must
    still answer while the database is unavailable."""
    return _last_loaded[0] if _last_loaded else rules_from_values(AvailabilityValues())
