"""The owner's lead list and CSV export at scale: 1,000,000 leads on PostgreSQL and
100,000 on SQLite (BENCH_LEADS_PG, BENCH_LEADS_SQLITE to change them).

For each database (SQLite in a temporary folder; PostgreSQL in a database of its own,
`bench_leads_<pid>`, dropped at the end, skipped when no server answers):
- the fill itself: `flask owner fake-leads N` run as the developer would, timed (the
  issue's target is under 60 s for 1,000,000);
- server time of each lead-list view, the median of RUNS sequential requests through the
  Flask test client (no network, no client: the app's own time, query, count, template
  and the "last seen" write each opening of the list makes): page 1, page 200, each sort,
  a filter, and search by a fragment of a name, an email and a company. Target: < 50 ms;
- the full CSV export, consumed chunk by chunk as a client would: wall time, and the
  growth of this (serving) process's peak resident set, read from /proc/self/status
  (VmHWM) after resetting it through /proc/self/clear_refs. Targets: < 20 s and < 50 MB
  at 1,000,000.
These are server times without a reference: the issue's targets are absolute.
"""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import (
    SECRET_KEY,
    Figure,
    bench_app,
    median,
    on_each_database,
    print_figures,
)

NAME = "owner_leads"
LEADS = {
    "SQLite": int(os.environ.get("BENCH_LEADS_SQLITE", "100000")),
    "PostgreSQL": int(os.environ.get("BENCH_LEADS_PG", "1000000")),
}
RUNS = int(os.environ.get("BENCH_LEAD_RUNS", "5"))
SEED = 2026
PROJECT_ROOT = Path(__file__).resolve().parents[1]
OWNER = ("bench-owner@example.test", "a long bench password")
PAGES = (
    ("page 1, newest first", "/owner/leads"),
    ("page 200, newest first", "/owner/leads?page=200"),
    ("sort by fit, page 1", "/owner/leads?sort=score"),
    ("sort by fit, page 200", "/owner/leads?sort=score&page=200"),
    ("sort by next call, page 1", "/owner/leads?sort=next_call"),
    ("sort by next call, page 200", "/owner/leads?sort=next_call&page=200"),
    ("filter status new, newest", "/owner/leads?status=new"),
    ("filter status new, page 200", "/owner/leads?status=new&page=200"),
    ("filter status new, sort by fit", "/owner/leads?status=new&sort=score"),
    (
        "filter status won+lost, sort by next call",
        "/owner/leads?status=won&status=lost&sort=next_call",
    ),
    ("filter article, newest", "/owner/leads?article={slug}"),
    ("filter status + article, sort by fit", "/owner/leads?status=new&article={slug}&sort=score"),
    ("filter engagement engineer, sort by fit", "/owner/leads?engagement=engineer&sort=score"),
    ("filter last 30 days, sort by fit", "/owner/leads?from={month_ago}&sort=score"),
    ("search 1 char 'k'", "/owner/leads?q=k"),
    ("search 2 chars 'zo'", "/owner/leads?q=zo"),
    ("search 2 chars, no match 'qx'", "/owner/leads?q=qx"),
    ("search 3 chars 'kes'", "/owner/leads?q=kes"),
    ("search 3 chars, no match 'qxz'", "/owner/leads?q=qxz"),
    ("search name fragment 'ovelac'", "/owner/leads?q=ovelac"),
    ("search email fragment 'hopper.12'", "/owner/leads?q=hopper.12"),
    ("search company fragment 'arbour'", "/owner/leads?q=arbour"),
    # A search's page numbers stop at SEARCH_MAX_PAGE (5): asking for 200 shows page 5.
    ("search 'arbour', sort by fit, page 200 asked", "/owner/leads?q=arbour&sort=score&page=200"),
)
# Deep pages through Next: the page after each of these, by the link the page offers.
PRINT_AS_MEASURED = False  # set by main()
FOLLOWED = (
    ("page 201 by Next, newest first", "/owner/leads?page=200"),
    ("page 201 by Next, sort by fit", "/owner/leads?sort=score&page=200"),
    ("page 201 by Next, sort by next call", "/owner/leads?sort=next_call&page=200"),
    ("page 6 by Next (past a search's numbers), search 'arbour'", "/owner/leads?q=arbour&page=5"),
    ("page 6 by Next, search 'arbour', sort by fit", "/owner/leads?q=arbour&sort=score&page=5"),
)


