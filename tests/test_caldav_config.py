"""CalDAV settings: off without CALDAV_URL; production refuses a half-set or unsafe one,
naming what is missing; the password never shows in what the app prints."""

import pytest

from config import production_problems
from domain.calendar.caldav_sync import CalDAVSettings, redacted, safe_url
from tests.test_production_config import READY

CALDAV = {
    "CALDAV_URL": "https://caldav.fastmail.com/dav/",
    "CALDAV_USERNAME": "saed@shafane.consulting",
    "CALDAV_PASSWORD": "app-password-7kq2m9xw",
    "CALDAV_CALENDAR": "Work",
}


def test_caldav_is_off_without_a_url_and_needs_nothing_else():
    assert CalDAVSettings.from_config({"CALDAV_URL": "", "CALDAV_PASSWORD": "x"}) is None
    assert production_problems(READY | {"CALDAV_URL": ""}) == []


def test_complete_https_caldav_settings_pass_production():
    assert production_problems(READY | CALDAV) == []


@pytest.mark.parametrize("missing", ["CALDAV_USERNAME", "CALDAV_PASSWORD", "CALDAV_CALENDAR"])
def test_a_set_url_with_a_setting_missing_is_refused_by_name(missing):
    (problem,) = production_problems(READY | CALDAV | {missing: ""})
    assert problem.startswith(f"{missing}:")


def test_every_missing_setting_is_named_at_once():
    problems = production_problems(READY | {"CALDAV_URL": CALDAV["CALDAV_URL"]})
    assert [problem.split(":")[0] for problem in problems] == [
        "CALDAV_USERNAME", "CALDAV_PASSWORD", "CALDAV_CALENDAR",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "url",
    ["http://caldav.example.net/dav/", "http://10.0.0.5:5232/", "ftp://caldav.example.net/"],
)
def test_plain_http_off_this_machine_is_refused_in_production(url):
    (problem,) = production_problems(READY | CALDAV | {"CALDAV_URL": url})
    assert problem.startswith("CALDAV_URL:") and "https" in problem


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:5232/", "http://localhost:5232/owner/", "http://[::1]:5232/"]
)
def test_plain_http_to_loopback_is_allowed(url):
    assert production_problems(READY | CALDAV | {"CALDAV_URL": url}) == []


def test_the_password_never_shows_in_settings_urls_or_errors():
    settings = CalDAVSettings.from_config(CALDAV | {"CALDAV_URL": "https://u:pw1@dav.test/x/"})
    assert "app-password" not in repr(settings) and "pw1" not in repr(settings)
    assert safe_url("https://u:pw1@dav.test:8443/x/?a=1") == "https://dav.test:8443/x/"
    error = "failed for https://u:pw1@dav.test/x/ with app-password-7kq2m9xw"
    assert redacted(error, settings) == "failed for https://dav.test/x/ with ***"
