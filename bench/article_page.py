"""The article page: render time, 304 revalidation, page and stylesheet weight, served load.

1. Flask test client, in this process: 500 GETs of /library/<seed article> rendered from
   the in-memory content library (median, p95), then 500 conditional GETs carrying the
   page's ETag (the 304 path). Page views are counted in memory and flushed at most every
   COUNTER_FLUSH_SECONDS (5 s, the default), as in production.
2. Weight: the HTML and static/css/site.css, raw and gzip-compressed (level 6, what a
   typical proxy uses; the app itself does not compress).
3. Real gunicorn (`--workers 2`, sync workers) on loopback against a migrated temporary
   SQLite database: 8 Python threads × 250 GETs, a new connection each (sync workers close
   it anyway). Requests/s is over the whole run; latency is per request as the client saw
   it. The load generator shares the machine's CPUs with the server, so requests/s is a
   floor, not a ceiling.
"""

import gzip
import http.client
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from bench import SECRET_KEY, Figure, bench_app, median_p95, migrated_sqlite, print_figures
from extensions import db
from tests.live_server import running_gunicorn

NAME = "article_page"
SLUG = "ai-systems-architect-vs-ai-engineer"
PATH = f"/library/{SLUG}"
STYLESHEET = Path(__file__).resolve().parents[1] / "static" / "css" / "site.css"
REQUESTS = 500
THREADS, PER_THREAD = 8, 250


def timed_gets(client, count: int, headers=None, expect: int = 200) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(PATH, headers=headers or {})
        response.get_data()
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != expect:
            raise RuntimeError(f"{PATH} answered {response.status_code}, expected {expect}")
    return samples


def in_process(url: str) -> tuple[list[Figure], bytes]:
    app = bench_app(url)
    client = app.test_client()
    first = client.get(PATH)
    page, etag = first.get_data(), first.headers["ETag"]
    timed_gets(client, 20)  # warm-up: template compilation, first connection
    full = median_p95(timed_gets(client, REQUESTS))
    revalidated = median_p95(timed_gets(client, REQUESTS, {"If-None-Match": etag}, expect=304))
    figures = [
        Figure(NAME, "test client 200: median", full[0], "ms"),
        Figure(NAME, "test client 200: p95", full[1], "ms"),
        Figure(NAME, "test client 304 (If-None-Match): median", revalidated[0], "ms"),
        Figure(NAME, "test client 304 (If-None-Match): p95", revalidated[1], "ms"),
        Figure(NAME, "304 vs 200 median: times faster", full[0] / revalidated[0], "x"),
    ]
    with app.app_context():  # write the counted views now, not at exit into a deleted folder
        app.extensions["counters"].flush()
        db.engine.dispose()
    return figures, page


def weight(page: bytes) -> list[Figure]:
    css = STYLESHEET.read_bytes()
    page_gzip = len(gzip.compress(page, compresslevel=6))
    css_gzip = len(gzip.compress(css, compresslevel=6))
    return [
        Figure(NAME, "HTML size raw", len(page), "B"),
        Figure(NAME, "HTML size gzip", page_gzip, "B"),
        Figure(NAME, "HTML gzip ratio (raw / gzip)", len(page) / page_gzip, "x"),
        Figure(NAME, "site.css size raw", len(css), "B"),
        Figure(NAME, "site.css size gzip", css_gzip, "B"),
        Figure(NAME, "site.css gzip ratio (raw / gzip)", len(css) / css_gzip, "x"),
    ]


def get_once(host: str, port: int) -> int:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", PATH)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def client_thread(host: str, port: int) -> tuple[list[float], Counter]:
    samples, statuses = [], Counter()
    for _ in range(PER_THREAD):
        started = time.perf_counter()
        statuses[get_once(host, port)] += 1
        samples.append((time.perf_counter() - started) * 1000)
    return samples, statuses


def under_gunicorn(url: str) -> list[Figure]:
    settings = {
        "APP_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY,
        "SITE_URL": "https://bench.localhost", "MAIL_BACKEND": "log",
        "RATELIMIT_STORAGE_URI": "memory://", "OWNER_EMAIL": "owner@bench.localhost",
        "MAIL_FROM": "calls@bench.localhost",
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-gunicorn-") as folder:
        log = Path(folder) / "gunicorn.log"
        with running_gunicorn(settings, log, workers=2, threads=1) as server:
            address = urlsplit(server.base_url)
            for _ in range(20):  # warm-up: every worker renders the page once
                get_once(address.hostname, address.port)
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=THREADS) as pool:
                futures = [
                    pool.submit(client_thread, address.hostname, address.port)
                    for _ in range(THREADS)
                ]
                results = [future.result(timeout=300) for future in futures]
            elapsed = time.perf_counter() - started
    samples = [sample for thread_samples, _ in results for sample in thread_samples]
    statuses = sum((thread_statuses for _, thread_statuses in results), Counter())
    median, p95 = median_p95(samples)
    print(f"  (gunicorn answered {dict(statuses)} in {elapsed:.1f} s)")
    return [
        Figure(NAME, f"gunicorn 2 workers, {THREADS}x{PER_THREAD} GETs: requests/s",
               len(samples) / elapsed, "req/s"),
        Figure(NAME, "gunicorn: median latency", median, "ms"),
        Figure(NAME, "gunicorn: p95 latency", p95, "ms"),
        Figure(NAME, "gunicorn: share answered 200", 100 * statuses[200] / len(samples), "%"),
    ]  # fmt: skip


def run() -> list[Figure]:
    with migrated_sqlite() as url:
        figures, page = in_process(url)
        figures += weight(page)
        figures += under_gunicorn(url)
    return figures


if __name__ == "__main__":
    print_figures(run())
