"""`/sitemap.xml`, `/feed.xml` and `/robots.txt`, built from the content library, and
`/.well-known/security.txt` (RFC 9116), which says where to report a vulnerability."""

from datetime import UTC, datetime, time, timedelta

from flask import current_app, render_template, url_for

from blueprints.seo import bp


def library():
    return current_app.extensions["library"]


def as_utc_datetime(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def xml_response(template: str, mimetype: str, **context):
    body = render_template(template, **context)
    response = current_app.response_class(body, mimetype=mimetype)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


def text_response(lines: list[str]):
    response = current_app.response_class("\n".join(lines) + "\n", mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/sitemap.xml")
def sitemap():
    content = library()
    newest = max((a.updated for a in content.articles), default=None)
    return xml_response("seo/sitemap.xml", "application/xml", content=content, newest=newest)


@bp.get("/feed.xml")
def feed():
    content = library()
    newest = max((a.updated for a in content.articles), default=datetime.now(UTC).date())
    return xml_response(
        "seo/feed.xml",
        "application/atom+xml",
        articles=content.articles,
        updated=as_utc_datetime(newest),
        as_utc_datetime=as_utc_datetime,
    )


@bp.get("/robots.txt")
def robots():
    site = current_app.config["SITE_URL"]
    lines = [
        "User-agent: *",
        "Disallow: /owner/",
        "Disallow: /booking/",
        "",
        f"Sitemap: {site}{url_for('seo.sitemap')}",
    ]
    return text_response(lines)


@bp.get("/.well-known/security.txt")
def security_txt():
    config = current_app.config
    contact = config.get("SECURITY_CONTACT") or config["OWNER_EMAIL"]
    expires = (datetime.now(UTC) + timedelta(days=365)).replace(microsecond=0)
    lines = [
        f"Contact: {contact if ':' in contact else 'mailto:' + contact}",
        f"Expires: {expires.isoformat().replace('+00:00', 'Z')}",
        "Preferred-Languages: en",
        f"Canonical: {config['SITE_URL']}{url_for('seo.security_txt')}",
    ]
    return text_response(lines)
