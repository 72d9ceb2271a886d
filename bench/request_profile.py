"""CPU and round trips of the booking POST's request thread alone, in process.

Not part of `make bench`. On SQLite and, when the test server answers, PostgreSQL: posts
BOOKINGS bookings through app.test_client() with the inline sender on (so the request
leaves its emails owed, as production's does) but never woken, so no sender thread runs
beside the request; each POST books its own free slot with a new address. Prints the
request thread's CPU per POST (thread time) and, counted by engine and pool events on that
thread, the statements, BEGINs (PostgreSQL's are implicit in its first statement), COMMITs,
ROLLBACKs and pool check-outs per POST (on PostgreSQL each check-out pings the server).

    .venv/bin/python -m bench.request_profile
    BENCH_REQUEST_PROFILE=/tmp/request .venv/bin/python -m bench.request_profile  # + cProfile
"""

import cProfile
import os
import threading
import time
from collections import Counter

from sqlalchemy import event

from bench import on_each_database
from bench.booking_post import slot_values
from bench.booking_profile import booking_bodies, profile_app
from bench.served_pages import SLUG

BOOKINGS = int(os.environ.get("BENCH_REQUEST_BOOKINGS", "200"))
WARM_UP = 3
PROFILE_OUT = os.environ.get("BENCH_REQUEST_PROFILE")


def count_round_trips(engine, thread: int) -> Counter:
    """Statements, BEGIN/COMMIT/ROLLBACK and pool check-outs made by `thread`."""
    counts: Counter = Counter()

    def counted(name):
        def listener(*_args, **_kwargs):
            if threading.get_ident() == thread:
                counts[name] += 1

        return listener

    def on_statement(_conn, _cursor, statement, *_rest):
        if threading.get_ident() == thread and not statement.lstrip().upper().startswith("BEGIN"):
            counts["statements"] += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, counted(name))
    event.listen(engine.pool, "checkout", counted("checkouts"))
    return counts


def profile(label: str, database_url: str) -> None:
    slots = slot_values(database_url)[:BOOKINGS]
    app = profile_app(database_url)
    from extensions import db, outbox_delivery

    outbox_delivery.soon = lambda *_args, **_kwargs: None  # the debts stay owed
    client = app.test_client()
    bodies = booking_bodies(client, slots, "request")
    for body in bodies[:WARM_UP]:
        client.post("/book", query_string={"article": SLUG}, data=body)
    bodies = bodies[WARM_UP:]
    with app.app_context():
        counts = count_round_trips(db.engine, threading.get_ident())
    profiler = cProfile.Profile() if PROFILE_OUT else None
    started = time.thread_time()
    if profiler:
        profiler.enable()
    statuses = Counter(
        client.post("/book", query_string={"article": SLUG}, data=body).status_code
        for body in bodies
    )
    if profiler:
        profiler.disable()
        profiler.dump_stats(f"{PROFILE_OUT}-{label}.prof")
    cpu = (time.thread_time() - started) / len(bodies) * 1000
    per_post = ", ".join(f"{name} {n / len(bodies):.1f}" for name, n in sorted(counts.items()))
    print(f"== {label}: {len(bodies)} booking POSTs, statuses {dict(statuses)}: {cpu:.2f} ms "
          f"CPU each in the request thread; per POST: {per_post}")  # fmt: skip


def main() -> None:
    on_each_database(profile, "bench_request")


if __name__ == "__main__":
    main()
