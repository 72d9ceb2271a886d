"""`/owner/availability`: the owner's booking rules (filled in by the dashboard work)."""

from flask import render_template

from blueprints.owner import bp


@bp.route("/availability", methods=["GET", "POST"])
def availability():
    return render_template("owner/dashboard.html")
