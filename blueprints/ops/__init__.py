"""Operations: health checks for load balancers and orchestrators, Prometheus metrics,
and database backups."""

from flask import Blueprint

bp = Blueprint("ops", __name__)

from blueprints.ops import routes  # noqa: E402,F401  (routes attach to bp)
from blueprints.ops.backup_cli import backup_cli  # noqa: E402,F401  (registered in app.py)
