"""CPU of the inline sender per booking, in process: composing, the outbox's work, sending.

Not part of `make bench`. On SQLite and, when the test server answers, PostgreSQL: posts
BOOKINGS bookings through app.test_client() with the inline sender on but its thread held
back, so each leaves its emails owed; then runs the sender's passes itself
(InlineDelivery._send, as its thread would) on batches of BATCH bookings and prints the
CPU per booking (process time), with the statements and commits per booking counted by
engine events. The mailer does to each message what smtplib.send_message does (flatten it
with CRLF), so the figure is production's work, not the development log's.

    .venv/bin/python -m bench.sender_profile
    BENCH_SENDER_PROFILE=/tmp/sender .venv/bin/python -m bench.sender_profile  # + cProfile
"""

import cProfile
import io
import logging
import os
import time
from email.generator import BytesGenerator

from sqlalchemy import event

from bench import on_each_database
from bench.booking_post import slot_values
from bench.booking_profile import booking_bodies, profile_app
from bench.served_pages import SLUG

BOOKINGS = int(os.environ.get("BENCH_SENDER_BOOKINGS", "120"))
BATCH = int(os.environ.get("BENCH_SENDER_BATCH", "4"))
PROFILE_OUT = os.environ.get("BENCH_SENDER_PROFILE")


class FlatteningMailer:
    """What smtplib.send_message does to a message before the network: read the
    addresses, flatten it with CRLF line ends."""

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message, *, kind: str = "") -> None:
        _ = message["From"], message["To"], message.get_all("Resent-Date")
        policy = message.policy.clone(linesep="\r\n")
        BytesGenerator(io.BytesIO(), policy=policy).flatten(message, linesep="\r\n")
        self.sent += 1


def owed_bookings(app, count: int, slots: list[str]) -> list[int]:
    """Post `count` bookings whose emails stay owed; their ids, in booking order."""
    delivery = app.extensions["outbox_delivery"]
    queued: list[int] = []
    delivery.soon = lambda ids=(), *, booking_id=None: queued.append(booking_id)
    client = app.test_client()
    for body in booking_bodies(client, slots[:count], "sender"):
        response = client.post("/book", query_string={"article": SLUG}, data=body)
        assert response.status_code == 303, response.status_code
    return queued


def measure(label: str, database_url: str) -> None:
    import domain.mail.outbox as outbox
    from extensions import db

    slots = slot_values(database_url)  # first: it makes an app of its own, which the
    # outbox_delivery extension (one per process) would otherwise send for
    app = profile_app(database_url, WTF_CSRF_ENABLED=False, MAIL_BACKEND="")
    booking_ids = owed_bookings(app, BOOKINGS + 1, slots)
    mailer = FlatteningMailer()
    with_settings = outbox.send_due_with_settings
    outbox.send_due_with_settings = lambda *args, **kw: with_settings(*args, **kw, mailer=mailer)
    delivery = app.extensions["outbox_delivery"]
    assert delivery.app is app
    delivery._send([], booking_ids[:1])  # warm up: first imports, compiled statements
    rest = booking_ids[1:]
    counts = {"statements": 0, "commits": 0}
    with app.app_context():
        engine = db.engine

    def statement(*_):
        counts["statements"] += 1

    def commit(*_):
        counts["commits"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    profiler = cProfile.Profile() if PROFILE_OUT else None
    started = time.process_time()
    if profiler:
        profiler.enable()
    for first in range(0, len(rest), BATCH):
        delivery._send([], rest[first : first + BATCH])
    if profiler:
        profiler.disable()
        profiler.dump_stats(f"{PROFILE_OUT}-{label}.prof")
    cpu = time.process_time() - started
    event.remove(engine, "before_cursor_execute", statement)
    event.remove(engine, "commit", commit)
    outbox.send_due_with_settings = with_settings
    each = len(rest)
    print(f"== {label}: {each} bookings, sent in passes of {BATCH}: "
          f"{cpu / each * 1000:.2f} ms CPU per booking{' (profiled)' if profiler else ''}, "
          f"{counts['statements'] / each:.1f} statements and {counts['commits'] / each:.2f} "
          f"commits per booking, {mailer.sent} messages sent")  # fmt: skip


def main() -> None:
    logging.disable(logging.WARNING)  # a line per request and per message sent
    on_each_database(measure, "bench_sender")


if __name__ == "__main__":
    main()
