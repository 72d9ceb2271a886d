"""Where a visitor came from: first touch, last touch and the articles read this visit.

The state is a small dict kept in the visitor's signed session cookie and copied onto the
lead when they book. A visit ends after 30 quiet minutes or when a link with UTM tags
starts a new one; the first touch is kept for as long as the cookie lives.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from domain.platform.text_input import printable_text

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
VISIT_TIMEOUT = timedelta(minutes=30)
# "Last seen" moves in steps of a minute, so a reader's cookie is not re-sent on every page.
SEEN_STEP = timedelta(minutes=1)
MAX_ARTICLES = 20
MAX_CTA_CLICKS = 20
MAX_VALUE_LENGTH = 200


def clean(value: str | None) -> str:
    """A value from a URL or a header, on one line and without control characters: it is
    nobody's typing to correct, so it is cleaned, never refused."""
    return printable_text(value or "")[:MAX_VALUE_LENGTH]


def external_referrer(referrer: str | None, own_host: str) -> str:
    """The referrer when it is another site; moves within this site are not sources."""
    if not referrer:
        return ""
    host = urlsplit(referrer).hostname or ""
    return "" if host == own_host.split(":")[0] else clean(referrer)


def touch(args: Mapping[str, str], referrer: str, path: str, now: datetime) -> dict[str, str]:
    found = {key: clean(args.get(key)) for key in UTM_KEYS if args.get(key)}
    return {**found, "referrer": referrer, "landing": clean(path), "at": now.isoformat()}


def track_visit(
    state: Mapping | None,
    *,
    args: Mapping[str, str],
    referrer: str | None,
    path: str,
    own_host: str,
    now: datetime,
    article_slug: str | None = None,
) -> dict:
    """The visitor's next attribution state after this page view."""
    state = dict(state or {})
    source = external_referrer(referrer, own_host)
    campaign = any(args.get(key) for key in UTM_KEYS)
    if campaign or "last" not in state or visit_expired(state, now):
        state["last"] = touch(args, source, path, now)
        state["articles"] = []
        state["cta"] = []  # articles whose call to action was followed this visit
    state.setdefault("first", state["last"])
    if article_slug and article_slug not in state["articles"]:
        state["articles"] = [*state["articles"], article_slug][-MAX_ARTICLES:]
    if visit_expired(state, now, SEEN_STEP):
        state["seen"] = now.isoformat()
    return state


def visit_expired(state: Mapping, now: datetime, after: timedelta = VISIT_TIMEOUT) -> bool:
    try:
        return now - datetime.fromisoformat(state["seen"]) > after
    except (KeyError, TypeError, ValueError):
        return True


def with_cta_click(state: Mapping | None, slug: str) -> dict | None:
    """The visit with `slug`'s call to action followed, or None when this visit followed it
    already: one click per article per visit, however often the page reloads."""
    state = dict(state or {})
    clicked = state.get("cta", [])
    if slug in clicked:
        return None
    return {**state, "cta": [*clicked, slug][-MAX_CTA_CLICKS:]}


def attribution_record(state: Mapping | None, source_article: str | None) -> dict:
    """What is stored with a booking: both touches, articles read, the source article."""
    state = state or {}
    articles = list(state.get("articles", []))
    if source_article and source_article not in articles:
        articles.append(source_article)
    return {
        "first_touch": dict(state.get("first", {})),
        "last_touch": dict(state.get("last", {})),
        "articles_read": articles,
        "source_article": source_article,
    }
