"""Every owner page passes the W3C Nu HTML Checker (vnu.jar), rendered with realistic data.

vnu.jar is fetched at a pinned version by scripts/ensure-vnu (run by `make test` through
scripts/ensure-test-services), with Java; VNU_JAR points the test at another copy.
The checker is a JVM that takes seconds to start, so the pages are written to files and
checked in one run.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pyotp
import pytest

from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD
from tests.owner_data import populate_owner_pages

VNU_VERSION = "26.9.27"  # keep in step with scripts/ensure-vnu
PINNED_JAR = Path(__file__).resolve().parents[1] / ".cache" / f"vnu-{VNU_VERSION}" / "vnu.jar"


def vnu_jar() -> Path:
    jar = Path(os.environ.get("VNU_JAR") or PINNED_JAR)
    if not jar.is_file():
        pytest.fail(f"No Nu HTML Checker at {jar}: run scripts/ensure-vnu.", pytrace=False)
    return jar


def check_html(files: list[Path]) -> dict[str, list[str]]:
    """{file name: ["line N: message", …]} for every error the checker finds."""
    java = shutil.which("java")
    if java is None:
        pytest.fail("The HTML check needs Java: run scripts/ensure-vnu.", pytrace=False)
    run = subprocess.run(
        [java, "-jar", str(vnu_jar()), "--errors-only", "--format", "json", "--stdout"]
        + [str(path) for path in files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    errors: dict[str, list[str]] = {}
    for message in json.loads(run.stdout)["messages"]:
        name = Path(message.get("url", "?")).name
        errors.setdefault(name, []).append(
            f"line {message.get('lastLine', '?')}: {message['message']}"
        )
    return errors


def owner_pages(app, client, lead_id: int) -> dict[str, tuple[str, int]]:
    """{label: (HTML, status)} of every owner page, in the states an owner meets."""
    pages = {}

    def keep(label, response, status=200):
        assert response.status_code == status, (label, response.status_code)
        pages[label] = (response.get_data(as_text=True), status)

    keep("login", client.get("/owner/login"))
    refused = {"email": OWNER_EMAIL, "password": "not the password"}
    keep("login-refused", client.post("/owner/login", data=refused), 401)
    client.post("/owner/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
    keep("dashboard", client.get("/owner/"))
    custom = {"period": "custom", "from": "2026-01-01", "to": "2026-03-31"}
    keep("dashboard-custom-period", client.get("/owner/", query_string=custom))
    keep("leads", client.get("/owner/leads"))
    filters = {"q": "a", "status": ["new", "contacted"], "sort": "score", "from": "2025-01-01"}
    keep("leads-filtered", client.get("/owner/leads", query_string=filters))
    keep("leads-page-2", client.get("/owner/leads", query_string={"page": 2}))
    keep("leads-none-found", client.get("/owner/leads", query_string={"q": "nobody at all"}))
    keep("lead", client.get(f"/owner/leads/{lead_id}"))
    keep("lead-long", client.get(f"/owner/leads/{lead_id + 1}"))
    empty_note = client.post(f"/owner/leads/{lead_id}/notes", data={"body": "  "})
    keep("lead-note-refused", empty_note, 400)
    keep("availability", client.get("/owner/availability"))
    bad_hours = {"timezone": "Europe/London", "call_minutes": "0", "hours_0_start": "09:00"}
    keep("availability-refused", client.post("/owner/availability", data=bad_hours), 400)
    keep("calendars", client.get("/owner/calendars"))
    bad_feed = {"url": "ftp://calendar.example.com/feed.ics", "name": "Work"}
    keep("calendars-refused", client.post("/owner/calendars", data=bad_feed), 400)
    keep("security", client.get("/owner/security"))
    keep_two_factor_pages(client, keep)
    return pages


def keep_two_factor_pages(client, keep) -> None:
    """Set-up, a refused code, the recovery codes, two-factor on, and the login's code step."""
    client.post("/owner/security/setup")
    setup = client.get("/owner/security")
    keep("security-setup", setup)
    secret = re.search(r'class="totp-key"[^>]*>([A-Z2-7 ]+)<', setup.get_data(as_text=True))
    secret = secret.group(1).replace(" ", "")
    keep(
        "security-code-refused",
        client.post("/owner/security/confirm", data={"code": "000000"}),
        400,
    )
    codes = client.post("/owner/security/confirm", data={"code": pyotp.TOTP(secret).now()})
    keep("recovery-codes", codes)
    keep("security-on", client.get("/owner/security"))
    client.post("/owner/logout")
    client.post("/owner/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
    keep("login-code", client.get("/owner/login/code"))
    keep("login-code-refused", client.post("/owner/login/code", data={"code": "000000"}), 401)


def test_every_owner_page_passes_the_nu_html_checker(app, client, owner_account, tmp_path):
    lead_id = populate_owner_pages(app)
    assert_pages_pass_the_nu_checker(owner_pages(app, client, lead_id), tmp_path)


def assert_pages_pass_the_nu_checker(pages: dict, folder) -> None:
    """`pages` maps a label to (html, status): each is written to `folder` and checked."""
    files = []
    for label, (html, _status) in pages.items():
        path = folder / f"{label}.html"
        path.write_text(html, encoding="utf-8")
        files.append(path)
    errors = check_html(files)
    report = "\n".join(
        f"{name}:\n  " + "\n  ".join(lines) for name, lines in sorted(errors.items())
    )
    assert not errors, f"The Nu HTML Checker found errors:\n{report}"
