"""Logging in: the password step, then, with two-factor sign-in on, the code step.

Every step is throttled by domain/accounts/login_throttle.py and recorded (never the password or
code). A pending login (password right, code still to come) lives in the session and
names its password attempt; the attempt's own time bounds it, so it cannot be stretched.
Under the account-wide limit with two-factor on, a wrong password also goes on to the
code step and fails there, with the same answer as a wrong code: guessing the password
from many addresses then teaches nothing.
"""

from datetime import datetime

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from blueprints.owner import bp
from blueprints.owner.auth import SignedInOwner, client_ip, mark_seen, safe_next
from blueprints.owner.forms import CodeForm, LoginForm
from domain.accounts import known_devices
from domain.accounts.login_attempts import (
    code_counts,
    device_failures,
    password_counts,
    record_attempt,
)
from domain.accounts.login_throttle import code_decision, device_locked, password_decision
from domain.accounts.owners import (
    PENDING_LOGIN_LIFETIME,
    check_password,
    normalise,
    owner_by_email,
    start_session,
)
from domain.accounts.two_factor import recovery_codes_left, use_second_factor
from domain.booking.tokens import utc_now
from extensions import db, metrics
from models import LoginAttempt, Owner

PENDING_KEY = "pending_login"
NO_MATCH = "That email and password do not match."
NOT_RIGHT = "That password or code was not right. Please log in again."


# Why a login step failed: the metric's label, and the log's words.
FAILURES = {
    "throttled_password": "throttled, password not checked",
    "wrong_password": "wrong password",
    "wrong_password_hidden": "wrong password (not shown: account-wide limit)",
    "throttled_code": "throttled, code not checked",
    "wrong_code": "wrong code",
    "too_many_codes": "too many wrong codes for one password",
    "code_after_wrong_password": (
        "code step after a wrong password (not shown: account-wide limit)"
    ),
}


def log_failure(reason: str) -> None:
    # Never the password, and never the typed email: it may hold a mistyped password.
    metrics.count_login_failure(reason)
    current_app.logger.warning("owner login failed: %s; ip=%s", FAILURES[reason], client_ip())


def trusted_device(owner: Owner | None, now: datetime) -> str | None:
    """The id of this client's known-device cookie for `owner`, unless it is locked."""
    if owner is None:
        return None
    device = known_devices.read_device_cookie(
        current_app.secret_key, request.cookies.get(known_devices.COOKIE_NAME), owner.id, now
    )
    if device and device_locked(device_failures(db.session, device, now), now):
        return None
    return device


def render_login(form: LoginForm, status: int = 200):
    return render_template("owner/login.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("owner.dashboard"))
    if not form.validate_on_submit():
        return render_login(form, 400 if form.errors else 200)
    now = utc_now()
    account = normalise(form.email.data)
    owner = owner_by_email(db.session, account)
    two_factor = bool(owner and owner.totp_secret)
    device = trusted_device(owner, now)
    counts = password_counts(db.session, account, client_ip(), now)
    decision = password_decision(counts, now, known_device=bool(device), two_factor=two_factor)
    if decision.wait:
        log_failure("throttled_password")
        form.form_errors.append(decision.wait.message(now))
        return render_login(form, 429)
    ok = check_password(owner, form.password.data)
    attempt = record_attempt(
        db.session,
        "password",
        email=account,
        ip=client_ip(),
        now=now,
        succeeded=ok,
        completed=ok and not two_factor,
        device=device,
    )
    next_page = safe_next(request.args.get("next"))
    if ok and not two_factor:
        return finish_login(owner, now, next_page)
    db.session.commit()
    if ok or decision.hide_result:
        if not ok:
            log_failure("wrong_password_hidden")
        session[PENDING_KEY] = {
            "attempt": attempt.id,
            "hidden": decision.hide_result,
            "next": next_page,
        }
        return redirect(url_for("owner.login_code"), code=303)
    log_failure("wrong_password")
    form.form_errors.append(NO_MATCH)
    return render_login(form, 401)


def pending_attempt(now: datetime) -> LoginAttempt | None:
    pending = session.get(PENDING_KEY)
    attempt_id = pending.get("attempt") if isinstance(pending, dict) else None
    attempt = db.session.get(LoginAttempt, attempt_id) if isinstance(attempt_id, int) else None
    if attempt is None or attempt.kind != "password" or now - attempt.at > PENDING_LOGIN_LIFETIME:
        return None
    return attempt


def start_again(message: str):
    pending = session.pop(PENDING_KEY, None) or {}
    flash(message)
    return redirect(url_for("owner.login", next=pending.get("next")), code=303)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    if PENDING_KEY not in session:
        return redirect(url_for("owner.login"))
    form = CodeForm()
    now = utc_now()
    attempt = pending_attempt(now)
    if attempt is None:
        return start_again("That took too long. Please enter your password again.")
    if not form.validate_on_submit():
        return render_template("owner/login_code.html", form=form), 400 if form.errors else 200
    owner = owner_by_email(db.session, attempt.email)
    device = trusted_device(owner, now)
    counts = code_counts(db.session, attempt.email, client_ip(), attempt.id, now)
    decision = code_decision(counts, now, known_device=bool(device))
    if decision.start_again:
        log_failure("too_many_codes")
        return start_again("Too many wrong codes. Please log in again.")
    if decision.wait:
        log_failure("throttled_code")
        form.form_errors.append(decision.wait.message(now))
        return render_template("owner/login_code.html", form=form), 429
    if not attempt.succeeded or owner is None or not owner.totp_secret:
        log_failure("code_after_wrong_password")
        return start_again(NOT_RIGHT)
    used = use_second_factor(db.session, owner, form.code.data, now)
    record_attempt(
        db.session,
        "code",
        email=attempt.email,
        ip=client_ip(),
        now=now,
        succeeded=bool(used),
        completed=bool(used),
        device=device,
        pending_id=attempt.id,
    )
    if used:
        if used == "recovery":
            left = recovery_codes_left(db.session, owner)
            flash(f"You used a recovery code: {left} left. Make new ones under Security.")
        return finish_login(owner, now, session[PENDING_KEY].get("next"))
    db.session.commit()
    log_failure("wrong_code")
    if session[PENDING_KEY].get("hidden"):
        return start_again(NOT_RIGHT)
    form.code.errors.append("That code is not right. Try the newest code from your app.")
    return render_template("owner/login_code.html", form=form), 401


def finish_login(owner: Owner, now: datetime, next_page: str | None):
    """A new session for the owner, and a new known-device cookie for this browser."""
    start_session(owner)
    db.session.commit()
    flashed = session.get("_flashes", [])
    session.clear()  # a new session at login: nothing from before carries over
    session.permanent = False  # a browser-session cookie; the server keeps the idle limit
    login_user(SignedInOwner(owner))
    mark_seen(now)
    for category, message in flashed:
        flash(message, category)
    current_app.logger.info("owner logged in: ip=%s", client_ip())
    response = redirect(safe_next(next_page), code=303)
    value, _device = known_devices.issue_device_cookie(current_app.secret_key, owner.id, now)
    response.set_cookie(
        known_devices.COOKIE_NAME,
        value,
        max_age=int(known_devices.MAX_AGE.total_seconds()),
        path=known_devices.COOKIE_PATH,
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
    )
    return response
