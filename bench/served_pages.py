"""Served pages against their references: wrk on loopback, interleaved rounds, medians.

The site runs under gunicorn as production does (`--workers 2`, sync workers, production
settings, mail to the log) against a migrated temporary SQLite database with the owner's
hours open every day; the reference is Flask's hello world under the same gunicorn, and
nginx serving the article's own bytes as a static file. Every figure is `wrk -t1 -c16`
for BENCH_SECONDS (5 s) a round, ROUNDS (3) rounds, the order alternating each round; the
figure is the median over rounds of requests/s (and of p99 latency). wrk sends no cookie,
as most readers arriving from search do.

1. Article page (200) vs hello-world GET; 304 (If-None-Match: the page's ETag) vs 200;
   GET /book (the time picker) and GET /book?day=<a day with times> vs hello-world GET.
2. Article page vs nginx, both with `Connection: close` (wrk sends it; nginx also closes
   from its side, keepalive_timeout 0, as gunicorn's sync workers always do); and hello
   world vs the same nginx, which is the ceiling of that ratio for any app under this
   gunicorn: most of a closed connection's cost is gunicorn's own (accept, parse, write).
3. The same answers without a server: WSGI calls in this process, microseconds each (the
   Python a request costs, beside hello world's), where a busy machine blurs wrk's figures.
Plus the page's weight: HTML and the stylesheets it links, raw and gzip-compressed.
"""

import gzip
import io
import os
import re
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import Figure, interleaved, median, migrated_sqlite, print_figures, ratio, servers, wrk

NAME = "served_pages"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SLUG = "ai-systems-architect-vs-ai-engineer"
ARTICLE = f"/library/{SLUG}"
STATIC = Path(__file__).resolve().parents[1] / "static"
CLOSE = "Connection: close"
BENCH_SECRET = "bench-secret-key-0123456789abcdef0123456789"


def site_settings(database_url: str, **more: str) -> dict[str, str]:
    """Production settings a loopback run can meet: log mail, per-process rate limits."""
    return {
        "APP_ENV": "production", "DATABASE_URL": database_url, "SECRET_KEY": BENCH_SECRET,
        "SITE_URL": "https://bench.localhost", "MAIL_BACKEND": "log",
        "RATELIMIT_STORAGE_URI": "memory://", "OWNER_EMAIL": "owner@bench.localhost",
        "MAIL_FROM": "calls@bench.localhost", **more,
    }  # fmt: skip


def open_every_day(database_url: str, *, horizon_days: int = 30, call_minutes: int = 30,
                   hours: tuple[str, str] = ("08:00", "20:00")) -> list[datetime]:  # fmt: skip
    """Store the owner's hours (every day, no daily limit); the free slots, in UTC."""
    from bench import bench_app
    from domain.booking.availability import AvailabilityValues, load_rules, save_values
    from domain.booking.slots import available_slots
    from extensions import db

    app = bench_app(database_url)
    with app.app_context():
        save_values(db.session, AvailabilityValues(
            timezone="Europe/London", weekly_hours={str(day): [list(hours)] for day in range(7)},
            call_minutes=call_minutes, buffer_minutes=0, min_notice_minutes=24 * 60,
            horizon_days=horizon_days, daily_limit=None, dates_off=[],
        ))  # fmt: skip
        db.session.commit()
        slots = available_slots(load_rules(db.session), [], datetime.now(UTC))
        db.session.remove()
        db.engine.dispose()
    return slots


