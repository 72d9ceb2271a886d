"""Operations: health checks for load balancers, orchestrators and monitors."""

from flask import Blueprint

bp = Blueprint("ops", __name__)

from blueprints.ops import routes  # noqa: E402,F401  (routes attach to bp)
