"""Each article's funnel over a period: views, call-to-action clicks, bookings, won.

The numbers are sums of the anonymous ArticleDailyStat rows, whose days are the owner's
calendar days (domain/content/counters.py counts each view, click, booking and win on the
day it was in the owner's zone), so a period and its "today" are owner-local days too.
Every article of the library gets a row even without counts, and a slug that has counts
but is no longer in the library keeps its row, labelled by its slug. Rates are None when
there is nothing to divide by, never a ZeroDivisionError.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.content.library import Library
from models import ArticleDailyStat

PRESET_DAYS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
PERIOD_CHOICES = (
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("365d", "Last 12 months"),
    ("custom", "Custom dates"),
)
DEFAULT_PERIOD = "30d"
MAX_CUSTOM_DAYS = 3 * 366  # a longer span is a typo, and would make a huge sparkline
TOTALS_TITLE = "All articles"


@dataclass(frozen=True)
class ArticleFunnel:
    slug: str
    title: str
    views: int = 0
    cta_clicks: int = 0
    bookings: int = 0
    won: int = 0
    in_library: bool = True

    @property
    def click_rate(self) -> float | None:
        return ratio(self.cta_clicks, self.views)

    @property
    def conversion_rate(self) -> float | None:
        return ratio(self.bookings, self.views)


@dataclass(frozen=True)
class DayTotals:
    day: date
    views: int = 0
    bookings: int = 0


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def format_rate(rate: float | None) -> str:
    """0.1234 -> '12.3%'; None -> '—' (nothing to divide by)."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def funnel(
    session: Session, start_day: date, end_day: date, library: Library
) -> list[ArticleFunnel]:
    """One row per article, most bookings first (then most views, then title)."""
    sums = summed_counts(session, start_day, end_day)
    rows = [
        ArticleFunnel(a.slug, a.title, *sums.pop(a.slug, (0, 0, 0, 0))) for a in library.articles
    ]
    rows += [ArticleFunnel(slug, slug, *counts, in_library=False) for slug, counts in sums.items()]
    return sorted(rows, key=lambda row: (-row.bookings, -row.views, row.title.lower(), row.slug))


def summed_counts(session: Session, start_day: date, end_day: date) -> dict[str, tuple]:
    stat = ArticleDailyStat
    query = (
        select(
            stat.slug,
            func.sum(stat.views),
            func.sum(stat.cta_clicks),
            func.sum(stat.bookings),
            func.sum(stat.won),
        )
        .where(stat.day >= start_day, stat.day <= end_day)
        .group_by(stat.slug)
    )
    return {slug: tuple(int(n or 0) for n in counts) for slug, *counts in session.execute(query)}


def totals(rows: list[ArticleFunnel]) -> ArticleFunnel:
    return ArticleFunnel(
        slug="",
        title=TOTALS_TITLE,
        views=sum(row.views for row in rows),
        cta_clicks=sum(row.cta_clicks for row in rows),
        bookings=sum(row.bookings for row in rows),
        won=sum(row.won for row in rows),
    )


def daily_totals(session: Session, start_day: date, end_day: date) -> list[DayTotals]:
    """Views and bookings of all articles per day of the period, days without counts as 0."""
    stat = ArticleDailyStat
    query = (
        select(stat.day, func.sum(stat.views), func.sum(stat.bookings))
        .where(stat.day >= start_day, stat.day <= end_day)
        .group_by(stat.day)
    )
    found = {
        day: (int(views or 0), int(bookings or 0))
        for day, views, bookings in session.execute(query)
    }
    days = (start_day + timedelta(days=n) for n in range((end_day - start_day).days + 1))
    return [DayTotals(day, *found.get(day, (0, 0))) for day in days]


def period_from_query(args: Mapping[str, str], today: date) -> tuple[date, date, str]:
    """(first day, last day, label) from ?period=7d|30d|90d|365d|custom&from=&to=.

    Anything unreadable falls back to the last 30 days; reversed custom dates are swapped.
    """
    _key, start, end, label = resolve_period(args, today)
    return start, end, label


def period_key(args: Mapping[str, str], today: date) -> str:
    """The period actually shown, after any fallback: for marking the selector."""
    return resolve_period(args, today)[0]


def resolve_period(args: Mapping[str, str], today: date) -> tuple[str, date, date, str]:
    key = args.get("period") or DEFAULT_PERIOD
    if key == "custom":
        custom = custom_range(args.get("from"), args.get("to"))
        if custom is not None:
            start, end = custom
            return "custom", start, end, f"{start:%-d %b %Y} – {end:%-d %b %Y}"
    if key not in PRESET_DAYS:
        key = DEFAULT_PERIOD
    start = today - timedelta(days=PRESET_DAYS[key] - 1)
    return key, start, today, dict(PERIOD_CHOICES)[key]


def custom_range(first: str | None, last: str | None) -> tuple[date, date] | None:
    try:
        start, end = (
            date.fromisoformat((first or "").strip()),
            date.fromisoformat((last or "").strip()),
        )
    except ValueError:
        return None
    start, end = min(start, end), max(start, end)
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        return None
    return start, end
