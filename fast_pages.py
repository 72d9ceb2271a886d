"""Pages served before Flask's routing and session machinery.

`FastPages` holds what such a page needs to answer exactly as Flask would, on the WSGI
environ: the session cookie (made once a second for readers without one, not decoded
again while it needs no change), the request id, the JSON request line, the latency
metric and the counters' flush. It hands a request to Flask whenever it cannot be sure
of that: another method or page, an owner's session, a session Flask-Login would clear,
a remember-me cookie or an Authorization header, trusted-host checks, or a page not
answered yet by this process. Two pages use it: articles here, and booking's step one
and its times fragment (fast_picker.py).

`FastArticlePages` answers `GET /library/<slug>` from the page cache
(domain/content/page_cache.py) with what the full path would have sent: the same body
and headers, the same view count, the same first-touch and articles-read session cookie.
A page Flask renders for a reader is kept on the way out, so the first reader of each
article after a deploy pays for the template and every later one does not.
"""

import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask
from flask.sessions import SessionMixin
from werkzeug.http import dump_cookie

from domain.content.counters import is_crawler
from domain.content.page_cache import CachedPage, PageCache, cached_page
from domain.leads.attribution import SEEN_STEP, VISIT_TIMEOUT, track_visit, with_cta_click
from domain.platform.request_log import RequestLines, request_id_from

REQUEST_LOG = logging.getLogger("app.requests")
ARTICLE_PREFIX = "/library/"
ENDPOINT = "library.article"
NOT_MODIFIED = "304 NOT MODIFIED"
OK = "200 OK"
# What a page view does to the visitor's session: it changes the session in place and
# returns the counters to add, (slug, column) each, or None when only Flask can tell.
Touch = Callable[[SessionMixin, object], tuple | None]
# (Set-Cookie values, counters to add) for one request.
Visit = tuple[list[str], tuple]


class SessionCookies:
    """What Flask's session interface writes on a response, without building a Response."""

    def __init__(self, app: Flask):
        self.app = app
        self.cookies: list[str] = []
        self.vary: set[str] = set()  # Vary: Cookie is in the kept headers already

    def set_cookie(self, key: str, value: str = "", **options) -> None:
        max_size = self.app.config["MAX_COOKIE_SIZE"]
        self.cookies.append(dump_cookie(key, value, max_size=max_size, **options))

    def delete_cookie(self, key: str, **options) -> None:
        self.set_cookie(key, expires=0, max_age=0, **options)


