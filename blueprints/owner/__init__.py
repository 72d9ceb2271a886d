"""The owner's dashboard: login, leads, availability, funnel. Everything needs login."""

from flask import Blueprint

bp = Blueprint("owner", __name__, url_prefix="/owner")

from blueprints.owner import auth, availability, dashboard, lead_detail, leads  # noqa: E402,F401
from blueprints.owner.cli import owner_cli  # noqa: E402,F401  (registered in app.py)
