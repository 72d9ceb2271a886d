"""`/owner/security`: two-factor sign-in — set up with a QR code and a first code, recovery
codes shown once, new recovery codes and turning it off (each asks for the password or a
current code again, throttled like a login)."""

from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_user
from markupsafe import Markup

from blueprints.owner import bp
from blueprints.owner.auth import SignedInOwner, client_ip
from blueprints.owner.forms import ActionForm, ConfirmTwoFactorForm, ReauthForm
from domain.accounts.login_attempts import reauth_failures, record_attempt
from domain.accounts.login_throttle import reauth_wait
from domain.accounts.owners import check_password, end_sessions
from domain.accounts.two_factor import (
    RECOVERY_CODE_COUNT,
    begin_setup,
    compact,
    confirm_setup,
    grouped,
    provisioning_uri,
    qr_svg,
    recovery_codes_left,
    replace_recovery_codes,
    turn_off,
    use_totp,
)
from domain.booking.availability import load_values
from domain.booking.tokens import utc_now
from extensions import db
from models import Owner


def render_security(owner: Owner, status: int = 200, **forms):
    setup = None
    if not owner.totp_secret and owner.totp_pending_secret:
        uri = provisioning_uri(
            owner.totp_pending_secret, owner.email, current_app.config["SITE_NAME"]
        )
        # segno's own markup, from our secret and the owner's email: no visitor input.
        setup = {"qr": Markup(qr_svg(uri)), "secret": grouped(owner.totp_pending_secret)}
    return render_template(
        "owner/security.html",
        owner=owner,
        zone=load_values(db.session).timezone,
        setup=setup,
        codes_left=recovery_codes_left(db.session, owner) if owner.totp_secret else 0,
        code_count=RECOVERY_CODE_COUNT,
        action_form=ActionForm(),
        confirm_form=forms.get("confirm_form") or ConfirmTwoFactorForm(),
        codes_form=forms.get("codes_form") or ReauthForm(prefix="codes"),
        off_form=forms.get("off_form") or ReauthForm(prefix="off"),
    ), status


def render_codes(codes: list[str], turned_on: bool):
    return render_template("owner/recovery_codes.html", codes=codes, turned_on=turned_on)


def back_to_security():
    return redirect(url_for("owner.security"), code=303)


@bp.get("/security")
def security():
    return render_security(current_user.owner)


@bp.post("/security/setup")
def security_setup():
    if not ActionForm().validate_on_submit():
        abort(400)
    owner = current_user.owner
    if not owner.totp_secret:
        begin_setup(owner)
        db.session.commit()
    return redirect(url_for("owner.security", _anchor="set-up"), code=303)


@bp.post("/security/confirm")
def security_confirm():
    owner = current_user.owner
    form = ConfirmTwoFactorForm()
    if owner.totp_secret:
        return back_to_security()
    if not form.validate_on_submit():
        return render_security(owner, 400, confirm_form=form)
    now = utc_now()
    codes = confirm_setup(db.session, owner, form.code.data, now)
    if codes is None:
        form.code.errors.append("That code is not right. Try the newest code from your app.")
        return render_security(owner, 400, confirm_form=form)
    end_sessions(owner)  # any other session must now log in with the second factor
    db.session.commit()
    login_user(SignedInOwner(owner))  # this one carries on with the new token
    current_app.logger.info("owner turned two-factor sign-in on: ip=%s", client_ip())
    return render_codes(codes, turned_on=True)


def proves_owner(owner: Owner, proof: str, now: datetime) -> bool:
    code = compact(proof)
    if len(code) == 6 and code.isdigit():
        return use_totp(db.session, owner, code, now)
    return check_password(owner, proof)


def refused(form: ReauthForm, owner: Owner) -> int | None:
    """None when the form proves the owner again; else the status of the refusal."""
    if not form.validate_on_submit():
        return 400
    now = utc_now()
    wait = reauth_wait(reauth_failures(db.session, owner.email, now), now)
    if wait:
        form.proof.errors.append(f"Too many wrong answers. Try again in {wait.span(now)}.")
        return 429
    ok = proves_owner(owner, form.proof.data, now)
    record_attempt(db.session, "reauth", email=owner.email, ip=client_ip(), now=now, succeeded=ok)
    if ok:
        return None
    db.session.commit()
    current_app.logger.warning("owner re-authentication failed: ip=%s", client_ip())
    form.proof.errors.append("That is neither your password nor a current code from your app.")
    return 401


@bp.post("/security/recovery-codes")
def security_recovery_codes():
    owner = current_user.owner
    form = ReauthForm(prefix="codes")
    if not owner.totp_secret:
        return back_to_security()
    status = refused(form, owner)
    if status:
        return render_security(owner, status, codes_form=form)
    codes = replace_recovery_codes(db.session, owner, utc_now())
    db.session.commit()
    return render_codes(codes, turned_on=False)


@bp.post("/security/turn-off")
def security_turn_off():
    owner = current_user.owner
    form = ReauthForm(prefix="off")
    if not owner.totp_secret:
        return back_to_security()
    status = refused(form, owner)
    if status:
        return render_security(owner, status, off_form=form)
    turn_off(db.session, owner)
    db.session.commit()
    current_app.logger.warning("owner turned two-factor sign-in off: ip=%s", client_ip())
    flash("Two-factor sign-in is off. Your recovery codes no longer work.")
    return back_to_security()
