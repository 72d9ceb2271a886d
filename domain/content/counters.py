"""Cheap per-article, per-day counters (views, call-to-action clicks).

A day is the owner's calendar day (the availability zone), so the dashboard's funnel counts
the days the owner lives in. The buffer keeps quarter hours of UTC (every zone's offset is
a whole number of quarter hours) and `by_local_day` turns them into the owner's days when
they are written, with the zone read once per flush rather than once per view.

The article page is the hottest path of the site, so a view only bumps an in-memory
tally; the tally is written with one upsert per (article, day) at most every
`flush_seconds`. Under gunicorn a thread of each worker writes it on that timer (off the
readers' path) and the worker's exit writes what is left (deploy/gunicorn.conf.py), so a
stopped worker loses no count; only a killed one (SIGKILL, a crash) loses at most those
few seconds of anonymous counts, the price of never writing to the database per view.
"""

import logging
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
QUARTER_HOUR_SECONDS = 15 * 60
LOG = logging.getLogger(__name__)


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
    statement = _UPSERTS[connection.dialect.name == "postgresql"]
    values = list(rows.values())
    # One row (a booking's count) as one execute, not an executemany of one.
    connection.execute(statement, values[0] if len(values) == 1 else values)


def _upsert(dialect):
    statement = dialect.insert(ArticleDailyStat)
    table = ArticleDailyStat.__table__
    return statement.on_conflict_do_update(
        index_elements=["slug", "day"],
        set_={name: table.c[name] + statement.excluded[name] for name in COUNTER_COLUMNS},
    )


# Built once per dialect (every booking runs one): their cache keys are worked out once.
_UPSERTS = {False: _upsert(sqlite), True: _upsert(postgresql)}


class CounterBuffer:
    """A thread-safe tally, flushed through `write` when it is old enough, or by a timer."""

    def __init__(self, write: Callable[[Counter[PendingKey]], None], flush_seconds: float):
        self.write = write
        self.flush_seconds = flush_seconds
        self.lock = threading.Lock()
        self.pending: Counter[PendingKey] = Counter()
        self.last_flush = time.monotonic()
        # The current quarter hour, made once per quarter hour rather than once per view.
        self.quarter: tuple[int, datetime] = (-1, datetime.min.replace(tzinfo=UTC))
        self.timer: threading.Thread | None = None
        self.stopping = threading.Event()

    def add(self, slug: str, column: str, now: datetime | None = None) -> None:
        if column not in COUNTER_COLUMNS:
            raise ValueError(f"unknown counter {column!r}")
        when = quarter_hour(now) if now is not None else self.current_quarter_hour()
        with self.lock:
            self.pending[(slug, when, column)] += 1

    def current_quarter_hour(self) -> datetime:
        number = int(time.time() // QUARTER_HOUR_SECONDS)
        kept, moment = self.quarter
        if kept != number:
            moment = datetime.fromtimestamp(number * QUARTER_HOUR_SECONDS, UTC)
            self.quarter = (number, moment)
        return moment

    def is_due(self) -> bool:
        # With the timer running, a request never waits on a write.
        if self.timer is not None:
            return False
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

    def start_timer(self) -> None:
        """Flush every `flush_seconds` from a thread of this process (a gunicorn worker's
        post_worker_init: a thread made before the fork would not run in the worker)."""
        self.stopping.clear()
        self.timer = threading.Thread(target=self.flush_on_timer, name="counters", daemon=True)
        self.timer.start()

    def flush_on_timer(self) -> None:
        while not self.stopping.wait(max(self.flush_seconds, 0.05)):
            try:
                self.flush()
            except Exception:  # kept in the buffer; the next tick tries again
                LOG.exception("could not write article counters; kept for the next flush")

    def stop(self, attempts: int = 3) -> None:
        """Stop the timer, wait for a write it has in hand, then write what is left.

        A daemon thread is frozen mid-write when the interpreter exits, so the timer must
        finish before the last flush. A failed last write is tried again (a database
        briefly locked by the other worker's own last write)."""
        timer, self.timer = self.timer, None
        if timer is not None:
            self.stopping.set()
            timer.join(timeout=10)
        for attempt in range(attempts):
            try:
                self.flush()
                return
            except Exception:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.2)
