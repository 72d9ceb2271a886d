"""Benchmarks that print figures and ratios; never part of `make test`, nothing asserted.

`python -m bench` runs every benchmark and ends with one table; `python -m bench.slots`
(or `.served_pages`, `.booking_post`, `.owner_leads`...) runs one. Each benchmark builds its
own database (SQLite in a temporary folder, or a PostgreSQL database of its own) with the
Alembic migrations, and stops any server it starts. Shared here: that database, the app
settings, the figures with their references, and the statistics (medians over interleaved
rounds, ratios). See bench/README.md for how to read them.
"""

import logging
import math
import os
import statistics
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Production settings demand a real secret and Secure cookies (which plain-HTTP clients
# drop); development settings with DEBUG off render exactly as production does.
os.environ["APP_ENV"] = "development"
for _name in ("DATABASE_URL", "REDIS_URL", "SMTP_HOST"):
    os.environ.pop(_name, None)

SECRET_KEY = "bench-secret-key-0123456789abcdef0123"


@dataclass(frozen=True)
class Figure:
    benchmark: str
    name: str
    value: float
    unit: str
    # What the figure is measured against, in the same run and under the same settings,
    # and that reference's value in the same unit; the ratio is value / reference_value.
    reference: str = ""
    reference_value: float | None = None

    def shown(self) -> str:
        return shown(self.value, self.unit)

    @property
    def ratio(self) -> float | None:
        if self.reference_value is None:
            return None
        return ratio(self.value, self.reference_value)

    def compared(self) -> str:
        """'vs <reference> <value>: <ratio>x', or nothing for a figure without a reference."""
        if self.reference_value is None:
            return ""
        shown_ratio = f"{self.ratio:.3f}x" if self.ratio == self.ratio else "n/a"
        return f"vs {self.reference} {shown(self.reference_value, self.unit)}: {shown_ratio}"


def shown(value: float, unit: str) -> str:
    if value != value:  # NaN: nothing measured
        return f"n/a {unit}".rstrip()
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("B", "req/s", "%", ""):
        return f"{value:,.0f} {unit}".rstrip()
    return f"{value:.2f} {unit}"


def ratio(subject: float, reference: float) -> float:
    """subject / reference; NaN when the reference is zero or either is unknown."""
    if not reference or reference != reference or subject != subject:
        return float("nan")
    return subject / reference


def median(values: Iterable[float]) -> float:
    """The median of what was measured, NaN for nothing measured."""
    values = [value for value in values if value == value]
    return statistics.median(values) if values else float("nan")


def interleaved(rounds: int, contenders: Sequence[tuple[str, Callable[[int], object]]]
                ) -> dict[str, list]:  # fmt: skip
    """Run every contender once per round, alternating the order (A B, then B A ...), so a
    change in the machine's load during the run falls on subject and reference alike.
    `contenders` are (name, measure(round_number)); returns name -> one result per round."""
    results: dict[str, list] = {name: [] for name, _ in contenders}
    for number in range(rounds):
        order = contenders if number % 2 == 0 else list(reversed(contenders))
        for name, measure in order:
            results[name].append(measure(number))
    return results


def percentile(samples: Iterable[float], share: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least `share` of them at or below."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def median_p95(samples: Iterable[float]) -> tuple[float, float]:
    samples = list(samples)
    return statistics.median(samples), percentile(samples, 0.95)


def app_settings(database_url: str, **overrides) -> dict:
    return {
        "DATABASE_URL": database_url,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": SECRET_KEY,
        "DEBUG": False,
        "TEMPLATES_AUTO_RELOAD": False,
        **overrides,
    }


def bench_app(database_url: str, **overrides):
    from app import create_app  # after APP_ENV is set: importing `app` builds one app

    return create_app(app_settings(database_url, **overrides))


@contextmanager
def migrated_sqlite() -> Iterator[str]:
    """A SQLite file at the newest migration in a temporary folder; yields its URL."""
    from flask_migrate import upgrade

    from extensions import db

    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = bench_app(url)
        logging.disable(logging.INFO)  # Alembic's per-revision INFO lines
        try:
            with app.app_context():
                upgrade()
                db.engine.dispose()
        finally:
            logging.disable(logging.NOTSET)
        yield url


def print_figures(figures: list[Figure]) -> None:
    for figure in figures:
        print(f"  {figure.name:<58} {figure.shown():>14}  {figure.compared()}".rstrip())


def table(figures: list[Figure]) -> str:
    width = max(len(f.name) for f in figures)
    lines = [f"{'benchmark':<14} {'figure':<{width}} {'value':>14}  reference: ratio"]
    lines.append("-" * (width + 60))
    lines += [
        f"{f.benchmark:<14} {f.name:<{width}} {f.shown():>14}  {f.compared()}".rstrip()
        for f in figures
    ]
    return "\n".join(lines)


def migrate(url: str) -> None:
    from flask_migrate import upgrade

    from extensions import db

    app = bench_app(url)
    logging.disable(logging.INFO)  # Alembic's per-revision INFO lines
    try:
        with app.app_context():
            upgrade()
            db.engine.dispose()
    finally:
        logging.disable(logging.NOTSET)


@contextmanager
def migrated_postgres(label: str = "bench") -> Iterator[str | None]:
    """A PostgreSQL database of this run's own (`<label>_<pid>`) at the newest migration,
    on the test server (TEST_DATABASE_URL's, or 127.0.0.1:5432); dropped at the end.
    Yields None when no server answers, so the SQLite figures still stand."""
    from tests.stack.harness import create_database, database_url_named, drop_database

    url = database_url_named(f"{label}_{os.getpid()}")
    try:
        drop_database(url)
        create_database(url)
    except Exception as error:  # no server here
        print(f"  (PostgreSQL not reachable, its figures skipped: {type(error).__name__})")
        yield None
        return
    try:
        migrate(url)
        yield url
    finally:
        drop_database(url)


def on_each_database(measure: Callable[[str, str], object], label: str) -> list:
    """`measure("SQLite", url)`, then `measure("PostgreSQL", url)` when a server answers,
    each on a database of this run's own; what each returned, in that order."""
    with migrated_sqlite() as sqlite_url:
        results = [measure("SQLite", sqlite_url)]
    with migrated_postgres(label) as postgres_url:
        if postgres_url:
            results.append(measure("PostgreSQL", postgres_url))
    return results
