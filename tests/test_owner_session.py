"""The owner's session: a browser-session cookie that reading articles never turns into a
90-day one, ended by the server after 12 idle hours, and not re-sent on every page."""

import time

from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD, log_in


def session_cookie_headers(response) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]


def set_last_seen(client, seconds_ago: float) -> None:
    with client.session_transaction() as session:
        session["owner_seen"] = int(time.time() - seconds_ago)


def test_reading_an_article_does_not_make_the_owner_session_last_90_days(
    client, owner_account, seed_slug
):
    login = log_in(client)
    assert all("Expires" not in h for h in session_cookie_headers(login))
    article = client.get(
        f"/library/{seed_slug}",
        query_string={"utm_source": "linkedin"},
        headers={"Referer": "https://www.linkedin.com/"},
    )
    assert article.status_code == 200
    assert session_cookie_headers(article) == []  # the owner's session is left alone
    assert client.get_cookie("session").expires is None
    assert client.get("/owner/").status_code == 200


def test_the_owner_session_ends_after_twelve_idle_hours(client, owner_account):
    log_in(client)
    set_last_seen(client, 11 * 3600 + 3000)
    assert client.get("/owner/").status_code == 200
    set_last_seen(client, 12 * 3600 + 60)
    response = client.get("/owner/")
    assert response.status_code == 302 and "/owner/login" in response.headers["Location"]


def test_owner_pages_send_the_cookie_back_only_when_the_idle_mark_moves(client, owner_account):
    log_in(client)
    client.get("/owner/")  # the first page adds the CSRF token of its forms to the session
    set_last_seen(client, 60)
    assert session_cookie_headers(client.get("/owner/")) == []  # marked a minute ago: kept
    set_last_seen(client, 6 * 60)
    moved = session_cookie_headers(client.get("/owner/"))
    assert len(moved) == 1 and "Expires" not in moved[0]
    assert session_cookie_headers(client.get("/owner/")) == []


def test_login_sets_no_remember_cookie_and_one_would_be_httponly_samesite_and_secure(
    app, client, owner_account
):
    import config

    response = client.post(
        "/owner/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "remember": "y"}
    )
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_")]
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert config.ProductionConfig.REMEMBER_COOKIE_SECURE is True
