"""Library pages. Articles come from the in-memory library built at start-up."""

from flask import abort, current_app, make_response, render_template, request

from blueprints.library import bp
from domain.content.counters import is_crawler
from domain.content.library import Library


def current_library() -> Library:
    return current_app.extensions["library"]


@bp.get("/")
def index():
    library = current_library()
    return render_template("library/index.html", articles=library.articles, topics=library.topics)


@bp.get("/library/<slug>")
def article(slug: str):
    found = current_library().article(slug)
    if found is None:
        abort(404)
    count_view(found.slug)
    etag = f"{found.fingerprint}-{current_app.config['PAGE_FINGERPRINT']}"
    if request.if_none_match.contains_weak(etag):
        response = current_app.response_class(status=304)
    else:
        response = make_response(render_template("library/article.html", article=found))
    response.set_etag(etag)
    # Revalidate every time: the 304 is cheap and each view is still counted.
    response.cache_control.no_cache = True
    response.cache_control.public = True
    return response


@bp.get("/library/topics/<topic_slug>")
def topic(topic_slug: str):
    found = current_library().topic(topic_slug)
    if found is None:
        abort(404)
    return render_template("library/topic.html", topic=found)


def count_view(slug: str) -> None:
    if not is_crawler(request.user_agent.string):
        current_app.extensions["counters"].add(slug, "views")