def fetch(url: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def measure(url: str, headers=(), note: str = ""):
    """A measure(round) for `interleaved`: one wrk run; bad answers are shown, not hidden."""

    def one_round(_number: int) -> wrk.WrkResult:
        result = wrk.run(url, headers=headers)
        if result.bad_status or result.socket_errors:
            print(f"  ({note or url}: {result.bad_status} non-2xx/3xx answers, "
                  f"{result.socket_errors} socket errors of {result.requests})")  # fmt: skip
        return result

    return one_round


def compared(name: str, results: dict, subject: str, reference: str, label: str) -> list[Figure]:
    """Two figures: median requests/s and median p99, each beside the reference's."""
    rps = median(r.requests_per_second for r in results[subject])
    ref_rps = median(r.requests_per_second for r in results[reference])
    p99 = median(r.p99_ms for r in results[subject])
    ref_p99 = median(r.p99_ms for r in results[reference])
    return [
        Figure(NAME, f"{name}: requests/s", rps, "req/s", label, ref_rps),
        Figure(NAME, f"{name}: p99", p99, "ms", label, ref_p99),
    ]


def linked_stylesheets(page: bytes) -> bytes:
    """The stylesheets the page itself links, read from disk in the order it links them."""
    names = re.findall(rb'<link rel="stylesheet" href="/static/([^"?]+)', page)
    return b"".join((STATIC / name.decode()).read_bytes() for name in names)


def weight(page: bytes) -> list[Figure]:
    css = linked_stylesheets(page)
    return [
        Figure(NAME, "article HTML size raw", len(page), "B"),
        Figure(NAME, "article HTML size gzip", len(gzip.compress(page, compresslevel=6)), "B"),
        Figure(NAME, "article CSS size raw", len(css), "B"),
        Figure(NAME, "article CSS size gzip", len(gzip.compress(css, compresslevel=6)), "B"),
        Figure(NAME, "article HTML + CSS raw", len(page) + len(css), "B", "budget", 30 * 1024),
    ]


def run() -> list[Figure]:
    wrk.ensure_wrk()
    with migrated_sqlite() as database_url:
        slots = open_every_day(database_url)
        day = slots[0].date().isoformat() if slots else (datetime.now(UTC) + timedelta(2)).date()
        with (
            servers.gunicorn("bench.hello_app:app", {}, ready_path="/") as hello,
            servers.gunicorn("app:app", site_settings(database_url)) as site,
        ):
            status, page, headers = fetch(site.base_url + ARTICLE)
            if status != 200:
                raise RuntimeError(f"{ARTICLE} answered {status}")
            etag = headers.get("ETag", "")
            revalidated = fetch(site.base_url + ARTICLE, {"If-None-Match": etag})[0]
            print(f"  (article: {len(page):,} bytes, ETag {etag or 'none'}; "
                  f"If-None-Match answered {revalidated}; picker day {day})")  # fmt: skip
            results = interleaved(ROUNDS, [
                ("hello", measure(hello.base_url + "/")),
                ("article", measure(site.base_url + ARTICLE)),
                ("304", measure(site.base_url + ARTICLE, [f"If-None-Match: {etag}"], "304")),
                ("book", measure(site.base_url + "/book")),
                ("book day", measure(f"{site.base_url}/book?day={day}")),
            ])  # fmt: skip
            with servers.nginx(ARTICLE, page) as static:
                closed = interleaved(ROUNDS, [
                    ("nginx", measure(static.base_url + ARTICLE, [CLOSE])),
                    ("article", measure(site.base_url + ARTICLE, [CLOSE])),
                    ("hello", measure(hello.base_url + "/", [CLOSE])),
                ])  # fmt: skip
        views = views_counted(database_url)  # the servers have stopped: every buffer flushed
    hello_get = "Flask hello-world GET"
    figures = compared("article page 200", results, "article", "hello", hello_get)
    figures += compared("article page, Connection: close", closed, "article", "nginx",
                        "nginx static file, Connection: close")  # fmt: skip
    # The ceiling of that ratio for any app under this gunicorn: its own per-connection work.
    figures += compared("Flask hello-world GET, Connection: close", closed, "hello", "nginx",
                        "nginx static file, Connection: close")  # fmt: skip
    figures += compared("article 304 (If-None-Match)", results, "304", "article",
                        "article page 200")  # fmt: skip
    figures += compared("GET /book (time picker)", results, "book", "hello", hello_get)
    figures += compared("GET /book?day= (one day's times)", results, "book day", "hello",
                        hello_get)  # fmt: skip
    # A 304 is a view too (the reader sees the page). The first fetches: one 200, one 304.
    answered = results["article"] + closed["article"] + results["304"]
    served = 2 + sum(r.requests - r.bad_status for r in answered)
    figures.append(Figure(NAME, "article views counted (+ up to 16 in flight per wrk run)",
                          views, "", "article 200s and 304s wrk counted", served))  # fmt: skip
    figures += in_process()
    figures += weight(page)
    return figures


CALLS = 2000  # WSGI calls a round, per answer measured in process


def in_process() -> list[Figure]:
    """Microseconds per WSGI call, hello world's beside the article's 200 and 304; the
    median of ROUNDS interleaved rounds. Request lines go to /dev/null, as a write."""
    from bench import bench_app
    from bench.hello_app import app as hello

    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115
    try:
        with migrated_sqlite() as database_url:
            site = bench_app(database_url, COUNTER_FLUSH_SECONDS=3600)
            page = list(site(wsgi_environ(ARTICLE), lambda *_: None))
            etag = site.test_client().get(ARTICLE).headers["ETag"]
            calls = {
                "hello": (hello, wsgi_environ("/")),
                "article": (site, wsgi_environ(ARTICLE)),
                "304": (site, wsgi_environ(ARTICLE, HTTP_IF_NONE_MATCH=etag)),
            }
            contenders = [(name, timed(*call)) for name, call in calls.items()]
            results = interleaved(ROUNDS * 3, contenders)
            with site.app_context():
                site.extensions["counters"].flush()
    finally:
        sys.stderr.close()
        sys.stderr = stderr
    if not page:
        raise RuntimeError("the article gave no body")
    label = "article page 200, in process"
    return [
        Figure(NAME, "article page 200, in process: per call", median(results["article"]),
               "us", "Flask hello-world GET, in process", median(results["hello"])),
        Figure(NAME, "article 304, in process: per call", median(results["304"]), "us",
               label, median(results["article"])),
    ]  # fmt: skip


def wsgi_environ(path: str, **headers: str) -> dict:
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1:8000",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(), **headers,
    }  # fmt: skip


def timed(app, environ: dict):
    """A measure(round) for `interleaved`: microseconds per call over CALLS calls."""

    def one_round(_number: int) -> float:
        started = time.perf_counter()
        for _ in range(CALLS):
            body = app(dict(environ), lambda *_: None)
            for _chunk in body:
                pass
            if hasattr(body, "close"):
                body.close()
        return (time.perf_counter() - started) / CALLS * 1e6

    return one_round


def views_counted(database_url: str) -> int:
    from sqlalchemy import func, select

    from bench import bench_app
    from extensions import db
    from models import ArticleDailyStat

    app = bench_app(database_url)
    with app.app_context():
        views = db.session.scalar(
            select(func.coalesce(func.sum(ArticleDailyStat.views), 0)).where(
                ArticleDailyStat.slug == SLUG
            )
        )
        db.session.remove()
        db.engine.dispose()
    return int(views)


__all__ = ["run", "ratio"]

if __name__ == "__main__":
    print_figures(run())
