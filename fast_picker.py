"""Booking's step one (`GET /book`) and its times fragment (`GET /book/times`) served
before Flask, on the article fast path's machinery (fast_pages.py).

Neither holds anything of the visitor's own (blueprints/booking/routes.py reuses both per
view, flashed messages aside), so each is kept as Flask answered it, by URL, and sent
while the availability stamp and the minute are still those it was answered under. The
stamp is read on every request, one primary-key read outside any ORM session
(`stamp_outside_session`): a time booked or freed by any process is gone from, or back
on, the very next page. The visitor's session changes as on Flask's path: the first- and
last-touch visit on /book, and one call-to-action click per article per visit, counted;
the fragment changes nothing. Flask answers whenever it must: a chosen slot (the details
form carries the visitor's own keys), a session with messages or the owner's, a database
that does not answer, an application-wide rate limit, or a URL not answered yet.
"""

import time
from datetime import UTC, datetime

from flask import Flask

from domain.booking.picker import next_minute
from domain.booking.stamp import stamp_outside_session
from domain.content.page_cache import PageCache, cached_page
from extensions import db
from fast_pages import OK, FastPages, follow_cta, remember_visit

PICKER_PAGES = {"/book": "booking.book", "/book/times": "booking.times"}
STEP_ONE = "booking.book"
NOT_SHARED = ("_flashes", "_user_id", "_id")  # a message to show once, or the owner


class FastPickerPages(FastPages):
    def __init__(self, app: Flask, wsgi_app):
        super().__init__(app, wsgi_app)
        self.cache = PageCache(limit=256)
        self.engine = None
        # A limit on every route (none is set today) is Flask-Limiter's to count.
        self.limited = bool(
            app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION")
        )

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        endpoint = self.endpoint_for(environ)
        if endpoint is None or not self.reader_without_account(environ):
            return self.wsgi_app(environ, start_response)
        version = self.version()
        if version is None:
            return self.wsgi_app(environ, start_response)  # Flask's 503 page
        place = (environ["PATH_INFO"], environ.get("QUERY_STRING", ""),
                 environ.get("wsgi.url_scheme"), environ.get("SCRIPT_NAME", ""))  # fmt: skip
        page = self.cache.get(place, version)
        if page is None:
            return self.answer_and_keep(environ, start_response, place, version)
        if endpoint == STEP_ONE:
            visit = self.session_cookies(environ, (endpoint,), self.step_one_visit)
        else:
            visit = ([], ())  # the fragment neither reads nor changes the session
        if visit is None:
            return self.wsgi_app(environ, start_response)
        return self.answer(environ, start_response, endpoint, page, visit, started)

    def endpoint_for(self, environ) -> str | None:
        if environ.get("REQUEST_METHOD") != "GET" or self.limited:
            return None
        return PICKER_PAGES.get(environ.get("PATH_INFO"))

    def version(self) -> tuple | None:
        """(availability stamp, minute) now, or None when the database does not answer."""
        if self.engine is None:
            with self.app.app_context():
                self.engine = db.engine
        try:
            stamp = stamp_outside_session(self.engine)
        except Exception:  # Flask's path meets it again and answers as it does
            return None
        return stamp, next_minute(datetime.now(UTC))

    def step_one_visit(self, session, request) -> tuple | None:
        """What Flask's /book does to the session (app.register_attribution, then
        routes.count_cta_click), or None for a page with messages, rendered afresh."""
        if "_flashes" in session:
            return None
        remember_visit(self.app, session, request, None)
        slug = request.args.get("article")
        if slug and self.app.extensions["library"].article(slug) and follow_cta(session, slug):
            return ((slug, "cta_clicks"),)
        return ()

    def answer_and_keep(self, environ, start_response, place, version):
        """Flask answers; a picker page anyone would have been given is kept."""
        shared = self.shared_answer(environ)
        status, headers, body = self.answered_by_flask(environ, start_response)
        # Flask read the stamp after this request did: its page is at least as fresh. Its
        # minute is checked too, as a page computed a minute later may offer fewer times.
        if shared and status == OK and next_minute(datetime.now(UTC)) == version[1]:
            self.cache.keep(place, cached_page(version, "", body, headers))
        return [body]

    def shared_answer(self, environ) -> bool:
        """The answer holds nothing of this visitor's: no slot chosen (the details form
        carries a submission key of its own), no message to show, not the owner."""
        request, session = self.open_session(environ)
        if "slot" in request.args:
            return False
        return session is not None and not any(name in session for name in NOT_SHARED)
