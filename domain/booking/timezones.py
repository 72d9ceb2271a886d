"""Time zones as visitors and the owner see them: IANA names, labels, conversions."""

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

POPULAR_ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def valid_timezone(name: str | None) -> str | None:
    return name if name and name in timezone_names() else None


def zone_label(moment: datetime, timezone: str) -> str:
    """'Europe/London (GMT)': the IANA name a visitor recognises, and the abbreviation."""
    abbreviation = moment.astimezone(ZoneInfo(timezone)).tzname() or ""
    if not abbreviation or abbreviation[0] in "+-":
        offset = moment.astimezone(ZoneInfo(timezone)).strftime("%z")
        abbreviation = f"UTC{offset[:3]}:{offset[3:]}"
    return timezone if abbreviation == timezone else f"{timezone} ({abbreviation})"


def local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))
