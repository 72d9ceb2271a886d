"""`/owner/leads`: the lead list, one lead, the CSV export (filled in by the leads work)."""

from flask import render_template

from blueprints.owner import bp


@bp.get("/leads")
def leads():
    return render_template("owner/dashboard.html")
