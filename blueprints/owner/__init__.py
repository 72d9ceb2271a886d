"""The owner's dashboard: login, leads, availability, funnel, security. Everything but the
login needs login."""

from flask import Blueprint

bp = Blueprint("owner", __name__, url_prefix="/owner")

from blueprints.owner import (  # noqa: E402,F401
    auth,
    availability,
    calendar_feed,
    calendars,
    dashboard,
    lead_detail,
    leads,
    location,
    login,
    security,
    times,
)
from blueprints.owner.calendar_cli import calendar_cli  # noqa: E402,F401  (registered in app.py)
from blueprints.owner.cli import owner_cli  # noqa: E402,F401  (registered in app.py)
