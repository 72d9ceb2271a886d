"""Two-factor sign-in for the owner: set-up on /owner/security with a QR code drawn on the
server, the code step at every login, one-time codes, recovery codes, the code step's
limits, and `flask owner 2fa-reset`."""

import html
import re
from datetime import timedelta

import pyotp
from sqlalchemy import select

from extensions import db
from models import LoginAttempt, Owner, RecoveryCode
from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD, give_code, log_in


def set_up_two_factor(owner_client) -> tuple[str, str]:
    """Start the set-up on the security page; the page and the key it shows."""
    assert owner_client.post("/owner/security/setup").status_code == 303
    page = owner_client.get("/owner/security").get_data(as_text=True)
    key = re.search(r'<code class="totp-key">([A-Z2-7 ]+)</code>', page).group(1)
    return page, key.replace(" ", "")


def flashed(client, response) -> str:
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return html.unescape(re.search(r'class="flash" role="status">\s*<p>([^<]+)', page).group(1))


def test_the_security_page_shows_a_qr_code_drawn_on_the_server_and_the_key(owner):
    assert "Two-factor sign-in is off" in owner.get("/owner/security").get_data(as_text=True)
    page, key = set_up_two_factor(owner)
    svg = re.search(r"<svg[^>]*class=\"qr-code\".*?</svg>", page, re.S).group(0)
    assert "<title>" in svg
    assert "style" not in page.lower().replace("stylesheet", "")  # nothing the CSP blocks
    assert len(key) == 32


def test_two_factor_turns_on_only_with_a_right_first_code_and_shows_recovery_codes_once(app, owner):
    _page, key = set_up_two_factor(owner)
    wrong = owner.post("/owner/security/confirm", data={"code": "000000"})
    assert wrong.status_code == 400
    assert 'id="code-error"' in wrong.get_data(as_text=True)
    right = owner.post("/owner/security/confirm", data={"code": pyotp.TOTP(key).now()})
    assert right.status_code == 200
    codes = re.findall(
        r"<code>([A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})</code>", right.get_data(as_text=True)
    )
    assert len(set(codes)) == 10
    with app.app_context():
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and not set(codes) & set(hashes)
    page = owner.get("/owner/security").get_data(as_text=True)
    assert "Two-factor sign-in is on" in page and "10 of 10" in page
    assert not any(code in page for code in codes)  # shown once only


def test_turning_it_on_ends_a_stolen_copy_of_the_session(app, owner):
    stolen = app.test_client()
    stolen.set_cookie("session", owner.get_cookie("session").value)
    assert stolen.get("/owner/").status_code == 200
    _page, key = set_up_two_factor(owner)
    owner.post("/owner/security/confirm", data={"code": pyotp.TOTP(key).now()})
    assert owner.get("/owner/").status_code == 200
    assert stolen.get("/owner/").status_code == 302


def test_with_two_factor_on_the_password_alone_signs_nobody_in(client, two_factor):
    response = log_in(client)
    assert response.headers["Location"] == "/owner/login/code"
    assert client.get("/owner/").status_code == 302
    assert "Enter a code" in client.get("/owner/login/code").get_data(as_text=True)


def test_the_code_step_signs_in_and_keeps_the_page_asked_for(client, two_factor):
    log_in(client, query_string={"next": "/owner/leads?status=new"})
    response = give_code(client, two_factor.code())
    assert response.status_code == 303
    assert response.headers["Location"] == "/owner/leads?status=new"
    assert client.get("/owner/").status_code == 200


def test_a_code_signs_in_once_only(app, client, two_factor):
    code = two_factor.code()
    log_in(client)
    assert give_code(client, code).status_code == 303
    replay = app.test_client()  # someone who saw the code over the owner's shoulder
    log_in(replay)
    response = give_code(replay, code)
    assert response.status_code == 401
    assert "That code is not right" in response.get_data(as_text=True)
    assert replay.get("/owner/").status_code == 302


def test_a_recovery_code_signs_in_once_and_the_owner_is_told_how_many_are_left(
    app, client, two_factor
):
    code = two_factor.recovery_codes[3].lower().replace("-", " ")
    log_in(client)
    response = give_code(client, code)
    assert response.status_code == 303
    assert "You used a recovery code: 9 left." in flashed(client, response)
    assert "9 of 10" in client.get("/owner/security").get_data(as_text=True)
    again = app.test_client()
    log_in(again)
    assert give_code(again, code).status_code == 401


