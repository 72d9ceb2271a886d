"""No stranger can lock the owner out (OWASP device cookies): failures are limited per
address, per (account, address), and account-wide only for browsers that have never
logged in; `flask owner unlock` lifts every limit; failures are logged without secrets."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from extensions import db
from models import LoginAttempt
from tests.conftest import OWNER_EMAIL, give_code, log_in

OWNER_IP = "127.0.0.1"  # the test client's own: Flask-Login's strong protection checks it


def rotating_attack(app, count: int, cookie: str | None = None) -> list[int]:
    """`count` wrong passwords, each from a new address; the statuses the attacker got."""
    statuses = []
    for n in range(count):
        attacker = app.test_client()
        if cookie:
            attacker.set_cookie("owner_device", cookie, path="/owner")
        statuses.append(
            log_in(attacker, password=f"guess number {n}", ip=f"203.0.113.{n + 1}").status_code
        )
    return statuses


def failures_in_the_database(app, count: int, spacing=timedelta(seconds=20)) -> None:
    """`count` recent wrong passwords for the owner from as many addresses."""
    now = datetime.now(UTC)
    with app.app_context():
        for n in range(count):
            db.session.add(
                LoginAttempt(
                    email=OWNER_EMAIL,
                    ip=f"192.0.2.{n + 1}",
                    succeeded=False,
                    at=now - spacing * (count - n),
                )
            )
        db.session.commit()


def known_device_cookie(app) -> str:
    """A browser that has logged in before: its known-device cookie."""
    browser = app.test_client()
    assert log_in(browser).status_code == 303
    browser.post("/owner/logout")
    return browser.get_cookie("owner_device", path="/owner").value


def test_three_failures_from_a_strangers_address_do_not_refuse_the_owner(
    app, client, owner_account
):
    attacker = app.test_client()
    for _ in range(3):
        assert log_in(attacker, password="wrong password", ip="203.0.113.5").status_code == 401
    response = log_in(client, ip=OWNER_IP)
    assert response.status_code == 303
    assert client.get("/owner/").status_code == 200


def test_fourteen_failures_from_rotating_addresses_never_refuse_a_known_device(app, owner_account):
    cookie = known_device_cookie(app)
    rotating_attack(app, 14)
    stranger = app.test_client()  # right password, but a browser never used before
    refused = log_in(stranger, ip="192.0.2.200")
    assert refused.status_code == 429
    assert re.search(r"Please wait \d+ seconds", refused.get_data(as_text=True))
    owner = app.test_client()
    owner.set_cookie("owner_device", cookie, path="/owner")
    assert log_in(owner, ip=OWNER_IP).status_code == 303
    assert owner.get("/owner/").status_code == 200


def test_a_forged_device_cookie_exempts_nobody(app, owner_account):
    cookie = known_device_cookie(app)
    rotating_attack(app, 12)
    forger = app.test_client()
    forger.set_cookie(
        "owner_device", cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"), path="/owner"
    )
    assert log_in(forger, ip="192.0.2.202").status_code == 429


def test_many_addresses_lock_out_unknown_devices_and_say_for_how_long(app, client, owner_account):
    failures_in_the_database(app, 30)
    response = log_in(client)
    assert response.status_code == 429
    assert "logging in is locked. Try again in 15 minutes" in response.get_data(as_text=True)


def test_failures_under_a_stolen_device_cookie_lock_only_that_device(app, owner_account):
    laptop_cookie = known_device_cookie(app)
    phone_cookie = known_device_cookie(app)
    statuses = rotating_attack(app, 10, cookie=laptop_cookie)  # a copy of the laptop's cookie
    assert set(statuses) == {401}  # a trusted device is not slowed, only counted
    rotating_attack(app, 10)
    thief = app.test_client()
    thief.set_cookie("owner_device", laptop_cookie, path="/owner")
    assert log_in(thief, password="one more guess", ip="192.0.2.99").status_code == 429
    phone = app.test_client()
    phone.set_cookie("owner_device", phone_cookie, path="/owner")
    assert log_in(phone, ip="192.0.2.98").status_code == 303


def test_with_two_factor_a_new_device_passes_the_account_wide_limit(app, client, two_factor):
    failures_in_the_database(app, 30)
    response = log_in(client, ip=OWNER_IP)
    assert response.status_code == 303
    assert response.headers["Location"] == "/owner/login/code"
    assert give_code(client, two_factor.code(), ip=OWNER_IP).status_code == 303
    assert client.get("/owner/").status_code == 200


def test_under_the_account_wide_limit_a_guess_learns_nothing_about_the_password(app, two_factor):
    failures_in_the_database(app, 30)
    answers = []
    for password in ("a wrong guess here", "correct horse battery staple"):
        attacker = app.test_client()
        step_one = log_in(attacker, password=password, ip="203.0.113.77")
        step_two = give_code(attacker, "000000", ip="203.0.113.77")
        page = attacker.get(step_two.headers["Location"]).get_data(as_text=True)
        flashed = re.search(r'<div class="flash" role="status">\s*<p>([^<]+)</p>', page).group(1)
        answers.append(
            (
                step_one.status_code,
                step_one.headers["Location"],
                step_two.status_code,
                step_two.headers["Location"],
                flashed,
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][-1] == "That password or code was not right. Please log in again."


def test_flask_owner_unlock_lifts_every_limit(app, client, runner, owner_account):
    rotating_attack(app, 14)
    assert log_in(client).status_code == 429
    result = runner.invoke(args=["owner", "unlock"])
    assert result.exit_code == 0, result.output
    assert "Cleared 10 failed login attempt(s) from 10 address(es)" in result.output
    assert log_in(client).status_code == 303


def test_a_failed_login_is_logged_with_the_address_never_the_typed_email(
    client, owner_account, caplog
):
    # The password typed into the email field by mistake must not reach the log.
    with caplog.at_level("INFO"):
        log_in(client, email="correct horse battery staple", password="oops", ip="203.0.113.9")
    failed = [r for r in caplog.records if "owner login failed" in r.getMessage()]
    assert failed and failed[0].levelname == "WARNING"
    assert "ip=203.0.113.9" in failed[0].getMessage()
    assert "correct horse" not in caplog.text and "oops" not in caplog.text


def test_a_login_is_logged_at_info_with_the_address(client, owner_account, caplog):
    with caplog.at_level("INFO"):
        log_in(client, ip="198.51.100.23")
    assert any(
        r.levelname == "INFO" and "owner logged in: ip=198.51.100.23" in r.getMessage()
        for r in caplog.records
    )


def test_the_known_device_cookie_is_httponly_samesite_and_kept_to_owner_pages(
    settings, owner_account
):
    settings["SESSION_COOKIE_SECURE"] = True  # as in production
    from app import create_app

    browser = create_app(settings).test_client()
    response = log_in(browser)
    header = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("owner_device=")
    )
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" in header
    assert "Path=/owner" in header
    assert int(re.search(r"Max-Age=(\d+)", header).group(1)) >= 300 * 24 * 3600


def test_attempts_are_recorded_without_the_password(app, client, owner_account):
    log_in(client, password="a secret wrong password")
    with app.app_context():
        rows = db.session.execute(select(LoginAttempt)).scalars().all()
        assert [(r.kind, r.succeeded, r.ip) for r in rows] == [("password", False, OWNER_IP)]
        values = [str(getattr(r, c.key)) for r in rows for c in LoginAttempt.__table__.columns]
    assert not any("a secret wrong password" in value for value in values)
