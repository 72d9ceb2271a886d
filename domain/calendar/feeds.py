"""Fetching a private iCalendar feed: the owner's calendar's "secret address".

The URL is the owner's, but what it points at is not trusted: it is read over http(s)
only, from public addresses only (checked after resolving the host, on every redirect
hop, and the connection goes to the very address that was checked, so DNS cannot swap
it afterwards), with a conditional GET, a timeout over the whole read, and a size cap
counted while streaming. Every failure is a FeedError whose message is safe to show the
owner; the URL itself is a secret and is never logged or put in a message.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import urllib3

MOST_BYTES = 5 * 1024 * 1024
MOST_URL_LENGTH = 2000
MOST_REDIRECTS = 3
CONNECT_SECONDS = 5.0
READ_SECONDS = 15.0  # the whole answer, not only each wait between chunks
CHUNK_BYTES = 64 * 1024
USER_AGENT = "IntelligenceLibrary-CalendarFeed/1.0"
REDIRECTS = {301, 302, 303, 307, 308}


class FeedError(Exception):
    """The feed could not be read; the message is for the owner and holds no URL."""


@dataclass(frozen=True)
class FetchOptions:
    allow_private: bool = False
    # "address:port" pairs reachable even though private (a test's loopback server).
    allowed_private: frozenset[str] = frozenset()
    most_bytes: int = MOST_BYTES
    read_seconds: float = READ_SECONDS


@dataclass(frozen=True)
class Fetched:
    """A 200 (`body` set) or a 304 (`body` None: the stored copy is still current)."""

    body: str | None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.body is None


def normalise_feed_url(url: str) -> str:
    """The URL to fetch, or FeedError: http(s) only; webcal:// (as Apple and Google
    publish feeds) is read as https://."""
    url = url.strip()
    if not url:
        raise FeedError("Enter the feed's address.")
    if len(url) > MOST_URL_LENGTH:
        raise FeedError(f"That address is longer than {MOST_URL_LENGTH:,} characters.")
    if any(ord(character) < 33 or ord(character) == 127 for character in url):
        raise FeedError("That address has spaces or control characters in it.")
    scheme, _, rest = url.partition(":")
    if scheme.lower() in ("webcal", "webcals"):
        url = "https:" + rest
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise FeedError("Give an https:// (or webcal://) address.")
    if not parts.hostname:
        raise FeedError("That address has no host name.")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError as error:
        raise FeedError("That address has a port that is not a number.") from error
    return url


def feed_host(url: str) -> str:
    """The host alone, the part of the secret address that is safe to show."""
    try:
        return urlsplit(normalise_feed_url(url)).hostname or "?"
    except FeedError:
        return "?"


def fetch_feed(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    options: FetchOptions = FetchOptions(),
) -> Fetched:
    """GET the feed, following at most MOST_REDIRECTS redirects, each one checked."""
    deadline = time.monotonic() + options.read_seconds
    headers = {"Accept": "text/calendar, */*;q=0.5", "User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    url = normalise_feed_url(url)
    for _hop in range(MOST_REDIRECTS + 1):
        pool, response = _get_once(url, headers, options)
        try:
            if response.status in REDIRECTS and response.headers.get("Location"):
                url = normalise_feed_url(urljoin(url, response.headers["Location"]))
                continue
            return _fetched(response, options, deadline)
        finally:
            response.close()
            pool.close()
    raise FeedError(f"It redirected more than {MOST_REDIRECTS} times.")


def _fetched(response, options: FetchOptions, deadline: float) -> Fetched:
    if response.status == 304:
        return Fetched(body=None)
    if response.status != 200:
        raise FeedError(f"The calendar server answered {response.status}.")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > options.most_bytes:
        raise FeedError(_too_large(options))
    body = _read_capped(response, options, deadline)
    return Fetched(
        body=_decode(body, response.headers.get("Content-Type", "")),
        etag=_header(response, "ETag", 300),
        last_modified=_header(response, "Last-Modified", 100),
    )


def _get_once(url: str, headers: dict, options: FetchOptions):
    parts = urlsplit(url)
    secure = parts.scheme.lower() == "https"
    port = parts.port or (443 if secure else 80)
    address = _checked_address(parts.hostname, port, options)
    timeout = urllib3.Timeout(connect=CONNECT_SECONDS, read=options.read_seconds)
    if secure:  # connect to the checked address; verify the certificate for the host name
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, maxsize=1,
            server_hostname=parts.hostname, assert_hostname=parts.hostname,
            cert_reqs="CERT_REQUIRED",
        )  # fmt: skip
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False, maxsize=1)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {**headers, "Host": parts.netloc.rpartition("@")[2]}  # no userinfo in Host
    if parts.username:  # https://user:password@host/… (a Nextcloud share, say)
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers |= urllib3.util.make_headers(basic_auth=credentials)
    try:
        return pool, _request(pool, path, headers)
    except FeedError:
        pool.close()
        raise


