"""Booking POSTs under load, on SQLite and on PostgreSQL, against a hello-world POST.

The site runs as production does (bench.served_pages.site_settings: gunicorn `--workers 2`,
sync workers, mail to the log, emails still tried inline after each booking as production
does) behind nginx as production is (PROXY_COUNT=1): every POST comes from a visitor of
its own, in X-Forwarded-For, so the booking rate limit and the per-client cap keep their
production values without refusing the load; only BOOKING_MIN_SECONDS=0 is changed (the
form is fetched once, before the run). CSRF stays on: one visitor's session cookie,
CSRF token and `rendered` stamp are fetched once with GET /book, and wrk's Lua script
(bench.wrk.post_script) sends them with every POST, each with its own submission key, its
own email address and the next free slot of the owner's hours (every day, all day,
15-minute calls, HORIZON_DAYS ahead), so every request books a different free slot.
Rate limits live in a Redis database number of this run's own when Redis answers.

`wrk -t1 -c16` for BENCH_SECONDS a round, ROUNDS rounds of (hello-world POST, SQLite,
PostgreSQL), the order alternating. Figures: median requests/s and p99 beside the
hello-world POST's; and the bookings written against the answers wrk counted as 2xx/3xx,
which must agree (a 409 for a slot taken twice would show as a non-2xx answer).
"""

import http.client
import os
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from urllib.parse import urlsplit

from bench import (
    Figure,
    bench_app,
    interleaved,
    median,
    migrated_postgres,
    migrated_sqlite,
    print_figures,
    servers,
    wrk,
)
from bench.served_pages import SLUG, measure, open_every_day, site_settings
from tests.live_server import hidden_fields

NAME = "booking_post"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
HORIZON_DAYS = 60  # 96 slots a day: enough for every round at well over 200 bookings/s
ANSWERS = {
    "name": "Bench Visitor", "company": "Analytical Engines Ltd",
    "role": "Chief Technology Officer", "company_size": "51-200",
    "situation": "architect-01", "message": "Timing the booking form.", "consent": "y",
}  # fmt: skip
# Production puts nginx in front and trusts it for the client's address: without it every
# bench POST would be one client (127.0.0.1), queueing on that client's lock and counted
# against one client's cap and rate limit, which no real crowd of visitors does.
LOAD_SETTINGS = {"BOOKING_MIN_SECONDS": "0", "PROXY_COUNT": "1"}


def slot_values(database_url: str) -> list[str]:
    slots = open_every_day(
        database_url, horizon_days=HORIZON_DAYS, call_minutes=15, hours=("00:00", "23:45")
    )
    # Skip the first day: those slots sit nearest the notice limit and could expire mid-run.
    return [moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in slots[96:]]


def visitor_form(base_url: str, slot: str) -> tuple[str, dict[str, str]]:
    """One visitor's session cookie and the hidden fields of the details form."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    query = urllib.parse.urlencode({"article": SLUG, "slot": slot, "timezone": "Europe/London"})
    try:
        connection.request("GET", f"/book?{query}")
        response = connection.getresponse()
        body = response.read().decode()
        cookies = [value.split(";", 1)[0] for name, value in response.getheaders()
                   if name.lower() == "set-cookie"]  # fmt: skip
    finally:
        connection.close()
    if response.status != 200 or not cookies:
        raise RuntimeError(f"GET /book answered {response.status}, cookies {cookies}")
    return "; ".join(cookies), hidden_fields(body)


def body_template(hidden: dict[str, str]) -> str:
    """The POST body; wrk's script fills in {slot}, {key} and {n} for each request."""
    fixed = {k: v for k, v in hidden.items() if k not in ("slot", "submission_key")}
    return (
        urllib.parse.urlencode({**fixed, **ANSWERS})
        + "&slot={slot}&submission_key={key}&email=bench-{n}%40analytical-engines.co.uk"
    )


