"""Requests per second through nginx, against the stack `make stack` starts.

`python -m bench.stack` (`make bench-stack`): the stack with ports, a folder, a PostgreSQL
database and a Redis database number of its own (tests/stack/harness.py), production
settings, mail to the log. Figures:

- GET of the article: wrk, 1 thread, 32 kept-alive connections, 10 s, over HTTPS.
Booking posts are measured by `python -m bench.booking_post` (wrk, against gunicorn
directly); a Python client here would measure the client as much as the stack.

Nothing is asserted; the machine's load shows in the figures, so run it on a quiet one.
"""

import os

from bench import Figure, print_figures, wrk
from tests.conftest import ARTICLE_SLUG
from tests.outage import claim_redis_database
from tests.stack.harness import database_url_named, drop_database, running_stack
from tests.stack.load import open_every_day

NAME = "stack"
ARTICLE = f"/library/{ARTICLE_SLUG}"


def article_per_second(stack) -> list[Figure]:
    found = wrk.run(stack.base_url + ARTICLE, connections=32, seconds=10)
    return [
        Figure(NAME, "GET article through nginx (wrk, 32 connections)",
               found.requests_per_second, "req/s"),
        Figure(NAME, "GET article through nginx: p99", found.p99_ms, "ms"),
        Figure(NAME, "GET article: non-2xx answers", found.bad_status, ""),
    ]  # fmt: skip


def run() -> list[Figure]:
    import redis

    number, _ = claim_redis_database(lambda n: redis.Redis(host="127.0.0.1", db=n))
    database = database_url_named(f"stack_bench_{os.getpid()}")
    drop_database(database)
    settings = {"DATABASE_URL": database, "REDIS_URL": f"redis://127.0.0.1:6379/{number}"}
    try:
        with running_stack(settings) as stack:
            open_every_day(database, horizon_days=30)
            figures = article_per_second(stack)
    finally:
        drop_database(database)
        redis.Redis(host="127.0.0.1", db=number).flushdb()
    return figures


if __name__ == "__main__":
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    print_figures(run())
