"""A prompt first attempt at sending what a request just queued in the outbox.

One sender thread per process takes message ids from a queue and sends them (all that
queued up while it was busy, in one pass); whatever it cannot send (or never gets to, if
the process stops) is sent by `flask outbox worker`, which stays the durable path.
Requests only hand over ids and never wait on SMTP. A new booking's emails are not even
composed by its request: the booking leaves them owed (domain/booking/calls.py) and this
thread composes them, after the answer, before sending; if it never does, the outbox
worker pays the debt after OWED_GRACE.
"""

import logging
import os
import queue
import threading
from collections.abc import Iterable
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

log = logging.getLogger(__name__)
BATCH_LIMIT = 20  # bookings per pass: a pass's messages stay well under send_due's limit


class InlineDelivery:
    """Flask extension: `outbox_delivery.soon(message_ids)` after a commit."""

    def __init__(self) -> None:
        self.app: Flask | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def init_app(self, app: Flask) -> None:
        self.app = app
        app.extensions["outbox_delivery"] = self

    @property
    def active(self) -> bool:
        """True when this process sends (and composes a new booking's emails) inline."""
        return self.app is not None and self.app.config["OUTBOX_SEND_INLINE"]

    def soon(self, message_ids: Iterable[int] = (), *, booking_id: int | None = None) -> None:
        """Send these messages (and the due ones of this booking) as soon as possible."""
        if not self.active:
            return
        ids = list(message_ids)
        if not ids and booking_id is None:
            return
        self._ensure_thread()
        self._queue.put((ids, booking_id))

    def _ensure_thread(self) -> None:
        # A process forked after the thread started (gunicorn --preload) has no thread.
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._queue = queue.SimpleQueue()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="outbox-inline", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            ids, booking_ids = self._next_batch()
            try:
                self._send(ids, booking_ids)
            except Exception:
                log.exception("inline delivery failed; the outbox worker will retry")

    def _next_batch(self) -> tuple[list[int], list[int]]:
        """The next request's messages, and those of every request queued meanwhile: under
        load one pass (one claim, one read) sends for many bookings."""
        ids, booking_id = self._queue.get()
        ids, booking_ids = list(ids), [booking_id] if booking_id is not None else []
        while len(booking_ids) < BATCH_LIMIT:
            try:
                more, booking_id = self._queue.get_nowait()
            except queue.Empty:
                break
            ids += more
            booking_ids += [booking_id] if booking_id is not None else []
        return ids, booking_ids

    def _send(self, ids: list[int], booking_ids: list[int]) -> None:
        from domain.mail.outbox import pay_debts_of, send_due_with_settings
        from extensions import db
        from models import OutboxMessage

        app = self.app
        with app.app_context():
            try:
                if booking_ids:
                    # New bookings leave their emails owed: composed here, after the answer.
                    pay_debts_of(db.session, booking_ids, now=datetime.now(UTC))
                    ids += db.session.scalars(
                        select(OutboxMessage.id).where(OutboxMessage.booking_id.in_(booking_ids))
                    ).all()
                send_due_with_settings(db.session, app.config, now=datetime.now(UTC), only_ids=ids)
            finally:
                db.session.remove()
