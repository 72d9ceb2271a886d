"""A form whose CSRF token is missing, stale or from another session (a form left open past
a session's end, a browser that drops our cookie, a forged post) is refused calmly: nothing
is written, the booking form comes back with every answer and a fresh token, and any other
form gets the site's own 400 page saying what happened."""

import re

import pytest

from models import Booking
from tests.conftest import VALID_ANSWERS
from tests.test_booking_pages import assert_nothing_written, count, input_value


@pytest.fixture
def with_csrf(settings):
    settings["WTF_CSRF_ENABLED"] = True
    return settings


def hidden_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    found = tag and re.search(r'value="([^"]*)"', tag.group(0))
    return found.group(1) if found else None


def expired_booking(visitor) -> tuple[dict, object]:
    slot = visitor.free_slots()[0]
    data = {**visitor.form_for(slot), **VALID_ANSWERS}
    data["csrf_token"] = "a-token-from-a-session-that-has-ended"
    return data, visitor.client.post("/book", data=data)


def test_an_expired_booking_form_comes_back_with_every_answer(with_csrf, app, visitor):
    _data, response = expired_booking(visitor)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nothing was booked and your answers are kept below" in page
    assert input_value(response, "name") == "Ada Lovelace"
    assert input_value(response, "email") == "ada@analytical-engines.co.uk"
    assert input_value(response, "company") == "Analytical Engines Ltd"
    assert "none of them build on each other" in page
    chosen = re.findall(r'<input[^>]*name="situation"[^>]*>', page)
    assert [tag for tag in chosen if "checked" in tag and 'value="architect-01"' in tag]
    assert_nothing_written(app)


def test_sending_the_returned_form_again_books_the_call(with_csrf, app, visitor):
    data, response = expired_booking(visitor)
    fresh = hidden_value(response.get_data(as_text=True), "csrf_token")
    assert fresh and fresh != data["csrf_token"]
    again = visitor.client.post("/book", data={**data, "csrf_token": fresh})
    assert again.status_code == 303
    assert count(app, Booking) == 1


def test_a_booking_form_without_its_token_is_answered_in_the_site_style(with_csrf, app, visitor):
    slot = visitor.free_slots()[0]
    data = {**visitor.form_for(slot), **VALID_ANSWERS}
    del data["csrf_token"]
    response = visitor.client.post("/book", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Bad Request" not in page
    assert input_value(response, "company") == "Analytical Engines Ltd"
    assert_nothing_written(app)


def test_other_forms_get_the_sites_400_page(with_csrf, app):
    response = app.test_client().post("/owner/login", data={"email": "a@b.example"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Bad Request" not in page
    assert "This form had expired" in page
    assert 'class="wrap error-page"' in page
