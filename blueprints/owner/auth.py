"""The rules of the owner's session, and logging out.

The session names the owner and the owner's current session token; logging in or out
replaces the token in the database, so an old session cookie stops working at once. The
session cookie lasts as long as the browser session, and the server ends it after
IDLE_LIMIT without an owner page (domain/accounts/owners.py).
"""

from datetime import UTC, datetime

from flask import flash, jsonify, redirect, request, session, url_for
from flask_login import current_user, logout_user

from blueprints.owner import bp
from blueprints.owner.forms import ActionForm
from domain.accounts.owners import end_sessions, seen_mark_due, session_idle
from domain.booking.tokens import utc_now
from domain.platform.text_input import is_clean
from extensions import db, login_manager
from models import Owner

# The calendar feed has no login: calendar apps cannot log in, and its secret is the key.
PUBLIC_ENDPOINTS = {"owner.login", "owner.login_code", "owner.calendar_feed"}
DATA_ENDPOINTS = {"owner.leads_csv", "owner.lead_json"}  # answered 401, not a redirect
SEEN_KEY = "owner_seen"  # when the session last showed an owner page (epoch seconds)


class SignedInOwner:
    """What Flask-Login keeps for the owner: the row and the session token it was issued."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, owner: Owner):
        self.owner = owner

    def get_id(self) -> str:
        return f"{self.owner.id}:{self.owner.session_token}"


def seen_at() -> datetime | None:
    value = session.get(SEEN_KEY)
    return datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else None


def mark_seen(now: datetime) -> None:
    session[SEEN_KEY] = int(now.timestamp())


@login_manager.user_loader
def load_owner(session_id: str):
    owner_id, _, token = session_id.partition(":")
    owner = db.session.get(Owner, int(owner_id)) if owner_id.isdigit() else None
    if owner is None or not token or owner.session_token != token:
        return None
    now, seen = utc_now(), seen_at()
    if session_idle(seen, now):
        return None
    if seen_mark_due(seen, now):  # else the cookie would be sent back with every page
        mark_seen(now)
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
    """`target` if it is a page of the owner's site on this host, else the dashboard.

    A line break would reach the Location header (werkzeug refuses it with a 500), so any
    control character sends the owner to the dashboard instead.
    """
    if not target or not is_clean(target) or "\\" in target:
        return url_for("owner.dashboard")
    path = target.split("?", 1)[0].split("#", 1)[0]
    if path == "/owner" or path.startswith("/owner/"):
        return target
    return url_for("owner.dashboard")


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
