"""The owner's lead list and CSV export at 100,000 leads, on SQLite and on PostgreSQL.

For each database: 100,000 synthetic leads (`insert_fake_leads`, seeded), the owner logged
in through the Flask test client, then
- list pages, each the median of RUNS whole requests (query, count, template, and the
  "last seen" update every opening of the list makes): page 1 newest first, a search,
  a filter sorted by fit, the deepest allowed page newest first and by next call;
- the full CSV export, consumed chunk by chunk as a client would, the median of
  EXPORT_RUNS: seconds and rows per second;
- the export's memory: the peak of Python allocations (`tracemalloc`) while the streamed
  response is consumed, and the growth of the process's peak resident set
  (`getrusage`, its peak reset first where Linux allows) across one export, next to
  the size of the CSV itself.
PostgreSQL runs in a schema of its own (`bench_leads`, dropped at the end) on the server
named by BENCH_POSTGRES_URL (default: the test server), and is skipped if unreachable.
"""

import logging
import os
import resource
import statistics
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from bench import Figure, bench_app, migrated_sqlite, print_figures

NAME = "owner_leads"
LEADS = 100_000
RUNS = 15
EXPORT_RUNS = 3
SEED = 2026
SCHEMA = "bench_leads"
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
OWNER = ("bench-owner@example.test", "a long bench password")
PAGES = (
    ("page 1, newest first", "/owner/leads"),
    ("search 'lovelace'", "/owner/leads?q=lovelace"),
    ("status new + article, best fit first", "/owner/leads?status=new&article={slug}&sort=score"),
    ("last allowed page (200), newest first", "/owner/leads?page=200"),
    ("last allowed page (200), next call first", "/owner/leads?sort=next_call&page=200"),
)


def median_ms(action, runs: int = RUNS) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def logged_in_client(app):
    from domain.accounts.owners import create_or_reset_owner
    from extensions import db

    with app.app_context():
        create_or_reset_owner(db.session, *OWNER)
        db.session.commit()
    client = app.test_client()
    response = client.post("/owner/login", data={"email": OWNER[0], "password": OWNER[1]})
    assert response.status_code == 303, "bench owner could not log in"
    return client


def fetch(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)


def export(client) -> tuple[int, int]:
    """Consume the streamed CSV as a client would, keeping nothing; (lines, bytes)."""
    response = client.get("/owner/leads.csv", buffered=False)
    assert response.is_streamed
    lines = size = 0
    for chunk in response.response:
        lines += chunk.count(b"\n")
        size += len(chunk)
    response.close()
    return lines, size


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes


def reset_peak_rss() -> bool:
    """Start the peak-RSS count again from the current size (Linux 4.0+), so the growth
    across one export is not hidden by the peak that inserting the leads left behind."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def measure(label: str, url: str) -> list[Figure]:
    from blueprints.owner.fake_leads import insert_fake_leads
    from extensions import db

    app = bench_app(url, WTF_CSRF_ENABLED=False)
    slugs = [article.slug for article in app.extensions["library"].articles]
    with app.app_context():
        started = time.perf_counter()
        insert_fake_leads(db.session, LEADS, seed=SEED, now=datetime.now(UTC), article_slugs=slugs)
        inserted = time.perf_counter() - started
        db.session.remove()
    client = logged_in_client(app)
    figures = [Figure(NAME, f"{label}: insert {LEADS:,} fake leads", inserted, "s")]

    exact = reset_peak_rss()
    rss_before = peak_rss_bytes()
    lines, size = export(client)
    rss_growth = peak_rss_bytes() - rss_before
    assert lines == LEADS + 1, lines
    tracemalloc.start()
    export(client)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    seconds = statistics.median(timed(lambda: export(client)) for _ in range(EXPORT_RUNS))

    for name, path in PAGES:
        path = path.format(slug=slugs[0] if slugs else "")
        fetch(client, path)  # warm: first use of this query's plan and template
        took = median_ms(lambda path=path: fetch(client, path))
        figures.append(Figure(NAME, f"{label}: list, {name}", took, "ms"))
    figures += [
        Figure(NAME, f"{label}: CSV export, {LEADS:,} rows", seconds, "s"),
        Figure(NAME, f"{label}: CSV export, rows per second", LEADS / seconds, ""),
        Figure(NAME, f"{label}: CSV size", size / 1e6, "MB"),
        Figure(NAME, f"{label}: CSV export, peak Python allocations", traced_peak / 1e6, "MB"),
        Figure(
            NAME,
            f"{label}: CSV export, peak RSS growth{'' if exact else ' (at least)'}",
            rss_growth / 1e6,
            "MB",
        ),  # fmt: skip
    ]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return figures


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@contextmanager
def postgres_schema() -> Iterator[str | None]:
    """A migrated schema of its own on the PostgreSQL server, dropped after; None if down."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from extensions import db

    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    except Exception as error:  # no server: the SQLite figures still stand
        print(f"  (PostgreSQL not reachable, skipped: {type(error).__name__})")
        engine.dispose()
        yield None
        return
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{SCHEMA}"
    try:
        app = bench_app(url)
        logging.disable(logging.INFO)  # Alembic's per-revision INFO lines
        with app.app_context():
            upgrade()
            db.engine.dispose()
        logging.disable(logging.NOTSET)
        yield url
    finally:
        logging.disable(logging.NOTSET)
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        engine.dispose()


def run() -> list[Figure]:
    figures: list[Figure] = []
    with migrated_sqlite() as url:
        figures += measure("SQLite", url)
    with postgres_schema() as url:
        if url:
            figures += measure("PostgreSQL", url)
    return figures


def main() -> None:
    print(f"== {NAME}: {LEADS:,} leads ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    print_figures(run())


if __name__ == "__main__":
    main()
