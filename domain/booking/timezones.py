"""Time zones as visitors and the owner see them: IANA names, labels, conversions.

The visitor's list is built once per process (and day, for the offsets): tzdata's
zone.tab names one canonical zone per place, so the list holds Asia/Kolkata and not its
old alias Asia/Calcutta, which browsers still report and `canonical_zone` maps home."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

from markupsafe import Markup, escape

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
    """Every zone name Python knows, aliases included: what the owner may store."""
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def _tzdata_text(name: str) -> str:
    return resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def canonical_names() -> tuple[str, ...]:
    """The zones a visitor chooses from: one canonical name per place (zone.tab), and UTC."""
    names = {
        line.split("\t")[2]
        for line in _tzdata_text("zone.tab").splitlines()
        if line and not line.startswith("#")
    }
    return tuple(sorted(names & set(timezone_names()))) + ("UTC",)


@lru_cache(maxsize=1)
def _aliases() -> dict[str, str]:
    """Old name -> current name, from tzdata's links ("L Asia/Kolkata Asia/Calcutta")."""
    links = {}
    for line in _tzdata_text("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            links[alias] = target
    return links


def canonical_zone(name: str | None) -> str | None:
    """The list's name for `name` (itself, or what an old alias now points to); None when
    it is no zone at all."""
    if not name or len(name) > 64:
        return None
    canonical = set(canonical_names())
    if name in canonical:
        return name
    target = _aliases().get(name)
    if target in canonical:
        return target
    return name if name in timezone_names() else None


def valid_timezone(name: str | None) -> str | None:
    return canonical_zone(name)


def zone_label(moment: datetime, timezone: str) -> str:
    """'Europe/London (GMT)': the IANA name a visitor recognises, and the abbreviation."""
    abbreviation = moment.astimezone(ZoneInfo(timezone)).tzname() or ""
    if not abbreviation or abbreviation[0] in "+-":
        offset = moment.astimezone(ZoneInfo(timezone)).strftime("%z")
        abbreviation = f"UTC{offset[:3]}:{offset[3:]}"
    return timezone if abbreviation == timezone else f"{timezone} ({abbreviation})"


def gmt_offset(moment: datetime, timezone: str) -> str:
    """'GMT+0', 'GMT+5:30', 'GMT-7': the offset as a visitor reads it, never an
    abbreviation that can be ambiguous (IST) or a number in brackets of its own."""
    offset = moment.astimezone(ZoneInfo(timezone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"GMT{sign}{hours}" + (f":{rest:02d}" if rest else "")


def place_name(timezone: str) -> str:
    """'America/Argentina/Buenos_Aires' -> 'Buenos Aires': the city a visitor looks for."""
    return timezone.rsplit("/", 1)[-1].replace("_", " ")


def choice_label(moment: datetime, timezone: str) -> str:
    """'London (GMT+0)': place and offset, one pair of brackets."""
    return f"{place_name(timezone)} ({gmt_offset(moment, timezone)})"


@dataclass(frozen=True)
class ZoneChoice:
    name: str
    label: str


@lru_cache(maxsize=4)
def zone_choices(on: date) -> tuple[tuple[ZoneChoice, ...], tuple[ZoneChoice, ...]]:
    """(common, all) zones with their offsets at noon UTC on `on`; sorted by offset then
    place, as a visitor scans for their own."""
    moment = datetime.combine(on, time(12), UTC)

    def choice(name: str) -> ZoneChoice:
        return ZoneChoice(name, choice_label(moment, name))

    common = tuple(choice(name) for name in POPULAR_ZONES)
    everything = sorted(
        (choice(name) for name in canonical_names()),
        key=lambda c: (moment.astimezone(ZoneInfo(c.name)).utcoffset(), c.label),
    )
    return common, tuple(everything)


@lru_cache(maxsize=4)
def _options_markup(on: date) -> str:
    common, everything = zone_choices(on)

    def options(choices) -> str:
        return "".join(
            f'<option value="{escape(c.name)}">{escape(c.label)}</option>' for c in choices
        )

    return (
        f'<optgroup label="Common">{options(common)}</optgroup>'
        f'<optgroup label="All time zones">{options(everything)}</optgroup>'
    )


def zone_options(on: date, selected: str) -> Markup:
    """The zone list's <option>s, rendered once per process and day: 400 options through
    the template engine on every request were most of the picker's cost. `selected` is
    marked once (in Common when it is there)."""
    markup = _options_markup(on)
    needle = f'<option value="{escape(selected)}">'
    return Markup(markup.replace(needle, needle[:-1] + " selected>", 1))


def local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))