def test_a_pending_login_expires_after_five_minutes(app, client, two_factor):
    log_in(client)
    with app.app_context():
        attempt = db.session.scalars(select(LoginAttempt)).one()
        attempt.at -= timedelta(minutes=6)  # the password was given six minutes ago
        db.session.commit()
    response = give_code(client, two_factor.code())
    assert response.headers["Location"].startswith("/owner/login")
    assert "took too long" in flashed(client, response)
    assert client.get("/owner/").status_code == 302


def test_five_wrong_codes_send_the_login_back_to_the_password(client, two_factor):
    log_in(client)
    for _ in range(5):
        assert give_code(client, "000000").status_code == 401
    response = give_code(client, two_factor.code())  # even the right one: the tries are used
    assert response.status_code == 303 and response.headers["Location"].startswith("/owner/login")
    assert "Too many wrong codes" in flashed(client, response)
    assert client.get("/owner/").status_code == 302


def test_wrong_codes_from_many_addresses_slow_strangers_but_not_a_known_device(app, two_factor):
    laptop = app.test_client()
    log_in(laptop)
    give_code(laptop, two_factor.code())
    laptop.post("/owner/logout")
    for n in range(5):  # someone who knows the password, guessing codes from many places
        thief = app.test_client()
        log_in(thief, ip=f"203.0.113.{n + 1}")
        assert give_code(thief, "000000", ip=f"203.0.113.{n + 1}").status_code == 401
    stranger = app.test_client()
    log_in(stranger, ip="192.0.2.50")
    slowed = give_code(stranger, two_factor.next_code(), ip="192.0.2.50")
    assert slowed.status_code == 429
    assert re.search(r"Please wait \d+ seconds", slowed.get_data(as_text=True))
    log_in(laptop)
    assert give_code(laptop, two_factor.next_code()).status_code == 303


def test_new_recovery_codes_need_the_password_or_a_current_code(client, two_factor):
    log_in(client)
    give_code(client, two_factor.code())
    refused = client.post("/owner/security/recovery-codes", data={"codes-proof": "not it at all"})
    assert refused.status_code == 401
    assert 'id="codes-proof-error"' in refused.get_data(as_text=True)
    made = client.post("/owner/security/recovery-codes", data={"codes-proof": OWNER_PASSWORD})
    assert made.status_code == 200
    new_codes = re.findall(r"<code>([A-Z2-7-]{19})</code>", made.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(two_factor.recovery_codes)
    client.post("/owner/logout")
    log_in(client)
    assert give_code(client, two_factor.recovery_codes[0]).status_code == 401  # old ones gone


def test_turning_two_factor_off_needs_the_password_or_a_current_code(app, client, two_factor):
    log_in(client)
    give_code(client, two_factor.code())
    assert client.post("/owner/security/turn-off", data={"off-proof": "123456"}).status_code == 401
    response = client.post("/owner/security/turn-off", data={"off-proof": two_factor.next_code()})
    assert response.status_code == 303
    assert "Two-factor sign-in is off" in flashed(client, response)
    with app.app_context():
        assert db.session.scalar(select(Owner.totp_secret)) is None
        assert db.session.scalars(select(RecoveryCode)).all() == []


def test_guessing_the_password_on_the_security_page_is_throttled(client, two_factor):
    """A borrowed, signed-in browser cannot try passwords there without limit."""
    log_in(client)
    give_code(client, two_factor.code())
    for n in range(10):
        client.post("/owner/security/turn-off", data={"off-proof": f"guess number {n}"})
    response = client.post("/owner/security/turn-off", data={"off-proof": OWNER_PASSWORD})
    assert response.status_code == 429
    assert "Too many wrong answers" in response.get_data(as_text=True)


def test_flask_owner_2fa_reset_turns_it_off_and_ends_every_session(app, client, runner, two_factor):
    log_in(client)
    give_code(client, two_factor.code())
    result = runner.invoke(args=["owner", "2fa-reset", OWNER_EMAIL.upper()])
    assert result.exit_code == 0, result.output
    assert "Two-factor sign-in is off" in result.output
    assert client.get("/owner/").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Owner.totp_secret)) is None
        assert db.session.scalars(select(RecoveryCode)).all() == []
    assert log_in(client).headers["Location"] == "/owner/"
    unknown = runner.invoke(args=["owner", "2fa-reset", "nobody@example.test"])
    assert unknown.exit_code == 1


def test_the_code_step_without_a_password_goes_back_to_the_login(client, two_factor):
    response = give_code(client, two_factor.code())
    assert response.status_code == 302 and response.headers["Location"] == "/owner/login"
