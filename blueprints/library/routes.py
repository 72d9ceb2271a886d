"""Library pages. Articles come from the in-memory library built at start-up."""

from flask import abort, current_app, make_response, render_template, request, url_for
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from blueprints.library import bp
from domain.content.counters import is_crawler
from domain.content.library import Article, Library
from domain.content.share_card import HEIGHT, WIDTH, CardText, ShareCards
from domain.content.static_versions import IMMUTABLE


@bp.record_once
def keep_share_cards(state) -> None:
    state.app.extensions["share_cards"] = ShareCards()


@bp.app_template_filter()
def compact_json(data) -> Markup:
    """`tojson` without the spaces after , and : (the article page has a byte budget)."""
    return htmlsafe_json_dumps(data, separators=(",", ":"), ensure_ascii=False)


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
        page = render_template("library/article.html", article=found, share=share_image(found))
        response = make_response(page)
    response.set_etag(etag)
    # Revalidate every time: the 304 is cheap and each view is still counted.
    response.cache_control.no_cache = True
    response.cache_control.public = True
    return response


@bp.get("/library/<slug>/card.png")
def card(slug: str):
    found = current_library().article(slug)
    if found is None:
        abort(404)
    text = card_text(found)
    if request.if_none_match.contains(text.version):
        response = current_app.response_class(status=304)
    else:
        body = current_app.extensions["share_cards"].card(found.slug, text)
        response = current_app.response_class(body, mimetype="image/png")
    response.set_etag(text.version)
    if request.args.get("v") == text.version:
        response.headers["Cache-Control"] = IMMUTABLE
    else:  # an old or missing version: the picture may have changed since that link
        response.cache_control.no_cache = True
        response.cache_control.public = True
    return response


def card_text(article: Article) -> CardText:
    return CardText(article.title, article.topic, current_app.config["SITE_NAME"])


def share_image(article: Article) -> dict:
    """What a sharing preview shows: the front matter's picture, or else the title card."""
    site = current_app.config["SITE_URL"]
    if article.image is not None:
        return {
            "url": site + url_for("static", filename=article.image.path),
            "width": article.image.width,
            "height": article.image.height,
            "alt": article.image.alt,
            "type": article.image.mimetype,
        }
    version = card_text(article).version
    return {
        "url": site + url_for("library.card", slug=article.slug, v=version),
        "width": WIDTH,
        "height": HEIGHT,
        "alt": article.title,
        "type": "image/png",
    }


@bp.get("/library/topics/<topic_slug>")
def topic(topic_slug: str):
    found = current_library().topic(topic_slug)
    if found is None:
        abort(404)
    return render_template("library/topic.html", topic=found)


def count_view(slug: str) -> None:
    if not is_crawler(request.user_agent.string):
        current_app.extensions["counters"].add(slug, "views")
