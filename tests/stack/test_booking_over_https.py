"""A visitor's whole booking over HTTPS through nginx, as a browser does it: book, open
the private page, cancel. Over HTTPS the app's CSRF check also wants the Referer a browser
sends with a form, so every page with a form must let the browser send one to us."""

import time
import uuid
from urllib.parse import urlsplit

from sqlalchemy import select

from extensions import db
from models import Booking
from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS
from tests.live_server import hidden_fields, input_value
from tests.stack.client import StackVisitor
from tests.stack.load import free_slots


def book(stack, stack_app, visitor: StackVisitor) -> str:
    """A booking through the pages; returns its private link's token."""
    slot = free_slots(stack_app, 1)[0]
    form = visitor.get("/book", {"article": ARTICLE_SLUG, "slot": slot})
    assert form.status == 200
    time.sleep(3.2)  # a person takes longer than BOOKING_MIN_SECONDS over the form
    answers = {**VALID_ANSWERS, "email": f"cancel-{uuid.uuid4().hex[:8]}@analytical-engines.co.uk"}
    booked = visitor.post(
        "/book", {"article": ARTICLE_SLUG}, {**hidden_fields(form.body), **answers}
    )
    assert booked.status == 303, booked.body[:500]
    path = urlsplit(booked.headers["Location"]).path  # /booking/<token>/confirmed
    return path.split("/")[2]


def test_a_visitor_cancels_their_call_from_its_private_page(stack, stack_app):
    visitor = StackVisitor(stack.base_url, stack.tls_context())
    token = book(stack, stack_app, visitor)
    page = visitor.get(f"/booking/{token}")
    assert page.status == 200
    # Nothing of the token leaves for another site; our own server gets the page's URL.
    assert page.headers["Referrer-Policy"] == "same-origin"
    page = visitor.get(f"/booking/{token}/cancel")  # the page that asks first
    assert page.status == 200 and page.headers["Referrer-Policy"] == "same-origin"
    cancelled = visitor.post(
        f"/booking/{token}/cancel", data={"csrf_token": input_value(page.body, "csrf_token")}
    )
    assert cancelled.status == 303, cancelled.body[:300]
    with stack_app.app_context():
        statuses = db.session.scalars(
            select(Booking.status).where(Booking.email.like("cancel-%"))
        ).all()
        db.session.remove()
    assert "cancelled" in statuses
