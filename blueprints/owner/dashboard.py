"""`/owner/`: the dashboard (filled in by the dashboard work)."""

from flask import render_template

from blueprints.owner import bp


@bp.get("/")
def dashboard():
    return render_template("owner/dashboard.html")
