"""Cheap per-article, per-day counters (views, call-to-action clicks).

The article page is the hottest path of the site, so a view only bumps an in-memory
tally; the tally is written with one upsert per (article, day) at most every
`flush_seconds`. A crashed worker loses at most those few seconds of anonymous counts,
which is the price of never writing to the database per view.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from models import ArticleDailyStat

CounterKey = tuple[str, date, str]  # (slug, UTC day, one of COUNTER_COLUMNS)
COUNTER_COLUMNS = ("views", "cta_clicks", "bookings", "won")


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

    def __init__(self, write: Callable[[Counter[CounterKey]], None], flush_seconds: float):
        self.write = write
        self.flush_seconds = flush_seconds
        self.lock = threading.Lock()
        self.pending: Counter[CounterKey] = Counter()
        self.last_flush = time.monotonic()

    def add(self, slug: str, column: str, now: datetime | None = None) -> None:
        if column not in COUNTER_COLUMNS:
            raise ValueError(f"unknown counter {column!r}")
        day = (now or datetime.now(UTC)).date()
        with self.lock:
            self.pending[(slug, day, column)] += 1

    def flush_if_due(self) -> None:
        if time.monotonic() - self.last_flush >= self.flush_seconds:
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
