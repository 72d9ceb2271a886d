"""A tiny HTTP server on loopback that serves calendar feeds, for the feed tests.

`feed_server.serve(path, body)` publishes a feed (with an ETag and Last-Modified, and a
304 for a request that sends them back); `.fail(path, status)` makes it answer an error
from then on; `.redirect(path, location)`; `.requests(path)` lists the headers of every
request for that path. `allow_private` lets the app fetch from loopback (the tests'
CALENDAR_ALLOW_PRIVATE=true): use it before asking for `app`.
"""

import hashlib
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

LOOPBACK = "127.0.0.1"
LAST_MODIFIED = "Tue, 01 Dec 2026 06:00:00 GMT"


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    location: str | None = None
    content_type: str = "text/calendar; charset=utf-8"
    validators: bool = True
    declare_length: bool = True

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class FeedHandler(BaseHTTPRequestHandler):
    server: "FeedServer"

    def do_GET(self):
        route = self.server.routes.get(self.path)
        self.server.seen.setdefault(self.path, []).append(dict(self.headers.items()))
        if route is None:
            return self._answer(404, b"not found")
        if route.location is not None:
            self.send_response(route.status)
            self.send_header("Location", route.location)
            self.send_header("Content-Length", "0")
            return self.end_headers()
        if route.status != 200:
            return self._answer(route.status, b"server error")
        if route.validators and self.headers.get("If-None-Match") == route.etag:
            self.send_response(304)
            self.send_header("ETag", route.etag)
            return self.end_headers()
        self._send_feed(route)

    def _send_feed(self, route: Route):
        self.send_response(200)
        self.send_header("Content-Type", route.content_type)
        if route.declare_length:
            self.send_header("Content-Length", str(len(route.body)))
        if route.validators:
            self.send_header("ETag", route.etag)
            self.send_header("Last-Modified", LAST_MODIFIED)
        self.end_headers()
        try:
            for start in range(0, len(route.body), 256 * 1024):
                self.wfile.write(route.body[start : start + 256 * 1024])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading (a feed over the size cap): that is the point
        if not route.declare_length:
            self.close_connection = True

    def _answer(self, status: int, body: bytes):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # keep the test output quiet
        pass


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__((LOOPBACK, 0), FeedHandler)
        self.routes: dict[str, Route] = {}
        self.seen: dict[str, list[dict]] = {}

    def url(self, path: str) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}{path}"

    def serve(self, path: str, body: str | bytes, **options) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(body=data, **options)
        return self.url(path)

    def fail(self, path: str, status: int = 500) -> None:
        self.routes[path].status = status

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        self.routes[path] = Route(status=status, location=location)
        return self.url(path)

    def requests(self, path: str) -> list[dict]:
        return self.seen.get(path, [])


@pytest.fixture
def feed_server():
    server = FeedServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_private(settings):
    """The app may fetch feeds from loopback, where the tests' feed server listens."""
    settings["CALENDAR_ALLOW_PRIVATE"] = True
    return settings


def vevent(uid: str, start: str, end: str, *lines: str) -> str:
    """One VEVENT; `start`/`end` are whole property values after the name, like
    ";TZID=Europe/London:20261204T100000" or ";VALUE=DATE:20261204"."""
    body = [
        "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20261101T000000Z",
        f"DTSTART{start}", f"DTEND{end}", "SUMMARY:Busy", *lines, "END:VEVENT",
    ]  # fmt: skip
    return "\r\n".join(body)


def calendar_text(*events: str, header: tuple[str, ...] = ()) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Tests//Feed//EN", *header, *events]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])
