"""Booking a strategy call: slots, the lead form, confirmation, reschedule and cancel."""

from flask import Blueprint

bp = Blueprint("booking", __name__)

from blueprints.booking import expired_form, manage, routes  # noqa: E402,F401  (routes attach to bp)
from blueprints.booking.helpers import register_template_helpers  # noqa: E402

register_template_helpers(bp)
from blueprints.booking.cli import availability_cli  # noqa: E402,F401
from blueprints.booking.outbox_cli import outbox_cli  # noqa: E402,F401
