"""Bad input is answered, never a 500: ids out of range, oversized bodies, control characters.

Each test sends what a careless client or an attacker would send, on SQLite and PostgreSQL.
"""

import io

import pytest

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
