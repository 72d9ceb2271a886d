"""Rendered pages kept in memory, so that a reader is sent bytes, not a template.

A page is kept with the headers Flask gave it, so the fast path (fast_pages.py) answers
with exactly what the full path would. An entry is found by the article, the URL scheme
(HSTS is sent over HTTPS only) and the script root (every link in the page starts with
it), and is used only while its version still matches: the article file's hash, the
templates' and static files' hash (both in the ETag) and the year in the footer. An
edited article, a new template or a new deploy therefore never serves an old page, and a
new process starts empty. There is at most one entry per article, scheme and root.
Booking's step one and its times fragment (fast_picker.py) are kept the same way, by URL,
under the availability stamp and minute they were answered for, with no ETag.
"""

import threading
from collections.abc import Hashable
from dataclasses import dataclass, field

from werkzeug.http import parse_etags

Headers = tuple[tuple[str, str], ...]
# Written per request, never kept: each request has its own id and its own session.
PER_REQUEST_HEADERS = frozenset({"x-request-id", "set-cookie"})
# A 304 has no body, so it carries no body's type or length (as Flask's own 304 does not).
BODY_HEADERS = frozenset({"content-type", "content-length"})


@dataclass(frozen=True)
class CachedPage:
    version: Hashable
    etag: str
    body: bytes
    headers: Headers  # the 200's headers, without the per-request ones
    not_modified_headers: Headers
    # Where Flask put the request id among them (before the session's Vary), kept so that
    # both paths send the same headers in the same order.
    request_id_at: int
    not_modified_request_id_at: int
    quoted_etag: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "quoted_etag", f'"{self.etag}"')

    def matches(self, if_none_match: str | None) -> bool:
        """If-None-Match names this page. A browser sends back exactly the ETag it was
        given, so one string comparison decides almost every revalidation; anything else
        (a list, a weak tag, `*`) is parsed as Flask would."""
        if not if_none_match:
            return False
        return if_none_match == self.quoted_etag or parse_etags(if_none_match).contains_weak(
            self.etag
        )

    def headers_for(self, request_id: str, *, not_modified: bool) -> list[tuple[str, str]]:
        kept = self.not_modified_headers if not_modified else self.headers
        at = self.not_modified_request_id_at if not_modified else self.request_id_at
        return [*kept[:at], ("X-Request-ID", request_id), *kept[at:]]


def cached_page(version: Hashable, etag: str, body: bytes, headers) -> CachedPage:
    names = [name.lower() for name, _ in headers]
    at = names.index("x-request-id") if "x-request-id" in names else len(names)
    before = [h for h in headers[:at] if h[0].lower() not in PER_REQUEST_HEADERS]
    after = [h for h in headers[at:] if h[0].lower() not in PER_REQUEST_HEADERS]
    bodiless_before = [h for h in before if h[0].lower() not in BODY_HEADERS]
    bodiless_after = [h for h in after if h[0].lower() not in BODY_HEADERS]
    return CachedPage(
        version=version,
        etag=etag,
        body=body,
        headers=(*before, *after),
        not_modified_headers=(*bodiless_before, *bodiless_after),
        request_id_at=len(before),
        not_modified_request_id_at=len(bodiless_before),
    )


class PageCache:
    """Thread-safe enough for gunicorn's threads: a dict read and a dict write. With a
    `limit`, the oldest place goes when a new one would pass it (places made of visitors'
    URLs must not grow without end)."""

    def __init__(self, limit: int | None = None) -> None:
        self.pages: dict[Hashable, CachedPage] = {}
        self.lock = threading.Lock()
        self.limit = limit

    def get(self, place: Hashable, version: Hashable) -> CachedPage | None:
        page = self.pages.get(place)
        return page if page is not None and page.version == version else None

    def keep(self, place: Hashable, page: CachedPage) -> None:
        with self.lock:
            if self.limit and place not in self.pages and len(self.pages) >= self.limit:
                del self.pages[next(iter(self.pages))]
            self.pages[place] = page
