"""What nginx in front does, seen from outside: HTTPS, headers, compression, static
files, request ids, and logs that hold no manage token."""

import gzip
import http.client
import json
import re
import secrets
import time
import uuid
from email.message import Message

import pytest

from app import CONTENT_SECURITY_POLICY
from tests.stack import observatory
from tests.stack.client import client_address, raw_get
from tests.stack.harness import wait_until_up

ARTICLE = "/library/ai-systems-architect-vs-ai-engineer"
HSTS = "max-age=63072000; includeSubDomains"
IMMUTABLE = {"public", "max-age=31536000", "immutable"}


def https_get(stack, path, headers=None, address=None):
    return raw_get(
        stack.https_port, path, context=stack.tls_context(), headers=headers, address=address
    )


def cache_control(headers: Message) -> set[str]:
    return {part.strip() for part in (headers.get("Cache-Control") or "").split(",") if part}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_http_answers_301_to_https_on_the_same_host(stack, host):
    status, headers, _ = raw_get(
        stack.http_port, "/library/topics/x?from=feed", headers={"Host": host}
    )
    assert status == 301
    assert headers["Location"] == f"https://{host}:{stack.https_port}/library/topics/x?from=feed"


def test_the_article_comes_with_hsts_csp_and_gzip(stack):
    status, headers, body = https_get(stack, ARTICLE, {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "AI Systems Architect" in gzip.decompress(body).decode()
    assert headers.get_all("Strict-Transport-Security") == [HSTS]  # once: nginx's
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    # The app's other security headers come through nginx unchanged.
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "nginx/" not in (headers.get("Server") or "")  # no version to look up


def test_static_files_are_served_by_nginx_and_kept_a_year_under_their_hash(stack):
    _, _, page = https_get(stack, ARTICLE)
    stylesheet = re.search(rb'href="(/static/min/css/base\.css\?v=[0-9a-f]{12})"', page).group(1)
    marker = f"static-{uuid.uuid4().hex}"
    status, headers, body = https_get(
        stack, stylesheet.decode(), {"Accept-Encoding": "gzip", "X-Request-ID": marker}
    )
    assert status == 200
    assert cache_control(headers) == IMMUTABLE
    assert headers["Content-Encoding"] == "gzip"
    assert b"--" in gzip.decompress(body)  # the stylesheet's custom properties
    assert headers.get_all("Strict-Transport-Security") == [HSTS]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "upstream=- " in log_line(stack.access_log, marker)  # from disk, no app server

    status, headers, _ = https_get(stack, "/static/css/base.css")
    assert status == 200
    assert "immutable" not in cache_control(headers)


def test_the_headers_the_observatory_scores_all_pass_for_an_a_plus(stack):
    route = redirect_route(stack, f"http://127.0.0.1:{stack.http_port}/")
    address = client_address()
    status, headers, page = https_get(stack, "/", {"Accept": "text/html"}, address)
    assert status == 200
    _, robots_headers, _ = https_get(stack, "/robots.txt", address=address)
    _, preflight, _ = raw_options(stack, "/", {"Origin": "https://example.org"})
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page.decode())
    results = {
        "content-security-policy": observatory.csp(headers),
        "cookies": observatory.cookies(
            headers.get_all("Set-Cookie", []) + robots_headers.get_all("Set-Cookie", [])
        ),
        "cross-origin-resource-sharing": observatory.cors(preflight),
        "redirection": observatory.redirection(route),
        "referrer-policy": observatory.referrer_policy(headers),
        "strict-transport-security": observatory.hsts(headers),
        "subresource-integrity": observatory.subresource_integrity(scripts, route[-1]),
        "x-content-type-options": observatory.x_content_type_options(headers),
        "x-frame-options": observatory.x_frame_options(headers),
        "cross-origin-resource-policy": observatory.cross_origin_resource_policy(headers),
    }
    failing = {
        test: result for test, result in results.items() if observatory.MODIFIERS[result] < 0
    }
    assert not failing
    assert headers.get_all("Set-Cookie"), "the home page sets its session cookie"
    score, grade = observatory.score(results)
    print(f"Observatory rubric: {score} ({grade}): {results}")
    assert grade == "A+"


def redirect_route(stack, url: str) -> list[str]:
    """The URLs from `url` through each redirect to the page, as the Observatory follows."""
    from urllib.parse import urlsplit

    route = [url]
    for _ in range(5):
        parts = urlsplit(route[-1])
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.scheme == "http":
            status, headers, _ = raw_get(parts.port, path)
        else:
            status, headers, _ = https_get(stack, path)
        if status not in (301, 302, 303, 307, 308):
            return route
        route.append(headers["Location"])
    raise AssertionError(f"too many redirects: {route}")


def raw_options(stack, path, headers):
    import http.client

    connection = http.client.HTTPSConnection(
        "127.0.0.1", stack.https_port, timeout=15, context=stack.tls_context()
    )
    try:
        connection.request(
            "OPTIONS", path, headers={**headers, "Access-Control-Request-Method": "GET"}
        )
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def log_line(path, marker: str, timeout: float = 10) -> str:
    """The first line of the log at `path` that holds `marker`, once it is written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        for line in text.splitlines():
            if marker in line:
                return line
        time.sleep(0.1)
    raise AssertionError(f"no line with {marker} in {path}")


def app_log_line(stack, request_id: str) -> dict:
    """The app's JSON line (observability.py) for the request with this id."""
    line = log_line(stack.output_path, f'"request_id":"{request_id}"')
    return json.loads(line[line.index("{") :])


def test_a_request_id_reaches_the_app_and_both_logs(stack):
    given = f"support-{uuid.uuid4().hex}"
    status, headers, _ = https_get(stack, "/", {"X-Request-ID": given})
    assert status == 200
    assert headers["X-Request-ID"] == given
    assert "upstream=127.0.0.1:" in log_line(stack.access_log, f"request_id={given}")
    assert app_log_line(stack, given)["path"] == "/"

    # None given (or none usable): nginx makes one, and the app server gets that one.
    marker = f"/library/topics/marker-{uuid.uuid4().hex}"
    _, headers, _ = https_get(stack, marker, {"X-Request-ID": "not a token; has spaces"})
    made = re.search(r"request_id=(\S+)", log_line(stack.access_log, marker)).group(1)
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert headers["X-Request-ID"] == made
    assert app_log_line(stack, made)["path"] == marker


def test_logs_hold_no_manage_token_and_no_answers(stack):
    token = secrets.token_urlsafe(32)
    marker = uuid.uuid4().hex
    https_get(stack, f"/booking/{token}/confirmed", {"X-Request-ID": f"token-{marker}"})
    https_get(
        stack,
        "/book?name=Ada+Quietlace&email=ada.quietlace%40analytical-engines.co.uk",
        {"X-Request-ID": f"answers-{marker}", "Referer": f"https://127.0.0.1/booking/{token}"},
    )
    assert "/booking/[redacted]/confirmed" in log_line(stack.access_log, f"token-{marker}")
    assert app_log_line(stack, f"token-{marker}")["path"] == "/booking/[redacted]/confirmed"
    assert app_log_line(stack, f"answers-{marker}")["path"] == "/book"
    logs = [stack.access_log, stack.error_log, stack.output_path]
    for path in logs:
        text = path.read_text(errors="replace") if path.exists() else ""
        assert token not in text, f"a manage token in {path}"
        assert "Quietlace" not in text, f"a visitor's answer in {path}"


def test_metrics_are_kept_off_the_public_site(stack):
    """From an address the app itself would serve them to: nginx answers 404. Prometheus
    scrapes each app server on its own port."""
    assert https_get(stack, "/metrics")[0] == 404
    for port in stack.app_ports:
        status, _, body = raw_get(port, "/metrics")
        assert status == 200 and b"database_up" in body


def https_post(stack, path: str, body: bytes) -> tuple[int, Message, bytes]:
    connection = http.client.HTTPSConnection(
        "127.0.0.1", stack.https_port, timeout=15, context=stack.tls_context(),
        source_address=(client_address(), 0),
    )  # fmt: skip
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def assert_site_error_page(headers: Message, body: bytes, heading: str) -> None:
    page = body.decode()
    assert f"<h1>{heading}</h1>" in page
    assert 'href="/static/css/base.css"' in page
    assert headers["Strict-Transport-Security"] == HSTS
    assert headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_a_body_over_nginxs_limit_gets_the_sites_413_page(stack):
    status, headers, body = https_post(stack, "/book", b"message=" + b"x" * (2 * 1024 * 1024))
    assert status == 413
    assert_site_error_page(headers, body, "That was more than we can accept")
    # The page's stylesheet is reachable from it.
    assert https_get(stack, "/static/css/base.css")[0] == 200


def test_with_no_app_server_up_visitors_get_the_sites_502_page_and_a_retry_time(stack):
    stack.supervisorctl("stop", "web1", "web2")
    try:
        status, headers, body = https_get(stack, ARTICLE)
        assert status == 502
        assert headers["Retry-After"] == "30"
        assert_site_error_page(headers, body, "The site is not answering just now")
        # A booking sent meanwhile is told that sending it again is safe.
        posted = https_post(stack, "/book", b"name=Ada")
        assert posted[0] == 502
        assert "books your call only once" in posted[2].decode()
    finally:
        stack.supervisorctl("start", "web1", "web2")
        wait_until_up(stack, timeout=60)
    assert https_get(stack, ARTICLE)[0] == 200
