"""Visitors for the stack tests' load: readers going round the pages, and bookers who each
book as a new visitor (own address, own email) and record what the site acknowledged."""

import queue
import random
import threading
import time
from urllib.parse import urlsplit

from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS
from tests.live_server import hidden_fields
from tests.stack.client import StackVisitor

ARTICLE = f"/library/{ARTICLE_SLUG}"


class Load:
    """Requests made and what came of each: a status, or the error instead of an answer."""

    def __init__(self):
        self.outcomes: list[tuple[str, int | str]] = []
        # (submission key, manage token, when the 303 came: time.monotonic())
        self.acknowledged: list[tuple[str, str, float]] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def request(self, kind: str, call, *args):
        try:
            reply = call(*args)
        except Exception as error:  # no answer at all: a failure the visitor sees
            with self._lock:
                self.outcomes.append((kind, repr(error)))
            return None
        with self._lock:
            self.outcomes.append((kind, reply.status))
        return reply

    def failures(self) -> list[tuple[str, int | str]]:
        return [o for o in self.outcomes if not isinstance(o[1], int) or o[1] >= 500]


def read_pages(load: Load, stack, stylesheet: str) -> None:
    visitor = StackVisitor(stack.base_url, stack.tls_context())
    pages = ["/", ARTICLE, f"/book?article={ARTICLE_SLUG}", stylesheet]
    while not load.stop.is_set():
        for page in pages:
            load.request(f"GET {page.split('?')[0]}", visitor.get, page)


def book_calls(load: Load, stack, slots: "queue.Queue[str]", name: str, go=None) -> None:
    """Book one free time after another, each as a new visitor; with `go`, book once, when
    `go` (a barrier) lets every visitor of the burst send at the same moment."""
    made = 0
    while not load.stop.is_set():
        try:
            slot = slots.get_nowait()
        except queue.Empty:
            return
        visitor = StackVisitor(stack.base_url, stack.tls_context())  # a new client each time
        query = {"article": ARTICLE_SLUG, "slot": slot}
        form = load.request("GET /book form", visitor.get, "/book", query)
        if form is None or form.status != 200:
            continue
        fields = hidden_fields(form.body)
        time.sleep(3.2)  # a person fills the form (BOOKING_MIN_SECONDS is 3)
        if go is not None:
            go.wait(timeout=60)
            time.sleep(random.uniform(0, 0.6))  # a burst, not one instant
        made += 1
        data = {**fields, **VALID_ANSWERS, "email": f"{name}-{made}@analytical-engines.co.uk"}
        reply = load.request("POST /book", visitor.post, "/book", {"article": ARTICLE_SLUG}, data)
        if reply is not None and reply.status == 303:
            path = urlsplit(reply.headers["Location"]).path
            token = path.split("/")[2]
            load.acknowledged.append((fields["submission_key"], token, time.monotonic()))
            load.request("GET confirmation", visitor.get, path)
        if go is not None:
            return
