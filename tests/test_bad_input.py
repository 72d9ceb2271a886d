"""Bad input is answered, never a 500: ids out of range, oversized bodies, control characters.

Each test sends what a careless client or an attacker would send, on SQLite and PostgreSQL.
"""

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
