"""Bad input is answered, never a 500: ids out of range, oversized bodies, control characters.

Each test sends what a careless client or an attacker would send, on SQLite and PostgreSQL.
"""

import html
import io
import re

import pytest
from sqlalchemy import select

from extensions import db
from models import Booking, Lead, LeadEvent
from tests.conftest import VALID_ANSWERS, Visitor
from tests.test_booking_pages import assert_nothing_written, errors_in, input_value
from tests.test_owner_dashboard import add_lead

BEYOND_ANY_INTEGER = "99999999999999999999"  # past SQLite's 64 bits and PostgreSQL's 32
JUST_PAST_POSTGRES_INTEGER = "2147483648"


@pytest.mark.parametrize(
    "path",
    [
        f"/owner/leads/{BEYOND_ANY_INTEGER}",
        f"/owner/leads/{JUST_PAST_POSTGRES_INTEGER}",
        f"/owner/leads/{BEYOND_ANY_INTEGER}.json",
        "/owner/leads/0",
        "/owner/leads/\uff11",  # a full-width digit one is not the id 1
    ],
)
def test_an_id_out_of_range_is_not_found(app, owner, path):
    add_lead(app)  # lead 1 exists, so only the id's spelling can make these 404
    assert owner.get(path).status_code == 404


@pytest.mark.parametrize("action", ["notes", "status", "erase"])
def test_a_post_to_an_id_out_of_range_is_not_found(owner, action):
    response = owner.post(f"/owner/leads/{BEYOND_ANY_INTEGER}/{action}", data={"body": "x"})
    assert response.status_code == 404


def test_a_body_over_the_limit_gets_the_friendly_413_page(client, open_hours):
    oversized = {"name": "Ada", "message": "x" * (70 * 1024)}  # the limit is 64 KB
    response = client.post("/book", data=oversized)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "That was more than we can accept" in page
    assert 'class="wrap error-page"' in page


def test_a_chunked_body_over_the_limit_gets_the_friendly_413_page(client, open_hours):
    """No Content-Length to refuse up front (chunked, as gunicorn passes it): cut off while read."""
    body = io.BytesIO(b"message=" + b"x" * (70 * 1024))
    response = client.post(
        "/book",
        input_stream=body,
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert "That was more than we can accept" in response.get_data(as_text=True)


CONTROL = "This contains a character we cannot accept (a control character). Please retype it."
ONE_LINE = "Please keep this on one line."


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "Ada\x00Lovelace", CONTROL),
        ("name", "Ada Lovelace\r\nBcc: everyone@example.test", ONE_LINE),
        ("company", "Analytical\nEngines", ONE_LINE),
        ("role", "CTO\x1b[2J", CONTROL),
        ("email", "ada\x00@analytical-engines.co.uk", CONTROL),
        ("message", "We run AI pilots\x00 in three departments.", CONTROL),
    ],
)
def test_a_control_character_or_line_break_is_refused_beside_its_field(
    app, visitor, field, value, message
):
    response = visitor.book(**{field: value})
    assert response.status_code == 400
    assert errors_in(response) == [message]
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    for other in ("name", "email", "company", "role"):
        if other != field:
            assert input_value(response, other) == VALID_ANSWERS[other]
    if field != "message":
        assert VALID_ANSWERS["message"] in response.get_data(as_text=True)
    assert_nothing_written(app)


def test_a_message_keeps_its_line_breaks(app, visitor):
    response = visitor.book(message="First line.\r\nSecond line.\tIndented.")
    assert response.status_code == 303
    with app.app_context():
        message = db.session.scalar(select(Booking.message))
    assert message.splitlines() == ["First line.", "Second line.\tIndented."]


def test_control_characters_in_where_a_visitor_came_from_are_dropped(app, client, open_hours):
    """Query strings and the Referer are nobody's typing to correct: cleaned, never refused."""
    tags = {"utm_source": "news\x00letter", "utm_campaign": "launch\r\nX-Injected: 1"}
    client.get(
        "/library/ai-systems-architect-vs-ai-engineer",
        query_string=tags,
        headers={"Referer": "https://elsewhere.example/\x7fpage"},
    )
    assert Visitor(client).book().status_code == 303
    with app.app_context():
        touch = db.session.scalar(select(Lead.first_touch))
    assert touch["utm_source"] == "newsletter"
    assert touch["utm_campaign"] == "launch X-Injected: 1"
    assert touch["referrer"] == "https://elsewhere.example/page"


@pytest.fixture
def lead_id(app):
    return add_lead(app)


def events(app) -> list:
    with app.app_context():
        return list(db.session.scalars(select(LeadEvent)))


def test_a_note_with_a_control_character_is_refused_beside_the_field(app, owner, lead_id):
    response = owner.post(f"/owner/leads/{lead_id}/notes", data={"body": "Called\x00 back."})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="note-body-error">{html.escape(CONTROL)}</p>' in page
    assert events(app) == []


def test_a_status_note_with_a_control_character_is_refused_beside_it(app, owner, lead_id):
    response = owner.post(
        f"/owner/leads/{lead_id}/status",
        data={"status": "contacted", "note": "Left a\x00 message"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="status-note-error">{html.escape(CONTROL)}</p>' in page
    assert 'value="Left a message"' in page  # kept, without the invisible character
    assert events(app) == []
    with app.app_context():
        assert db.session.get(Lead, lead_id).status == "new"


def test_availability_refuses_a_control_character_beside_the_field(app, owner):
    form = owner.get("/owner/availability").get_data(as_text=True)
    answers = {name: value for name, value in re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', form)}
    answers |= {"timezone": "Europe/London", "dates_off": ""}
    answers |= {"hours_1_start": "09:00\x00", "hours_1_end": "12:00"}
    response = owner.post("/owner/availability", data=answers)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="hours_1-error">{html.escape(CONTROL)}</p>' in page
    assert "The form had expired" not in page
    assert input_value(response, "call_minutes") == answers["call_minutes"]


def test_lead_search_ignores_control_characters(owner, app):
    add_lead(app, name="Grace Hopper")
    response = owner.get("/owner/leads", query_string={"q": "Grace\x00", "article": "\x00"})
    assert response.status_code == 200
    assert "Grace Hopper" in response.get_data(as_text=True)


@pytest.fixture
def manage_url(visitor):
    return visitor.book().headers["Location"].split("/confirmed")[0]


def test_cancelling_with_a_control_character_in_the_form_changes_nothing(app, client, manage_url):
    response = client.post(f"{manage_url}/cancel", data={"reason": "\x00"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Booking)).status == "active"


@pytest.mark.parametrize("token", ["%00" + "a" * 42, "a" * 42 + "\u00e9", "a" * 5000])
def test_a_manage_link_with_characters_no_token_has_is_404(client, token):
    assert client.get(f"/booking/{token}").status_code == 404
    assert client.post(f"/booking/{token}/cancel").status_code == 404


def test_a_huge_call_number_on_a_confirmation_is_404(client, manage_url):
    assert client.get(f"{manage_url}/confirmed?call=99999999999999999999").status_code == 404
