"""For search engines and feed readers: sitemap, Atom feed, robots.txt."""

from flask import Blueprint

bp = Blueprint("seo", __name__)

from blueprints.seo import routes  # noqa: E402,F401  (routes attach to bp)
