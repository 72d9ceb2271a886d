"""Issue 10's picker against Flask's hello world, in the same run under the same gunicorn.

GET /book (the whole step 1: zone list, month calendar, the chosen day's times) and
GET /book/times?day= (the fragment the picker script swaps in) against hello-world GET;
the site as bench/served_pages.py runs it (production settings, `--workers 2`, sync
workers, a migrated SQLite database, the owner's hours open every day) with 300 calls
booked over the horizon, so the month's busy query has rows to read. Interleaved rounds,
medians (see bench/README.md). The same answers without a server too: WSGI calls in this
process, microseconds each beside hello world's (the Python a request costs, which a busy
machine blurs less than wrk's figures). Plus the weight of /book: HTML, CSS and JS, gzipped.
"""

import gzip
import os
import re
import sys
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import Figure, interleaved, median, migrated_sqlite, print_figures, servers, wrk
from bench.served_pages import (
    ROUNDS,
    STATIC,
    compared,
    fetch,
    measure,
    open_every_day,
    site_settings,
    timed,
    wsgi_environ,
)

NAME = "book_picker"
BOOKED = 300


def book_some(database_url: str, slots: list[datetime], count: int = BOOKED) -> None:
    """Calls on every other free time, booked as visitors book them."""
    from bench import bench_app
    from domain.booking.calls import BookingRequest, book_call
    from extensions import db

    app = bench_app(database_url)
    now = datetime.now(UTC)
    with app.app_context():
        for number, start in enumerate(slots[::2][:count]):
            request = BookingRequest(
                name=f"Bench Visitor {number}", email=f"visitor{number}@bench.example.org",
                company="Bench Ltd", role="CTO", company_size="51-200", signals=(),
                message="", consent_version="bench", start=start,
                visitor_timezone="Europe/London", submission_key=f"{number:032x}",
            )  # fmt: skip
            book_call(db.session, request, now=now, plan_emails=lambda *_: [])
        db.session.remove()
        db.engine.dispose()


def page_weight(page: bytes) -> list[Figure]:
    """/book's HTML and the stylesheets and scripts it links, raw and gzipped."""
    names = re.findall(rb'(?:href|src)="/static/([^"?]+\.(?:css|js))', page)
    assets = b"".join((STATIC / name.decode()).read_bytes() for name in names)
    whole = page + assets
    return [
        Figure(NAME, "GET /book HTML gzip", len(gzip.compress(page, 6)), "B"),
        Figure(NAME, "GET /book CSS + JS gzip", len(gzip.compress(assets, 6)), "B"),
        Figure(
            NAME,
            "GET /book HTML + CSS + JS gzip",
            len(gzip.compress(page, 6)) + len(gzip.compress(assets, 6)),
            "B",
        ),  # fmt: skip
        Figure(NAME, "GET /book HTML + CSS + JS raw", len(whole), "B"),
    ]


def run() -> list[Figure]:
    wrk.ensure_wrk()
    with migrated_sqlite() as database_url:
        slots = open_every_day(database_url)
        book_some(database_url, slots)
        day = (slots[1] if len(slots) > 1 else datetime.now(UTC) + timedelta(2)).date()
        times = f"/book/times?day={day.isoformat()}&timezone=Europe/London"
        with (
            servers.gunicorn("bench.hello_app:app", {}, ready_path="/") as hello,
            servers.gunicorn("app:app", site_settings(database_url)) as site,
        ):
            status, page, _ = fetch(site.base_url + "/book")
            fragment_status = fetch(site.base_url + times)[0]
            if status != 200 or fragment_status != 200:
                raise RuntimeError(f"/book answered {status}, {times} {fragment_status}")
            cpu: dict[str, list[float]] = {"hello": [], "book": [], "times": []}
            results = interleaved(ROUNDS, [
                ("hello", with_cpu(hello, "/", cpu["hello"])),
                ("book", with_cpu(site, "/book", cpu["book"])),
                ("times", with_cpu(site, times, cpu["times"])),
            ])  # fmt: skip
        calls = in_process(database_url, times)
    hello_get = "Flask hello-world GET"
    figures = compared("GET /book (month picker)", results, "book", "hello", hello_get)
    figures += compared("GET /book/times?day= (fragment)", results, "times", "hello", hello_get)
    hello_call = "Flask hello-world GET, in process"
    hello_cpu = "Flask hello-world GET, its workers' CPU"
    for name, label in (("book", "GET /book"), ("times", "GET /book/times?day=")):
        figures.append(Figure(NAME, f"{label}: workers' CPU per request", median(cpu[name]),
                              "us", hello_cpu, median(cpu["hello"])))  # fmt: skip
        figures.append(Figure(NAME, f"{label}, in process: per call", median(calls[name]), "us",
                              hello_call, median(calls["hello"])))  # fmt: skip
    return figures + page_weight(page)


def with_cpu(server, path: str, per_request: list[float]):
    """`measure` for one wrk run, also noting the CPU its gunicorn workers spent per request
    (user + system, from /proc): what the machine's other load blurs least."""
    one_round = measure(server.base_url + path)

    def measured(number: int):
        workers = worker_pids(server.pid)
        before = cpu_seconds(workers)
        result = one_round(number)
        per_request.append((cpu_seconds(workers) - before) / max(result.requests, 1) * 1e6)
        return result

    return measured


def worker_pids(master: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        with suppress(OSError, IndexError, ValueError):
            if entry.isdigit() and int(proc_stat(int(entry))[1]) == master:
                found.append(int(entry))
    return found


def proc_stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (state, ppid, ...)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pids: list[int]) -> float:
    ticks = sum(int(f[11]) + int(f[12]) for f in map(proc_stat, pids))  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def in_process(database_url: str, times: str) -> dict[str, list[float]]:
    """Microseconds per WSGI call (no cookie, as wrk), hello world's beside the picker's,
    over interleaved rounds. Request lines go to /dev/null, as a write."""
    from bench import bench_app
    from bench.hello_app import app as hello

    path, query = times.split("?", 1)
    stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115
    try:
        site = bench_app(database_url, COUNTER_FLUSH_SECONDS=3600)
        calls = {
            "hello": (hello, wsgi_environ("/")),
            "book": (site, wsgi_environ("/book")),
            "times": (site, wsgi_environ(path, QUERY_STRING=query)),
        }
        return interleaved(ROUNDS * 3, [(name, timed(*call)) for name, call in calls.items()])
    finally:
        sys.stderr.close()
        sys.stderr = stderr


if __name__ == "__main__":
    print_figures(run())