def booking_load(base_url: str, slots: list[str]):
    """measure(round) for `interleaved`: each round books its own share of the slots."""
    cookie, hidden = visitor_form(base_url, slots[0])
    template = body_template(hidden)
    share = len(slots) // ROUNDS

    def one_round(number: int) -> wrk.WrkResult:
        mine = slots[number * share : (number + 1) * share]
        with wrk.post_script(
            template, cookie=cookie, slots=mine, first=number * 10**7, forwarded=True
        ) as lua:
            result = wrk.run(f"{base_url}/book?article={SLUG}", script=lua)
        if result.bad_status or result.socket_errors:
            print(f"  ({result.bad_status} non-2xx/3xx answers, {result.socket_errors} "
                  f"socket errors of {result.requests} booking posts)")  # fmt: skip
        return result

    return one_round


def hello_post(base_url: str):
    def one_round(number: int) -> wrk.WrkResult:
        with wrk.post_script("name=Bench+Visitor+{n}", first=number * 10**7) as lua:
            return wrk.run(base_url + "/", script=lua)

    return one_round


def bookings_in(database_url: str) -> int:
    from sqlalchemy import func, select

    from extensions import db
    from models import Booking

    app = bench_app(database_url)
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Booking))
        db.session.remove()
        db.engine.dispose()
    return count


@contextmanager
def redis_database() -> Iterator[str]:
    """A rate-limit store of this run's own: a Redis database number, or process memory."""
    try:
        import redis

        from tests.outage import claim_redis_database

        number, _ = claim_redis_database(
            lambda n: redis.Redis(host="127.0.0.1", db=n, socket_timeout=2)
        )
    except Exception as error:
        print(f"  (Redis not reachable, rate limits in process memory: {type(error).__name__})")
        yield "memory://"
        return
    try:
        yield f"redis://127.0.0.1:6379/{number}"
    finally:
        redis.Redis(host="127.0.0.1", db=number).flushdb()


def run() -> list[Figure]:
    wrk.ensure_wrk()
    with ExitStack() as stack:
        limits = stack.enter_context(redis_database())
        databases = {"SQLite": stack.enter_context(migrated_sqlite())}
        postgres = stack.enter_context(migrated_postgres("bench_booking"))
        if postgres:
            databases["PostgreSQL"] = postgres
        hello = stack.enter_context(servers.gunicorn("bench.hello_app:app", {}, ready_path="/"))
        contenders = [("hello", hello_post(hello.base_url))]
        for label, url in databases.items():
            slots = slot_values(url)
            settings = site_settings(url, RATELIMIT_STORAGE_URI=limits, **LOAD_SETTINGS)
            site = stack.enter_context(servers.gunicorn("app:app", settings))
            contenders.append((label, booking_load(site.base_url, slots)))
        results = interleaved(ROUNDS, contenders)
        booked = {label: bookings_in(url) for label, url in databases.items()}
    return figures_of(results, booked)


def figures_of(results: dict, booked: dict[str, int]) -> list[Figure]:
    hello_rps = median(r.requests_per_second for r in results["hello"])
    hello_p99 = median(r.p99_ms for r in results["hello"])
    reference = "Flask hello-world POST"
    figures = []
    for label, count in booked.items():
        answered = sum(r.requests - r.bad_status for r in results[label])
        figures += [
            Figure(NAME, f"booking POST, {label}: requests/s",
                   median(r.requests_per_second for r in results[label]), "req/s",
                   reference, hello_rps),
            Figure(NAME, f"booking POST, {label}: p99",
                   median(r.p99_ms for r in results[label]), "ms", reference, hello_p99),
            Figure(NAME, f"booking POST, {label}: bookings written (some in flight at the stop)",
                   count, "", "2xx/3xx answers wrk counted", answered),
        ]  # fmt: skip
    return figures


__all__ = ["run", "measure"]

if __name__ == "__main__":
    print_figures(run())
