"""An app server stopped (SIGTERM) and started again while visitors read and book: nobody
sees a failure, and every booking the site acknowledged is in the database.

The load is bounded: readers and bookers for LOAD_SECONDS. At STOP_AT, BURST visitors who
filled their forms send them at once, and web1 gets SIGTERM in the middle of them, as
`systemctl restart` or a deploy would send it; supervisord starts it again once it has
exited (systemd's Restart=always does the same). A failure is any 5xx, or a request that
got no answer. A booking post that reaches web1 as it stops is the case to watch: nginx
sends it to web2 only because its submission key makes a second delivery harmless.
"""

import os
import queue
import re
import signal
import threading
import time
from collections import Counter

from sqlalchemy import select

from extensions import db
from models import Booking
from tests.stack.client import StackVisitor
from tests.stack.load import Load, book_calls, free_slots, read_pages

LOAD_SECONDS = 20
STOP_AT = 5
READERS, BOOKERS, BURST = 4, 4, 40


def pid_of(stack, program: str) -> int | None:
    found = re.search(r"RUNNING\s+pid (\d+)", stack.supervisorctl("status", program))
    return int(found.group(1)) if found else None


def restarted(stack, program: str, before: int, timeout: float = 30) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = pid_of(stack, program)
        if pid not in (None, before):
            return pid
        time.sleep(0.25)
    return None


def test_an_app_server_restarted_under_load_fails_no_request_and_loses_no_booking(stack, stack_app):
    page = StackVisitor(stack.base_url, stack.tls_context()).get("/")
    stylesheet = re.search(r'href="(/static/min/css/base\.css\?v=[0-9a-f]+)"', page.body).group(1)
    slots: queue.Queue[str] = queue.Queue()
    for slot in free_slots(stack_app, BOOKERS * 8 + BURST):
        slots.put(slot)
    load = Load()
    go = threading.Barrier(BURST + 1)
    threads = [
        threading.Thread(target=read_pages, args=(load, stack, stylesheet)) for _ in range(READERS)
    ]
    threads += [
        threading.Thread(target=book_calls, args=(load, stack, slots, f"restart-{n}"))
        for n in range(BOOKERS)
    ]
    threads += [
        threading.Thread(target=book_calls, args=(load, stack, slots, f"burst-{n}", go))
        for n in range(BURST)
    ]
    before = pid_of(stack, "web1")
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        time.sleep(STOP_AT)
        go.wait(timeout=30)  # the burst goes out...
        time.sleep(0.05)
        os.kill(before, signal.SIGTERM)  # ...and web1 is told to stop while it arrives
        after = restarted(stack, "web1", before)
        time.sleep(max(LOAD_SECONDS - (time.monotonic() - started), 0))
    finally:
        load.stop.set()
        go.abort()
        for thread in threads:
            thread.join(timeout=60)

    counts = Counter(kind for kind, _ in load.outcomes)
    retried = [line for line in stack.access_log.read_text().splitlines() if ", 127.0.0.1:" in line]
    print(
        f"\nrestart under load: {len(load.outcomes)} requests {dict(counts)}, "
        f"{len(load.acknowledged)} bookings acknowledged, {len(load.failures())} failed; "
        f"nginx passed {len(retried)} on to the other app server "
        f"({sum('POST /book' in line for line in retried)} of them booking posts)"
    )
    assert after, f"web1 was not started again:\n{stack.supervisorctl('status')}"
    assert load.failures() == []
    assert len(load.acknowledged) >= BOOKERS, "too few bookings to show anything"
    with stack_app.app_context():
        keys = {key for key, _, _ in load.acknowledged}
        stored = db.session.scalars(
            select(Booking.submission_key).where(
                Booking.submission_key.in_(keys), Booking.status == "active"
            )
        ).all()
        db.session.remove()
    assert set(stored) == keys
    # The confirmation pages' tokens went through nginx while an app server was away.
    logs = [stack.access_log, stack.error_log, stack.output_path]
    text = "".join(path.read_text(errors="replace") for path in logs if path.exists())
    assert not [token for _, token, _ in load.acknowledged if token in text]
