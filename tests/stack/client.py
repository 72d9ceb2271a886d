"""Clients of the stack, each from an address of its own on the loopback network.

Every address in 127.0.0.0/8 is this machine, and nginx tells the app which one a request
came from (X-Forwarded-For, read through ProxyFix): so the per-client rate limits and
booking caps see many clients, as they would in production, not one.
"""

import functools
import http.client
import itertools
import ssl
import threading
import urllib.parse
import urllib.request

from tests.live_server import HttpVisitor, Reply, _KeepRedirects

# What a browser sends as Referer from a page, same origin, by the page's Referrer-Policy.
ORIGIN_ONLY = ("origin", "strict-origin")

_addresses = itertools.count(1)
_lock = threading.Lock()


def client_address() -> str:
    """A loopback address no other client of this run has used (127.0.1.1, 127.0.1.2…)."""
    with _lock:
        number = next(_addresses)
    return f"127.0.{1 + number // 250}.{1 + number % 250}"


class _HTTPSFrom(urllib.request.HTTPSHandler):
    def __init__(self, context: ssl.SSLContext, address: str):
        super().__init__(context=context)
        self._address = address

    def https_open(self, req):
        connection = functools.partial(
            http.client.HTTPSConnection, source_address=(self._address, 0)
        )
        return self.do_open(connection, req, context=self._context)


class StackVisitor(HttpVisitor):
    """A browser without JavaScript, over HTTPS, from its own loopback address.

    Its form posts carry the Referer a browser would send from the last page it loaded
    (the app's CSRF check wants one over HTTPS), as that page's Referrer-Policy allows.
    """

    def __init__(self, base_url: str, context: ssl.SSLContext, address: str | None = None):
        super().__init__(base_url, timeout=30)
        self.address = address or client_address()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies),
            _KeepRedirects(),
            _HTTPSFrom(context, self.address),
        )
        self.page: tuple[str, str] | None = None  # (URL, Referrer-Policy) of the last page

    def get(self, path: str, params: dict | None = None) -> Reply:
        url = self._url(path, params)
        reply = self._send(urllib.request.Request(url))
        if reply.status == 200:
            self.page = (url, reply.headers.get("Referrer-Policy", "").strip().lower())
        return reply

    def post(self, path: str, params: dict | None = None, data: dict | None = None) -> Reply:
        body = urllib.parse.urlencode(data or {}, doseq=True).encode()
        headers = {"Referer": self.referer()} if self.referer() else {}
        return self._send(urllib.request.Request(self._url(path, params), body, headers))

    def referer(self) -> str | None:
        if self.page is None:
            return None
        url, policy = self.page
        if policy == "no-referrer":
            return None
        if policy in ORIGIN_ONLY:
            return self.base_url + "/"
        return url


def raw_get(
    port: int,
    path: str,
    *,
    context: ssl.SSLContext | None = None,
    headers: dict[str, str] | None = None,
    address: str | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One GET, the body as sent (not decompressed); HTTPS when `context` is given."""
    source = (address or client_address(), 0)
    if context is None:
        connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=15, source_address=source
        )
    else:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=15, source_address=source, context=context
        )
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()
