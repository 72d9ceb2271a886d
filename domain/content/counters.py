"""Cheap per-article, per-day counters (views, call-to-action clicks).

A day is the owner's calendar day (the availability zone), so the dashboard's funnel counts
the days the owner lives in. The buffer keeps quarter hours of UTC (every zone's offset is
a whole number of quarter hours) and `by_local_day` turns them into the owner's days when
they are written, with the zone read once per flush rather than once per view.

The article page is the hottest path of the site, so a view only bumps an in-memory
tally; the tally is written with one upsert per (article, day) at most every
`flush_seconds`. A crashed worker loses at most those few seconds of anonymous counts,
which is the price of never writing to the database per view.
"""

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from models import ArticleDailyStat, AvailabilitySettings

CounterKey = tuple[str, date, str]  # (slug, owner-local day, one of COUNTER_COLUMNS)
PendingKey = tuple[str, datetime, str]  # (slug, UTC quarter hour, column)
COUNTER_COLUMNS = ("views", "cta_clicks", "bookings", "won")
DEFAULT_ZONE = "Europe/London"  # the availability settings' default, before any are saved
CRAWLER_PATTERN = re.compile(r"bot|crawl|spider|slurp|preview|monitor", re.IGNORECASE)


def is_crawler(user_agent: str | None) -> bool:
    """A crawler's visit is no reader's view, so it is not counted."""
    return bool(CRAWLER_PATTERN.search(user_agent or ""))


def local_day(moment: datetime, timezone: str) -> date:
    """The owner's calendar day at `moment`: the day a count belongs to."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def counting_zone(connection: Connection) -> str:
    """The owner's zone, read with the connection that writes the counts."""
    zone = connection.scalar(
        select(AvailabilitySettings.timezone).where(AvailabilitySettings.id == 1)
    )
    return zone or DEFAULT_ZONE


def by_local_day(pending: Counter[PendingKey], timezone: str) -> Counter[CounterKey]:
    days: Counter[CounterKey] = Counter()
    for (slug, moment, column), amount in pending.items():
        days[(slug, local_day(moment, timezone), column)] += amount
    return days


def quarter_hour(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def upsert_counts(connection: Connection, counts: Counter[CounterKey]) -> None:
    """Add the tallies to the table in one statement per row, creating rows as needed."""
    rows: dict[tuple[str, date], dict[str, int]] = {}
    for (slug, day, column), amount in counts.items():
        row = rows.setdefault(
            (slug, day), {"slug": slug, "day": day, **dict.fromkeys(COUNTER_COLUMNS, 0)}
        )
        row[column] += amount
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ArticleDailyStat)
    table = ArticleDailyStat.__table__
    statement = statement.on_conflict_do_update(
        index_elements=["slug", "day"],
        set_={name: table.c[name] + statement.excluded[name] for name in COUNTER_COLUMNS},
    )
    connection.execute(statement, list(rows.values()))


class CounterBuffer:
    """A thread-safe tally, flushed through `write` when it is old enough."""

    def __init__(self, write: Callable[[Counter[PendingKey]], None], flush_seconds: float):
        self.write = write
        self.flush_seconds = flush_seconds
        self.lock = threading.Lock()
        self.pending: Counter[PendingKey] = Counter()
        self.last_flush = time.monotonic()

    def add(self, slug: str, column: str, now: datetime | None = None) -> None:
        if column not in COUNTER_COLUMNS:
            raise ValueError(f"unknown counter {column!r}")
        when = quarter_hour(now or datetime.now(UTC))
        with self.lock:
            self.pending[(slug, when, column)] += 1

    def is_due(self) -> bool:
        return time.monotonic() - self.last_flush >= self.flush_seconds

    def flush_if_due(self) -> None:
        if self.is_due():
            self.flush()

    def flush(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, Counter()
            self.last_flush = time.monotonic()
        if not batch:
            return
        try:
            self.write(batch)
        except Exception:
            # Keep the counts for the next flush rather than dropping them.
            with self.lock:
                self.pending.update(batch)
            raise