def _request(pool, path: str, headers: dict):
    try:
        return pool.urlopen(
            "GET", path, headers=headers,
            redirect=False, preload_content=False, assert_same_host=False,
        )  # fmt: skip
    except urllib3.exceptions.SSLError as error:
        raise FeedError("Its secure connection could not be verified.") from error
    except urllib3.exceptions.NewConnectionError as error:  # before its parent, a timeout
        raise FeedError("The calendar server could not be reached.") from error
    except urllib3.exceptions.TimeoutError as error:
        raise FeedError("The calendar server did not answer in time.") from error
    except urllib3.exceptions.HTTPError as error:
        raise FeedError("The calendar server could not be reached.") from error


def _checked_address(host: str, port: int, options: FetchOptions) -> str:
    """One resolved address of `host`, refused unless every address it has is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FeedError("Its host name could not be found.") from error
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise FeedError("Its host name could not be found.")
    allowed = [
        is_public_address(address) or f"{address}:{port}" in options.allowed_private
        for address in addresses
    ]
    if not options.allow_private and not all(allowed):
        raise FeedError("It points at a private or local network address, which is refused.")
    return addresses[0]


def is_public_address(text: str) -> bool:
    address = ipaddress.ip_address(text.split("%", 1)[0])
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_link_local
    )


def _read_capped(response, options: FetchOptions, deadline: float) -> bytes:
    chunks, size = [], 0
    try:
        for chunk in response.stream(CHUNK_BYTES, decode_content=True):
            size += len(chunk)
            if size > options.most_bytes:
                raise FeedError(_too_large(options))
            if time.monotonic() > deadline:
                raise FeedError("The calendar server took too long to send the feed.")
            chunks.append(chunk)
    except urllib3.exceptions.TimeoutError as error:
        raise FeedError("The calendar server took too long to send the feed.") from error
    except urllib3.exceptions.HTTPError as error:
        raise FeedError("The feed was cut off before it ended.") from error
    return b"".join(chunks)


def _too_large(options: FetchOptions) -> str:
    return f"The feed is larger than {options.most_bytes // (1024 * 1024)} MB, so it is refused."


def _decode(body: bytes, content_type: str) -> str:
    charset = "utf-8"
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        text = body.decode(charset, errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    return text.replace("\x00", "")  # PostgreSQL text cannot hold NUL; iCalendar has none


def _header(response, name: str, most: int) -> str | None:
    value = response.headers.get(name)
    return value if value and len(value) <= most else None


def options_from_settings(settings) -> FetchOptions:
    """The fetch limits from the app's settings (CALENDAR_ALLOW_PRIVATE and the timeout)."""
    return FetchOptions(
        allow_private=bool(settings.get("CALENDAR_ALLOW_PRIVATE", False)),
        read_seconds=float(settings.get("CALENDAR_FETCH_SECONDS", READ_SECONDS)),
    )
