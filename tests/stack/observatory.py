"""The MDN HTTP Observatory's rubric, applied to the stack's answers.

Each function restates one of the Observatory's ten tests (mdn/mdn-http-observatory,
src/analyzer/tests/) for what this site can show it, and returns the result name the
Observatory gives; MODIFIERS are the scores of its table (src/grader/charts.js). A site
starts at 100; bonuses count only when the score without them is 90 or more; 100 or
more is A+. Not restated: the HSTS preload list (we are not on it) and certificate
validity (the caller checks the certificate against the stack's own).
"""

from email.message import Message
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

MODIFIERS = {
    "csp-implemented-with-no-unsafe-default-src-none": 10,
    "csp-implemented-with-no-unsafe": 5,
    "csp-implemented-with-unsafe-inline-in-style-src-only": 0,
    "csp-implemented-with-insecure-scheme-in-passive-content-only": -10,
    "csp-implemented-with-unsafe-eval": -10,
    "csp-implemented-with-unsafe-inline": -20,
    "csp-implemented-with-insecure-scheme": -20,
    "csp-not-implemented": -25,
    "cookies-secure-with-httponly-sessions-and-samesite": 5,
    "cookies-secure-with-httponly-sessions": 0,
    "cookies-not-found": 0,
    "cookies-without-secure-flag": -20,
    "cookies-samesite-flag-invalid": -20,
    "cookies-anticsrf-without-samesite-flag": -20,
    "cookies-session-without-httponly-flag": -30,
    "cookies-session-without-secure-flag": -40,
    "cross-origin-resource-sharing-not-implemented": 0,
    "cross-origin-resource-sharing-implemented-with-public-access": 0,
    "cross-origin-resource-sharing-implemented-with-universal-access": -50,
    "redirection-to-https": 0,
    "redirection-off-host-from-http": -5,
    "redirection-not-to-https-on-initial-redirection": -10,
    "redirection-not-to-https": -20,
    "redirection-missing": -20,
    "referrer-policy-private": 5,
    "referrer-policy-not-implemented": 0,
    "referrer-policy-unsafe": -5,
    "referrer-policy-header-invalid": -5,
    "hsts-implemented-max-age-at-least-six-months": 0,
    "hsts-implemented-max-age-less-than-six-months": -10,
    "hsts-header-invalid": -20,
    "hsts-not-implemented": -20,
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin": 0,
    "sri-not-implemented-but-no-scripts-loaded": 0,
    "sri-not-implemented-but-external-scripts-loaded-securely": -5,
    "x-content-type-options-nosniff": 0,
    "x-content-type-options-header-invalid": -5,
    "x-content-type-options-not-implemented": -5,
    "x-frame-options-implemented-via-csp": 5,
    "x-frame-options-sameorigin-or-deny": 0,
    "x-frame-options-header-invalid": -20,
    "x-frame-options-not-implemented": -20,
    "corp-implemented-with-same-origin": 10,
    "corp-implemented-with-same-site": 10,
    "corp-implemented-with-cross-origin": 0,
    "corp-not-implemented": 0,
}
SIX_MONTHS = 15768000
BROAD = {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
PRIVATE_REFERRERS = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
UNSAFE_REFERRERS = {
    "origin",
    "origin-when-cross-origin",
    "unsafe-url",
    "no-referrer-when-downgrade",
}
GRADES = ((100, "A+"), (90, "A"), (85, "A-"), (80, "B+"), (70, "B"), (65, "B-"), (60, "C+"),
          (50, "C"), (45, "C-"), (40, "D+"), (30, "D"), (25, "D-"), (0, "F"))  # fmt: skip


def parse_csp(header: str) -> dict[str, set[str]]:
    directives: dict[str, set[str]] = {}
    for part in header.split(";"):
        words = part.strip().split()
        if words:
            directives.setdefault(words[0].lower(), {word.lower() for word in words[1:]})
    return directives


def csp(headers: Message) -> str:
    values = headers.get_all("Content-Security-Policy") or []
    if not values:
        return "csp-not-implemented"
    policy = parse_csp(values[0])
    default = policy.get("default-src", {"*"})
    script = policy.get("script-src", default)
    style = policy.get("style-src", default)
    objects = policy.get("object-src", default)
    sources = {source for directive in policy.values() for source in directive}
    if script & (BROAD | {"'unsafe-inline'", "data:"}) or objects & BROAD:
        return "csp-implemented-with-unsafe-inline"
    if any(source.startswith(("http:", "ftp:")) for source in sources):
        return "csp-implemented-with-insecure-scheme"
    if "'unsafe-eval'" in script | style:
        return "csp-implemented-with-unsafe-eval"
    if style & (BROAD | {"'unsafe-inline'", "data:"}):
        return "csp-implemented-with-unsafe-inline-in-style-src-only"
    form_action = policy.get("form-action", {"*"})
    if default == {"'none'"} and form_action <= {"'none'", "'self'"}:
        return "csp-implemented-with-no-unsafe-default-src-none"
    return "csp-implemented-with-no-unsafe"


def cookies(set_cookie_headers: list[str]) -> str:
    """Every cookie Secure; session and login cookies HttpOnly; SameSite on all of them."""
    jar = SimpleCookie()
    for header in set_cookie_headers:
        jar.load(header)
    if not jar:
        return "cookies-not-found"
    found = set()
    for name, morsel in jar.items():
        session = "sess" in name.lower() or "login" in name.lower()
        if not morsel["secure"]:
            found.add(
                "cookies-session-without-secure-flag" if session else "cookies-without-secure-flag"
            )
        if session and not morsel["httponly"]:
            found.add("cookies-session-without-httponly-flag")
        if not morsel["samesite"]:
            found.add("cookies-secure-with-httponly-sessions")
        elif morsel["samesite"].lower() not in ("strict", "lax", "none"):
            found.add("cookies-samesite-flag-invalid")
    found.add("cookies-secure-with-httponly-sessions-and-samesite")
    return min(found, key=MODIFIERS.__getitem__)


def cors(preflight_headers: Message) -> str:
    origin = preflight_headers.get("Access-Control-Allow-Origin")
    if origin is None:
        return "cross-origin-resource-sharing-not-implemented"
    if origin.strip() == "*":
        return "cross-origin-resource-sharing-implemented-with-public-access"
    return "cross-origin-resource-sharing-implemented-with-universal-access"


def redirection(route: list[str]) -> str:
    """`route`: the URLs from http://host/ through every redirect to the final page."""
    if len(route) == 1:
        return "redirection-missing"
    first, second, last = urlsplit(route[0]), urlsplit(route[1]), urlsplit(route[-1])
    if last.scheme != "https":
        return "redirection-not-to-https"
    if second.scheme == "http":
        return "redirection-not-to-https-on-initial-redirection"
    if first.hostname != second.hostname:
        return "redirection-off-host-from-http"
    return "redirection-to-https"


def referrer_policy(headers: Message) -> str:
    values = headers.get_all("Referrer-Policy") or []
    if not values:
        return "referrer-policy-not-implemented"
    known = [p.strip().lower() for p in ",".join(values).split(",")]
    known = [p for p in known if p in PRIVATE_REFERRERS | UNSAFE_REFERRERS]
    if not known:
        return "referrer-policy-header-invalid"
    return "referrer-policy-private" if known[-1] in PRIVATE_REFERRERS else "referrer-policy-unsafe"


def hsts(headers: Message) -> str:
    values = headers.get_all("Strict-Transport-Security") or []
    if not values:
        return "hsts-not-implemented"
    if len(values) > 1 or "," in values[0]:
        return "hsts-header-invalid"  # set twice: a browser may keep neither
    parts = [part.strip().lower() for part in values[0].split(";")]
    ages = [part.removeprefix("max-age=") for part in parts if part.startswith("max-age=")]
    if not ages or not ages[0].isdigit():
        return "hsts-header-invalid"
    if int(ages[0]) < SIX_MONTHS:
        return "hsts-implemented-max-age-less-than-six-months"
    return "hsts-implemented-max-age-at-least-six-months"


def subresource_integrity(script_sources: list[str], page_url: str) -> str:
    if not script_sources:
        return "sri-not-implemented-but-no-scripts-loaded"
    host = urlsplit(page_url).hostname
    foreign = [src for src in script_sources if urlsplit(src).hostname not in (None, host)]
    if foreign:
        return "sri-not-implemented-but-external-scripts-loaded-securely"
    return "sri-not-implemented-but-all-scripts-loaded-from-secure-origin"


def x_content_type_options(headers: Message) -> str:
    value = headers.get("X-Content-Type-Options")
    if value is None:
        return "x-content-type-options-not-implemented"
    if value.strip().lower() == "nosniff":
        return "x-content-type-options-nosniff"
    return "x-content-type-options-header-invalid"


def x_frame_options(headers: Message) -> str:
    if "frame-ancestors" in parse_csp((headers.get_all("Content-Security-Policy") or [""])[0]):
        return "x-frame-options-implemented-via-csp"
    value = (headers.get("X-Frame-Options") or "").strip().lower()
    if not value:
        return "x-frame-options-not-implemented"
    if value in ("deny", "sameorigin"):
        return "x-frame-options-sameorigin-or-deny"
    return "x-frame-options-header-invalid"


def cross_origin_resource_policy(headers: Message) -> str:
    value = (headers.get("Cross-Origin-Resource-Policy") or "").strip().lower()
    return {
        "same-origin": "corp-implemented-with-same-origin",
        "same-site": "corp-implemented-with-same-site",
        "cross-origin": "corp-implemented-with-cross-origin",
    }.get(value, "corp-not-implemented")


def score(results: dict[str, str]) -> tuple[int, str]:
    """The Observatory's score and grade for these test results."""
    modifiers = [MODIFIERS[result] for result in results.values()]
    without_bonus = 100 + sum(m for m in modifiers if m < 0)
    total = 100 + sum(modifiers) if without_bonus >= 90 else without_bonus
    total = max(total, 0)
    return total, next(grade for floor, grade in GRADES if total >= floor)
