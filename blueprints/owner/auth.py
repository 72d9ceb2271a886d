"""Logging in and out, and the rule that every /owner/ page needs the owner.

The session names the owner and the owner's current session token; logging in or out
replaces the token in the database, so an old session cookie stops working at once.
"""

from flask import current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from blueprints.owner import bp
from blueprints.owner.forms import ActionForm, LoginForm
from domain.owners import authenticate, current_wait, end_sessions
from domain.tokens import utc_now
from extensions import db, login_manager
from models import Owner

PUBLIC_ENDPOINTS = {"owner.login"}
DATA_ENDPOINTS = {"owner.leads_csv", "owner.lead_json"}  # answered 401, not a redirect


class SignedInOwner:
    """What Flask-Login keeps for the owner: the row and the session token it was issued."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, owner: Owner):
        self.owner = owner

    def get_id(self) -> str:
        return f"{self.owner.id}:{self.owner.session_token}"


@login_manager.user_loader
def load_owner(session_id: str):
    owner_id, _, token = session_id.partition(":")
    owner = db.session.get(Owner, int(owner_id)) if owner_id.isdigit() else None
    if owner is None or not token or owner.session_token != token:
        return None
    return SignedInOwner(owner)


@bp.before_request
def require_owner():
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.endpoint in DATA_ENDPOINTS:
        return jsonify(error="login required"), 401
    return redirect(url_for("owner.login", next=request.full_path.rstrip("?")))


@bp.after_request
def keep_private(response):
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.cache_control.no_store = True
    response.cache_control.private = True
    return response


def client_ip() -> str:
    return request.remote_addr or "unknown"


def safe_next(target: str | None) -> str:
    if target and target.startswith("/owner") and not target.startswith("//"):
        return target
    return url_for("owner.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("owner.dashboard"))
    if not form.validate_on_submit():
        return render_template("owner/login.html", form=form), 400 if form.errors else 200
    now = utc_now()
    wait = current_wait(db.session, form.email.data, client_ip(), now)
    if wait:
        current_app.logger.warning(
            "owner login refused while throttled: email=%r ip=%s", form.email.data, client_ip()
        )
        form.form_errors.append(wait.message(now))
        return render_template("owner/login.html", form=form), 429
    owner = authenticate(db.session, form.email.data, form.password.data, client_ip(), now)
    db.session.commit()
    if owner is None:
        current_app.logger.warning(
            "owner login failed: email=%r ip=%s", form.email.data, client_ip()
        )
        form.form_errors.append("That email and password do not match.")
        return render_template("owner/login.html", form=form), 401
    next_page = safe_next(request.args.get("next"))
    session.clear()  # a new session at login: nothing from before carries over
    login_user(SignedInOwner(owner))
    current_app.logger.info("owner logged in: ip=%s", client_ip())
    return redirect(next_page, code=303)


@bp.post("/logout")
def logout():
    if not ActionForm().validate_on_submit():
        return redirect(url_for("owner.dashboard"), code=303)
    end_sessions(current_user.owner)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("owner.login"), code=303)