def median_ms(action, runs: int = RUNS) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return median(samples)


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


def fetch(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def next_link(html: str) -> str | None:
    import re
    from html import unescape

    found = re.search(r'<a rel="next" href="([^"]+)"', html)
    return unescape(found.group(1)) if found else None


def shown(figure: Figure) -> Figure:
    """Run alone, print a figure as soon as it is measured: a cut-off run (a million leads
    take minutes) still leaves its figures. Under `make bench` the caller prints them."""
    if PRINT_AS_MEASURED:
        print_figures([figure])
        sys.stdout.flush()
    return figure


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
    """This process's peak resident set (VmHWM), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak_rss() -> bool:
    """Start the peak-RSS count again from the current size (Linux 4.0+), so the growth
    across one export is not hidden by the peak that loading the app left behind."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def quiet_request_log() -> None:
    """Each request's JSON line still gets formatted and written (its cost is part of the
    server time), to /dev/null rather than among the figures."""
    import logging

    request_log = logging.getLogger("app.requests")
    for handler in list(request_log.handlers):
        if isinstance(handler, logging.StreamHandler):
            quiet = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 (lives as long as the run)
            quiet.setFormatter(handler.formatter)
            quiet.filters = list(handler.filters)
            request_log.removeHandler(handler)
            request_log.addHandler(quiet)


def fill(url: str, count: int) -> float:
    """`flask owner fake-leads COUNT` against `url`; its wall time in seconds."""
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url,
           "SECRET_KEY": SECRET_KEY}  # fmt: skip
    command = [str(Path(sys.executable).parent / "flask"), "--app", "app", "owner",
               "fake-leads", str(count), "--seed", str(SEED)]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(label: str, url: str) -> list[Figure]:
    from extensions import db

    count = LEADS[label]
    seconds = fill(url, count)
    figures = [shown(Figure(NAME, f"{label}: flask owner fake-leads {count:,}", seconds, "s"))]
    app = bench_app(url, WTF_CSRF_ENABLED=False)
    quiet_request_log()
    slugs = [article.slug for article in app.extensions["library"].articles]
    client = logged_in_client(app)
    # The export first: its RSS growth is then measured from the app's size after one
    # login, not hidden below a peak some list page left behind.
    exact = reset_peak_rss()
    rss_before = peak_rss_bytes()
    started = time.perf_counter()
    lines, size = export(client)
    export_seconds = time.perf_counter() - started
    rss_growth = peak_rss_bytes() - rss_before
    if lines != count + 1:
        print(f"  (CSV had {lines:,} lines for {count:,} leads)")
    figures += [
        shown(Figure(NAME, f"{label}: CSV export of {count:,} leads", export_seconds, "s")),
        shown(Figure(NAME, f"{label}: CSV size", size / 1e6, "MB")),
        shown(Figure(NAME, f"{label}: CSV export, peak RSS growth{'' if exact else ' (at most)'}",
              rss_growth / 1e6, "MB")),
    ]  # fmt: skip
    month_ago = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    for name, path in PAGES:
        path = path.format(slug=slugs[0] if slugs else "", month_ago=month_ago)
        fetch(client, path)  # warm: first use of this query's plan and template
        took = median_ms(lambda path=path: fetch(client, path))
        figures.append(shown(Figure(NAME, f"{label} {count:,}: list, {name}", took, "ms")))
    for name, path in FOLLOWED:
        after = next_link(fetch(client, path))
        if after is None:
            print(f"  ({name}: the page offers no Next link)")
            continue
        fetch(client, after)
        took = median_ms(lambda after=after: fetch(client, after))
        figures.append(shown(Figure(NAME, f"{label} {count:,}: list, {name}", took, "ms")))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return figures


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run() -> list[Figure]:
    return [figure for found in on_each_database(measure, "bench_leads") for figure in found]


def main() -> None:
    global PRINT_AS_MEASURED
    PRINT_AS_MEASURED = True
    print(f"== {NAME} ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})")
    run()


if __name__ == "__main__":
    main()
