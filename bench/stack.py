"""Requests per second through nginx, against the stack `make stack` starts.

`python -m bench.stack` (`make bench-stack`): the stack with ports, a folder, a PostgreSQL
database and a Redis database number of its own (tests/stack/harness.py), production
settings, mail to the log. Figures:

- GET of the article: wrk, 2 threads, 32 kept-alive connections, 10 s, over HTTPS.
- Booking posts: BOOKINGS visitors, each from its own loopback address with its own email
  and a different free time, load the form (not timed), wait out BOOKING_MIN_SECONDS, then
  post together from 16 threads; bookings per second over the whole burst. Each post is a
  new TLS connection (urllib keeps none alive), as a browser's first post often is.

Nothing is asserted; the machine's load shows in the figures, so run it on a quiet one.
"""

import os
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from bench import Figure, print_figures
from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS, base_settings
from tests.live_server import hidden_fields
from tests.outage import claim_redis_database
from tests.stack.client import StackVisitor
from tests.stack.harness import database_url_named, drop_database, running_stack
from tests.stack.load import free_slots, open_every_day

NAME = "stack"
BOOKINGS = 200
ARTICLE = f"/library/{ARTICLE_SLUG}"


def article_per_second(stack) -> list[Figure]:
    wrk = shutil.which("wrk")
    if wrk is None:
        print("  wrk is missing (apt-get install wrk): no article figure")
        return []
    done = subprocess.run(
        [wrk, "-t2", "-c32", "-d10s", "--latency", stack.base_url + ARTICLE],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    print("  " + done.replace("\n", "\n  ").rstrip())
    per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", done).group(1))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", done)
    return [
        Figure(NAME, "GET article through nginx (wrk, 32 connections)", per_second, "req/s"),
        Figure(NAME, "GET article: non-2xx answers", int(failed.group(1)) if failed else 0, ""),
    ]


def bookings_per_second(stack, app) -> list[Figure]:
    context = stack.tls_context()
    forms = []
    for number, slot in enumerate(free_slots(app, BOOKINGS)):
        visitor = StackVisitor(stack.base_url, context)
        form = visitor.get("/book", {"article": ARTICLE_SLUG, "slot": slot})
        email = f"bench-{number}@analytical-engines.co.uk"
        forms.append((visitor, {**hidden_fields(form.body), **VALID_ANSWERS, "email": email}))
    time.sleep(3.2)  # BOOKING_MIN_SECONDS: a person takes longer over the form

    def post(visitor_and_data):
        visitor, data = visitor_and_data
        return visitor.post("/book", {"article": ARTICLE_SLUG}, data).status

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(post, forms))
    elapsed = time.perf_counter() - started
    booked = statuses.count(303)
    return [
        Figure(
            NAME,
            f"booking posts through nginx ({BOOKINGS}, 16 at a time)",
            booked / elapsed,
            "req/s",
        ),
        Figure(NAME, "booking posts answered 303", 100 * booked / len(statuses), "%"),
    ]


def run() -> list[Figure]:
    import redis

    from app import create_app

    number, _ = claim_redis_database(lambda n: redis.Redis(host="127.0.0.1", db=n))
    database = database_url_named(f"stack_bench_{os.getpid()}")
    drop_database(database)
    settings = {"DATABASE_URL": database, "REDIS_URL": f"redis://127.0.0.1:6379/{number}"}
    try:
        with running_stack(settings) as stack:
            open_every_day(database, horizon_days=30)
            app = create_app(base_settings(database))
            figures = article_per_second(stack) + bookings_per_second(stack, app)
    finally:
        drop_database(database)
        redis.Redis(host="127.0.0.1", db=number).flushdb()
    return figures


if __name__ == "__main__":
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    print_figures(run())
