"""`/healthz`: the process is alive and the database answers."""

from flask import jsonify
from sqlalchemy import text

from blueprints.ops import bp
from extensions import db


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
