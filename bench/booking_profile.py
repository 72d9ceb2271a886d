"""Where one booking POST's CPU goes: cProfile over in-process posts to distinct slots.

Not part of `make bench` (it prints a profile, not figures). On SQLite and, when the test
server answers, PostgreSQL: BOOKINGS posts through app.test_client(), each to its own free
slot with its own address, then the functions with the most cumulative and own time.
The inline sender is off, so what the request itself does is what is profiled; with
BENCH_PROFILE_INLINE=1 it is on and the sender thread's work is left out of the profile.

With BENCH_PROFILE_CPU=1 it profiles nothing and prints CPU per POST instead, beside the
hello-world POST (bench/hello_app.py) called the same way in the same process: CSRF on,
the inline sender on and drained before the clock stops (so the emails' composing and
sending to the log are counted), the request thread's own share apart.

    .venv/bin/python -m bench.booking_profile
    BENCH_PROFILE_CPU=1 .venv/bin/python -m bench.booking_profile
"""

import cProfile
import io
import os
import pstats
import re
import time

from bench import bench_app, on_each_database
from bench.booking_post import ANSWERS, slot_values
from bench.served_pages import SLUG

BOOKINGS = int(os.environ.get("BENCH_PROFILE_BOOKINGS", "200"))
INLINE = os.environ.get("BENCH_PROFILE_INLINE", "0") == "1"
CPU_ONLY = os.environ.get("BENCH_PROFILE_CPU", "0") == "1"
SHOWN = 25


def hidden_fields(html: str) -> dict[str, str]:
    fields = {}
    for tag in re.finditer(r"<input[^>]*type=\"hidden\"[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag.group(0))
        value = re.search(r'value="([^"]*)"', tag.group(0))
        if name and value:
            fields[name.group(1)] = value.group(1)
    return fields


# What every in-process booking profile runs with: no pause before posting, no limit that
# refuses the load, mail to the log.
PROFILE_SETTINGS = {
    "BOOKING_MIN_SECONDS": 0, "BOOKING_RATE_LIMIT": "1000000 per minute",
    "BOOKING_MAX_UPCOMING_PER_CLIENT": 10**6, "OUTBOX_SEND_INLINE": True, "MAIL_BACKEND": "log",
    "SITE_URL": "https://bench.localhost", "OWNER_EMAIL": "owner@bench.localhost",
    "MAIL_FROM": "calls@bench.localhost",
}  # fmt: skip


def profile_app(database_url: str, **overrides):
    return bench_app(database_url, **{**PROFILE_SETTINGS, **overrides})


def booking_bodies(client, slots: list[str], label: str) -> list[dict[str, str]]:
    """One booking form's answers per slot, each with its own submission key and address,
    from the form's hidden fields (CSRF token, render stamp) as a visitor got them."""
    page = client.get("/book", query_string={"article": SLUG, "slot": slots[0]})
    hidden = hidden_fields(page.get_data(as_text=True))
    return [
        {**hidden, **ANSWERS, "slot": slot, "submission_key": f"{n:032x}",
         "email": f"{label}-{n}@analytical-engines.co.uk"}
        for n, slot in enumerate(slots)
    ]  # fmt: skip


def profile(label: str, database_url: str) -> None:
    slots = slot_values(database_url)[:BOOKINGS]
    app = profile_app(database_url, WTF_CSRF_ENABLED=False, OUTBOX_SEND_INLINE=INLINE)
    client = app.test_client()
    bodies = booking_bodies(client, slots, "profile")
    client.post("/book", query_string={"article": SLUG}, data=bodies.pop(0))  # warm up
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    statuses = [
        client.post("/book", query_string={"article": SLUG}, data=body).status_code
        for body in bodies
    ]
    profiler.disable()
    cpu = time.process_time() - started
    if os.environ.get("BENCH_PROFILE_OUT"):  # for pstats' callers/callees views
        profiler.dump_stats(f"{os.environ['BENCH_PROFILE_OUT']}-{label}.prof")
    print(f"\n== {label}: {len(bodies)} booking POSTs, statuses {sorted(set(statuses))}, "
          f"{cpu / len(bodies) * 1000:.1f} ms CPU each (profiled) ==")  # fmt: skip
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(SHOWN)
        print(out.getvalue())


def hello_cpu_ms(calls: int) -> float:
    """CPU per hello-world POST through its test client, the reference for cpu_per_post."""
    from bench.hello_app import app

    client = app.test_client()
    client.post("/", data={"name": "warm up"})
    started = time.process_time()
    for n in range(calls):
        client.post("/", data={"name": f"Bench Visitor {n}"})
    return (time.process_time() - started) / calls * 1000


def drained(app, timeout: float = 120) -> None:
    """Wait until the inline sender has composed and sent every booking's emails."""
    from datetime import UTC, datetime

    from sqlalchemy import func, or_, select

    from domain.mail.outbox import OWED
    from extensions import db
    from models import OutboxMessage

    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            due = (OutboxMessage.status == "pending") & (
                OutboxMessage.send_after <= datetime.now(UTC)
            )
            waiting = db.session.scalar(
                select(func.count()).where(or_(OutboxMessage.status == OWED, due))
            )
            db.session.remove()
            if not waiting:
                return
            time.sleep(0.05)
    raise TimeoutError("the inline sender did not drain the outbox")


def cpu_per_post(label: str, database_url: str) -> None:
    slots = slot_values(database_url)[:BOOKINGS]
    app = profile_app(database_url)
    client = app.test_client()
    bodies = booking_bodies(client, slots, "cpu")
    client.post("/book", query_string={"article": SLUG}, data=bodies.pop(0))  # warm up
    drained(app)
    started, thread_started = time.process_time(), time.thread_time()
    statuses = [
        client.post("/book", query_string={"article": SLUG}, data=body).status_code
        for body in bodies
    ]
    thread_cpu = time.thread_time() - thread_started
    drained(app)
    cpu = time.process_time() - started
    hello = hello_cpu_ms(len(bodies))
    each, in_thread = cpu / len(bodies) * 1000, thread_cpu / len(bodies) * 1000
    print(f"== {label}: {len(bodies)} booking POSTs, statuses {sorted(set(statuses))}: "
          f"{each:.2f} ms CPU each with their emails ({in_thread:.2f} ms in the request "
          f"thread) vs hello-world POST {hello:.3f} ms: {each / hello:.1f}x")  # fmt: skip


def main() -> None:
    on_each_database(cpu_per_post if CPU_ONLY else profile, "bench_profile")


if __name__ == "__main__":
    main()
