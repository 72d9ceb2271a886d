"""Benchmarks that print figures and ratios; never part of `make test`, nothing asserted.

`python -m bench` runs every benchmark and ends with one table; `python -m bench.slots`
(or `.article_page`, `.booking_post`) runs one. Each benchmark builds its own SQLite
database in a temporary folder with the Alembic migrations, and stops any server it starts.
Shared here: that database, the app settings, and the statistics.
"""

import logging
import math
import os
import statistics
import tempfile
from collections.abc import Iterable, Iterator
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

    def shown(self) -> str:
        if self.unit == "x":
            return f"{self.value:.2f}x"
        if self.unit in ("B", "req/s", "%", ""):
            return f"{self.value:,.0f} {self.unit}".rstrip()
        return f"{self.value:.2f} {self.unit}"


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
        print(f"  {figure.name:<58} {figure.shown():>16}")


def table(figures: list[Figure]) -> str:
    width = max(len(f.name) for f in figures)
    lines = [f"{'benchmark':<14} {'figure':<{width}} {'value':>16}", "-" * (width + 32)]
    lines += [f"{f.benchmark:<14} {f.name:<{width}} {f.shown():>16}" for f in figures]
    return "\n".join(lines)
