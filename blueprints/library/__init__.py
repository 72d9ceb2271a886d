"""The Intelligence Library: the article list, articles and topics."""

from flask import Blueprint

bp = Blueprint("library", __name__)

from blueprints.library import routes  # noqa: E402,F401  (routes attach to bp)
from blueprints.library.cli import content_cli  # noqa: E402,F401  (registered in app.py)
