"""Operations: health checks for load balancers and orchestrators, and Prometheus metrics."""

from flask import Blueprint

bp = Blueprint("ops", __name__)

from blueprints.ops import routes  # noqa: E402,F401  (routes attach to bp)
