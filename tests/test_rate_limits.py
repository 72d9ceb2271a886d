"""Rate limits on the booking form: shared by every server through Redis, and still there
(per process, in memory) when Redis goes away, which must never cost a visitor a 500.

Two real gunicorn servers stand in for two app servers; Redis sits behind a link the test
cuts (tests/outage.py).
"""

from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS
from tests.live_server import HttpVisitor, free_slots, hidden_fields, running_gunicorn

NAME_MISSING = "Please tell us your name."


def details_form(visitor: HttpVisitor) -> dict:
    """The details form's hidden fields (CSRF token, slot…) with every answer but the name."""
    query = {"article": ARTICLE_SLUG, "timezone": "Europe/London"}
    slot = free_slots(visitor.get("/book", query).body)[0]
    form = visitor.get("/book", {**query, "slot": slot})
    return {**hidden_fields(form.body), **VALID_ANSWERS, "name": ""}


def test_limits_are_shared_through_redis_and_kept_in_memory_when_it_goes(
    database_url, open_hours, redis_link, tmp_path
):
    settings = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "rate-limit-test-secret-0123456789abcdef",
        "REDIS_URL": redis_link.url,
        "BOOKING_RATE_LIMIT": "2 per hour",
        "BOOKING_MIN_SECONDS": "0",
        "OUTBOX_SEND_INLINE": "0",
    }
    with (
        running_gunicorn(settings, tmp_path / "a.log", workers=1, threads=1) as a,
        running_gunicorn(settings, tmp_path / "b.log", workers=1, threads=1) as b,
    ):
        on_a, on_b = HttpVisitor(a.base_url), HttpVisitor(b.base_url)
        form_a, form_b = details_form(on_a), details_form(on_b)
        post = {"article": ARTICLE_SLUG}
        assert on_a.post("/book", post, form_a).status == 400  # 1 of 2: the name is missing
        assert on_b.post("/book", post, form_b).status == 400  # 2 of 2, counted on the other
        assert on_a.post("/book", post, form_a).status == 429, a.log()

        redis_link.cut()
        reply = on_b.post("/book", post, form_b)
        assert reply.status == 400, b.log()  # the form's own answer, not a 500
        assert NAME_MISSING in reply.body
        assert "falling back to in-memory storage" in b.log()
