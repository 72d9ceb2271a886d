"""Helpers of the booking pages: the visitor's zone, the slot picker, signals, call links."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from domain.booking.calls import Signal
from domain.booking.host import load_host_card
from domain.booking.location import display_phone, load_location
from domain.booking.slots import slots_by_local_day
from domain.booking.timezones import (  # noqa: F401  (re-exported for the booking views)
    POPULAR_ZONES,
    choice_label,
    local,
    timezone_names,
    valid_timezone,
    zone_label,
)
from domain.content.library import Article, Library
from extensions import db

SLOT_MESSAGES = {
    "past": "That time has already passed. Please pick another.",
    "notice": "That time is too soon to prepare for. Please pick a later one.",
    "beyond_horizon": "That time is too far ahead. Please pick an earlier one.",
    "day_off": "No calls are held on that day. Please pick another.",
    "outside_hours": "That time is not one of the available times. Please pick another.",
    "daily_limit": "That day is fully booked. Please pick another day.",
    "taken": "That time was just taken, please pick another.",
}


def parse_slot(value: str | None) -> datetime | None:
    """An aware instant from the `slot` field (ISO 8601); None when it is not one."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def slot_value(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class DayChoice:
    day: date
    slots: tuple[datetime, ...]


def day_choices(slots: list[datetime], timezone: str) -> list[DayChoice]:
    return [
        DayChoice(day, tuple(times)) for day, times in slots_by_local_day(slots, timezone).items()
    ]


def pick_day(days: list[DayChoice], wanted: str | None) -> DayChoice | None:
    for choice in days:
        if wanted and choice.day.isoformat() == wanted:
            return choice
    return days[0] if days else None


def signal_source(library: Library, slug: str | None) -> Article | None:
    """The article whose "hire when" lists give the form's choices: the source, or the newest."""
    article = library.article(slug) if slug else None
    if article is not None and article.hire_signals:
        return article
    return next((a for a in library.articles if a.hire_signals), None)


def signals_of(article: Article | None) -> list[Signal]:
    if article is None:
        return []
    return [
        Signal(key=f"{engagement}-{index:02d}", label=label, engagement=engagement)
        for engagement, labels in article.hire_signals.items()
        for index, label in enumerate(labels, start=1)
    ]


def signal_groups(article: Article | None) -> list[tuple[str, list[Signal]]]:
    """(heading, signals) per "hire when" list, for grouping the checkboxes."""
    signals = signals_of(article)
    if article is None:
        return []
    return [
        (
            article.hire_headings.get(engagement, engagement),
            [s for s in signals if s.engagement == engagement],
        )
        for engagement in article.hire_signals
    ]


def load_host(state) -> None:
    """content/host.md, read and checked as the app starts: a mistake stops the start."""
    app = state.app
    root = Path(app.root_path)
    card = load_host_card(root / "content" / "host.md", Path(app.static_folder))
    app.extensions["host_card"] = card
    app.add_template_global(lambda: app.extensions["host_card"], "host_card")


def register_template_helpers(bp) -> None:
    @bp.app_template_filter("in_zone")
    def in_zone(moment: datetime, timezone: str, fmt: str = "%A %-d %B %Y, %H:%M") -> str:
        return local(moment, timezone).strftime(fmt)

    bp.add_app_template_global(lambda: POPULAR_ZONES, "popular_zones")
    bp.add_app_template_global(timezone_names, "all_zones")
    bp.add_app_template_global(zone_label, "zone_label_for")  # the owner's pages: IANA names
    bp.add_app_template_global(choice_label, "visitor_zone_label")  # "Kolkata (GMT+5:30)"
    bp.add_app_template_global(display_phone, "display_phone")
    bp.record_once(load_host)
    # Read per page, so a change on /owner/availability shows on the next page load.
    bp.add_app_template_global(lambda: load_location(db.session), "call_location")


class PickerLinks:
    """The picker's links: the page's own parameters encoded once, then one string join
    per day and time (url_for per link was a third of the page's cost)."""

    def __init__(self, base: str, keep: dict, timezone: str):
        pairs = [
            (name, item)
            for name, value in keep.items()
            for item in (value if isinstance(value, list | tuple) else [value])
            if item
        ]
        self.prefix = base + "?" + urlencode([*pairs, ("timezone", timezone)]) + "&"

    def __call__(self, **params: str) -> str:
        return self.prefix + urlencode(params)

    def time(self, moment: datetime) -> str:
        return self.prefix + "slot=" + quote(slot_value(moment), safe="")