class FastPages:
    """The per-request work is kept to dictionary lookups on the WSGI environ: no Request
    object, and no session decode for a reader without a session cookie (the first-touch
    cookie is made once a second per referrer and URL)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.config = app.config
        self.wsgi_app = wsgi_app
        self.first_visits = FirstVisitCookies()
        self.request_lines = RequestLines()
        self.settled = SettledSessions()

    def reader_without_account(self, environ) -> bool:
        """Nothing in the request that Flask-Login or a host check would act on. The raw
        Cookie header is searched, not parsed: a name that merely appears sends the
        request to Flask, which costs time, never correctness."""
        remember = self.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        return not (
            self.config.get("TRUSTED_HOSTS")
            or "HTTP_AUTHORIZATION" in environ
            or remember in environ.get("HTTP_COOKIE", "")
        )

    def open_session(self, environ):
        request = self.app.request_class(environ)
        return request, self.app.session_interface.open_session(self.app, request)

    def session_cookies(self, environ, key: tuple, touch: Touch) -> Visit | None:
        """The Set-Cookie values Flask would send and the counters the view adds, or None
        when only Flask can tell. `key` is what the page view depends on besides the URL.

        A reader without a session cookie (most arrive from search with none) gets the
        same cookie as any other such reader of this page, from the same referrer and
        URL, in the same second: it is made once a second, not once a request. A reader
        whose cookie needed no change is not decoded again while it still needs none.
        """
        raw = environ.get("HTTP_COOKIE", "")
        if self.config["SESSION_COOKIE_NAME"] not in raw:
            first_key = first_visit_key(environ, key)
            if (kept := self.first_visits.get(first_key)) is not None:
                return kept
        else:
            first_key = None
            settled_key = (raw, *key, environ.get("QUERY_STRING"))
            if self.settled.holds(settled_key):
                return [], ()
        request, session = self.open_session(environ)
        if session is None or "_user_id" in session or "_id" in session:
            return None  # no secret key, or the owner: Flask's own path
        counts = touch(session, request)
        if counts is None:
            return None
        cookies = SessionCookies(self.app)
        self.app.session_interface.save_session(self.app, session, cookies)
        visit = (cookies.cookies, counts)
        if first_key is not None:
            self.first_visits.keep(first_key, visit)
        elif not cookies.cookies:
            self.settled.keep(settled_key, session.get("visit"))
        return visit

    def answer(self, environ, start_response, endpoint: str, page: CachedPage, visit: Visit,
               started: float, *, not_modified: bool = False) -> list[bytes]:  # fmt: skip
        """Send a kept page with this request's id and cookies; count, log and observe it."""
        cookies, counts = visit
        for slug, column in counts:
            self.app.extensions["counters"].add(slug, column)
        request_id = environ.get("HTTP_X_REQUEST_ID")
        # A fresh id as request_id_from makes one (32 hex digits), without a UUID object.
        request_id = request_id_from(request_id) if request_id else os.urandom(16).hex()
        headers = page.headers_for(request_id, not_modified=not_modified)
        if cookies:
            headers.extend(("Set-Cookie", cookie) for cookie in cookies)
        if not_modified:
            start_response(NOT_MODIFIED, headers)
            self.after_answer(environ, endpoint, request_id, 304, None, started)
            return []
        start_response(OK, headers)
        self.after_answer(environ, endpoint, request_id, 200, len(page.body), started)
        return [page.body]

    def after_answer(self, environ, endpoint: str, request_id: str, code: int,
                     size: int | None, started: float) -> None:  # fmt: skip
        seconds = time.perf_counter() - started
        self.app.extensions["metrics"].observe_request(endpoint, "GET", code, seconds)
        if REQUEST_LOG.isEnabledFor(logging.INFO):
            path = environ["PATH_INFO"]
            self.request_lines.write(request_id, endpoint, path, code, size, seconds)
        self.flush_counters_if_due()

    def flush_counters_if_due(self) -> None:
        buffer = self.app.extensions["counters"]
        if not buffer.is_due():
            return
        with self.app.app_context():
            try:
                buffer.flush()
            except Exception:  # a counter must never break a reader's page
                self.app.logger.exception("could not write article counters; kept for later")

    def answered_by_flask(self, environ, start_response) -> tuple[str | None, list, bytes]:
        """Flask's whole answer, passed on as it comes and returned to be kept."""
        seen = {}

        def remember_start(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, headers
            return start_response(status, headers, exc_info)

        chunks = self.wsgi_app(environ, remember_start)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return seen.get("status"), seen.get("headers", []), body


class FastArticlePages(FastPages):
    """`GET /library/<slug>`; a revalidation is decided by comparing one header with the
    kept ETag."""

    def __init__(self, app: Flask, wsgi_app):
        super().__init__(app, wsgi_app)
        self.cache = PageCache()

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        article = self.article_for(environ)
        if article is None or not self.reader_without_account(environ):
            return self.wsgi_app(environ, start_response)
        place, version = self.page_key(article, environ)
        page = self.cache.get(place, version)
        if page is None:
            return self.render_and_keep(environ, start_response, article, place, version)
        not_modified = page.matches(environ.get("HTTP_IF_NONE_MATCH"))
        rendered = not not_modified
        touch = self.reading(article.slug, rendered)
        visit = self.session_cookies(environ, (article.slug, rendered), touch)
        if visit is None:
            return self.wsgi_app(environ, start_response)
        if not is_crawler(environ.get("HTTP_USER_AGENT")):
            self.app.extensions["counters"].add(article.slug, "views")
        return self.answer(
            environ, start_response, ENDPOINT, page, visit, started, not_modified=not_modified
        )

    def article_for(self, environ):
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        path = environ.get("PATH_INFO", "")
        if not path.startswith(ARTICLE_PREFIX):
            return None
        return self.app.extensions["library"].article(path[len(ARTICLE_PREFIX) :])

    def reading(self, slug: str, rendered: bool) -> Touch:
        def touch(session, request):
            remember_visit(self.app, session, request, slug)
            return () if not rendered or flask_login_marks_stale(session) else None

        return touch

    def owner_is_signed_in(self, request) -> bool:
        session = self.app.session_interface.open_session(self.app, request)
        return session is None or "_user_id" in session

    def page_key(self, article, environ) -> tuple[tuple, tuple]:
        place = (article.slug, environ.get("wsgi.url_scheme"), environ.get("SCRIPT_NAME", ""))
        year = time.gmtime().tm_year  # the footer's year (UTC, as the template's)
        return place, (article.fingerprint, self.config["PAGE_FINGERPRINT"], year)

    def render_and_keep(self, environ, start_response, article, place, version):
        """Flask answers; a full page it renders for a reader is kept for the next one."""
        if self.owner_is_signed_in(self.app.request_class(environ)):
            return self.wsgi_app(environ, start_response)  # never the owner's view
        status, headers, body = self.answered_by_flask(environ, start_response)
        if status == OK:
            etag = f"{article.fingerprint}-{version[1]}"
            self.cache.keep(place, cached_page(version, etag, body, headers))
        return [body]


class FirstVisitCookies:
    """Set-Cookie values for cookieless readers (with the counters their view adds, the
    same for every such reader of the URL), each kept for the second it was made in.

    Within a second the visit's times ("at", "seen") are those of the first such reader,
    a fraction of a second earlier than their own; the cookie's signature and expiry
    count whole seconds anyway. Bounded: keys come from URLs and referrers.
    """

    LIMIT = 1024

    def __init__(self) -> None:
        self.visits: dict[tuple, tuple[int, Visit]] = {}

    def get(self, key: tuple) -> Visit | None:
        kept = self.visits.get(key)
        return kept[1] if kept is not None and kept[0] == int(time.time()) else None

    def keep(self, key: tuple, visit: Visit) -> None:
        if len(self.visits) >= self.LIMIT:
            self.visits = {}
        self.visits[key] = (int(time.time()), visit)


class SettledSessions:
    """Session cookies that needed no change, and until when they need none.

    Such a visit changes only when its "seen" time is a step old (or the visit times out,
    later still) or when a URL with UTM tags starts a new visit; the key holds the whole
    Cookie header and the query string, so only the same cookie on the same URL is
    answered from here. Only cookies this site signed get here: a forged one is replaced,
    so it is never settled. Bounded, as FirstVisitCookies.
    """

    LIMIT = 4096

    def __init__(self) -> None:
        self.until: dict[tuple, float] = {}

    def holds(self, key: tuple) -> bool:
        until = self.until.get(key)
        return until is not None and time.time() < until

    def keep(self, key: tuple, visit) -> None:
        try:
            seen = datetime.fromisoformat(visit["seen"])
        except (KeyError, TypeError, ValueError):
            return
        if len(self.until) >= self.LIMIT:
            self.until = {}
        self.until[key] = (seen + min(SEEN_STEP, VISIT_TIMEOUT)).timestamp()


def first_visit_key(environ, key: tuple) -> tuple:
    """Everything a cookieless reader's first visit is made of (attribution.track_visit),
    with the page's own `key`."""
    get = environ.get
    return (
        *key,
        get("wsgi.url_scheme"),
        get("QUERY_STRING"),
        get("HTTP_REFERER"),
        get("HTTP_HOST"),
        get("SERVER_NAME"),
        get("SERVER_PORT"),
    )


def remember_visit(app: Flask, session: SessionMixin, request, slug: str) -> None:
    """Record where a reader (never the owner) came from: first and last touch, articles
    read. Flask's before-request hook and the fast path both call this one."""
    visit = session.get("visit")
    updated = track_visit(
        visit,
        args=request.args,
        referrer=request.referrer,
        path=request.full_path.rstrip("?"),
        own_host=request.host,
        now=datetime.now(UTC),
        article_slug=slug,
    )
    if updated != visit:  # an unchanged session is not sent back to the reader
        session.permanent = True
        session["visit"] = updated


def follow_cta(session: SessionMixin, slug: str | None) -> bool:
    """Record a click on an article's call to action in the visit: True when this visit had
    not followed it yet, so it is counted. Flask's /book and the fast path call this one."""
    visit = with_cta_click(session.get("visit"), slug) if slug else None
    if visit is None:
        return False
    session["visit"] = visit
    return True


def flask_login_marks_stale(session: SessionMixin) -> bool:
    """What Flask-Login's session protection does to a reader's session when a page is
    rendered (its context processor loads the user): a permanent session not made at
    login is marked not fresh. A non-permanent one it would clear: False, Flask answers."""
    if not session:
        return True
    if not session.permanent:
        return False
    if session.get("_fresh") is not False:
        session["_fresh"] = False
    return True
