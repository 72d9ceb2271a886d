"""The owner's account: creation, login, throttling, logout, and no page without login.

The limits against strangers are in test_owner_lockout.py; two-factor sign-in in
test_owner_two_factor.py; the session's lifetime in test_owner_session.py."""

import re

import pytest
from sqlalchemy import select

from domain.accounts.passwords import hash_password
from extensions import db
from models import Owner
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD


def login(client, password=OWNER_PASSWORD, email=OWNER_EMAIL, **kwargs):
    return client.post("/owner/login", data={"email": email, "password": password}, **kwargs)


def test_owner_create_prompts_twice_and_stores_an_argon2id_hash(app, runner):
    result = runner.invoke(
        args=["owner", "create", "Saed@Example.test"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output
    with app.app_context():
        owner = db.session.scalar(select(Owner))
    assert owner.email == "saed@example.test"
    assert owner.password_hash.startswith("$argon2id$")
    assert "a long enough password" not in owner.password_hash


def test_owner_create_reads_the_password_from_stdin_for_scripts(app, runner):
    result = runner.invoke(
        args=["owner", "create", "o@x.example", "--password-stdin"], input="another long password\n"
    )
    assert result.exit_code == 0, result.output


def test_owner_create_refuses_a_short_password(runner):
    result = runner.invoke(
        args=["owner", "create", "o@x.example", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output


def test_hash_parameters_meet_the_owasp_minimum():
    parameters = dict(part.split("=") for part in hash_password("x" * 12).split("$")[3].split(","))
    assert int(parameters["m"]) >= 19 * 1024 and int(parameters["t"]) >= 2


def test_login_with_the_right_password_reaches_the_dashboard(client, owner_account):
    response = login(client)
    assert response.status_code == 303
    assert client.get("/owner/").status_code == 200


def test_wrong_password_is_refused_and_logged_without_the_password(client, owner_account, caplog):
    with caplog.at_level("WARNING"):
        response = login(client, password="wrong password here")
    assert response.status_code == 401
    assert "That email and password do not match." in response.get_data(as_text=True)
    assert "owner login failed" in caplog.text
    assert "wrong password here" not in caplog.text
    assert client.get("/owner/").status_code == 302


def test_unknown_email_gets_the_same_answer(client, owner_account):
    response = login(client, email="nobody@example.test")
    assert response.status_code == 401
    assert "That email and password do not match." in response.get_data(as_text=True)


def test_repeated_failures_slow_the_account_down_with_a_clear_message(client, owner_account):
    for _ in range(3):
        login(client, password="wrong password")
    response = login(client)  # even the right password must wait now
    assert response.status_code == 429
    assert re.search(
        r"Please wait \d+ seconds before trying again", response.get_data(as_text=True)
    )


def test_logout_needs_a_post_and_kills_the_old_session_cookie(app, owner_account):
    browser = app.test_client()
    login(browser)
    stolen = browser.get_cookie("session").value
    assert browser.get("/owner/logout").status_code == 405
    assert browser.post("/owner/logout").status_code == 303
    assert browser.get("/owner/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/owner/").status_code == 302


def test_login_renews_the_session(app, client, owner_account):
    client.get("/book")  # the visitor session exists before login
    before = client.get_cookie("session").value
    login(client)
    assert client.get_cookie("session").value != before


def test_next_page_after_login_stays_on_the_owner_site(client, owner_account):
    response = login(client, query_string={"next": "//evil.example/owner"})
    assert response.headers["Location"] == "/owner/"
    response = client.post("/owner/logout")
    response = login(client, query_string={"next": "/owner.evil.example/"})
    assert response.headers["Location"] == "/owner/"
    response = client.post("/owner/logout")
    again = login(client, query_string={"next": "/owner/leads?status=new"})
    assert again.headers["Location"] == "/owner/leads?status=new"


def owner_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/owner") and rule.endpoint != "owner.login":
            values = {arg: 1 for arg in rule.arguments}
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method, values


def test_every_owner_route_refuses_an_anonymous_visitor(app, client):
    """A route added later without protection fails here."""
    checked = 0
    for rule, method, values in owner_routes(app):
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        response = client.open(url, method=method)
        if rule.endpoint == "owner.calendar_feed":
            # No login for calendar apps: the secret is the key, and a wrong one finds nothing.
            assert response.status_code == 404, (method, url)
        elif response.mimetype == "text/csv" or rule.endpoint.endswith(("_csv", "_json")):
            assert response.status_code == 401, (method, url)
        else:
            assert response.status_code in (302, 401), (method, url, response.status_code)
            if response.status_code == 302:
                assert "/owner/login" in response.headers["Location"]
        checked += 1
    assert checked >= 4


def test_owner_pages_are_private_and_not_indexed(owner):
    response = owner.get("/owner/")
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response.headers["Cache-Control"]


@pytest.fixture
def with_csrf(settings):
    settings["WTF_CSRF_ENABLED"] = True
    return settings


def test_login_form_needs_its_csrf_token(with_csrf, client, owner_account):
    assert login(client).status_code == 400
    page = client.get("/owner/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/owner/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303


def test_a_line_break_in_next_gives_a_safe_redirect(client, owner_account):
    """`next` carried into the Location header must not split it (werkzeug: a 500)."""
    for target in ("/owner/\r\nSet-Cookie: stolen=1", "/owner/leads\nX: y", "/owner/\x00"):
        response = login(client, query_string={"next": target})
        assert response.status_code == 303, target
        assert response.headers["Location"] == "/owner/"
        assert "stolen" not in str(response.headers)
        client.post("/owner/logout")


def test_a_nul_in_the_login_form_is_refused_beside_the_field(client, owner_account):
    """PostgreSQL refuses NUL in text: it must never reach a query (was a 500)."""
    response = login(client, email=OWNER_EMAIL + "\x00")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page and "control character" in page
    response = login(client, password=OWNER_PASSWORD + "\x00")
    assert response.status_code == 400
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert client.get("/owner/").status_code == 302
