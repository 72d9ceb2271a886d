"""No personal data in the logs at INFO, and never a manage token in a request log.

Logs name leads, bookings and emails by id. Request logs (the development server's,
gunicorn's access log) show `/booking/[redacted]` where a manage link's token was.
"""

import logging
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from tests.conftest import VALID_ANSWERS, Visitor
from tests.live_server import running_gunicorn

PERSONAL = (VALID_ANSWERS["name"], VALID_ANSWERS["email"], VALID_ANSWERS["company"],
            VALID_ANSWERS["message"], "Ada")  # fmt: skip
TOKEN = "WzEsIm5vbmNlLW9mLWEtcmVhbC1saW5rIl0.s3cr3t-s1gnature"


def assert_nothing_personal(records: list[logging.LogRecord]) -> None:
    """…in what the app logged (the loopback SMTP server's own log is not the app's)."""
    text = "\n".join(r.getMessage() for r in records if not r.name.startswith("mail."))
    for value in PERSONAL:
        assert value not in text, value


@pytest.fixture
def production_like(settings):
    """Log mail backend, as production may run it on purpose (MAIL_BACKEND=log)."""
    settings.update({"APP_ENV": "production", "MAIL_BACKEND": "log", "SMTP_HOST": ""})
    return settings


def test_a_booking_and_its_logged_emails_hold_no_personal_data(
    production_like, app, client, runner, open_hours, caplog
):
    caplog.set_level(logging.INFO)
    assert Visitor(client).book().status_code == 303
    assert "sent 2" in runner.invoke(args=["outbox", "send"]).output  # the reminder is later
    assert_nothing_personal(caplog.records)
    logged = [r.getMessage() for r in caplog.records if r.name == "domain.mail.mailer"]
    assert len(logged) == 2
    assert "visitor_confirmation" in logged[0] and "bytes" in logged[0]
    assert "<outbox-1-" in logged[0]


@pytest.fixture
def smtp_app(settings, mail_settings):
    settings.update(mail_settings)
    return settings


def test_mail_sent_or_refused_is_logged_by_id_never_by_address(
    smtp_app, app, client, runner, open_hours, smtp_server, caplog
):
    caplog.set_level(logging.INFO)
    smtp_server.refuse(VALID_ANSWERS["email"], "550 5.1.1 <ada@analytical-engines.co.uk> unknown")
    assert Visitor(client).book().status_code == 303
    runner.invoke(args=["outbox", "send"])
    assert "sent outbox message 2 (owner_notification, lead 1)" in caplog.text
    assert "outbox message 1 (visitor_confirmation, lead 1) failed for good" in caplog.text
    assert_nothing_personal(caplog.records)


def test_the_development_servers_request_log_holds_no_manage_token(app, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.port}/booking/{TOKEN}/confirmed?call=1"
        with pytest.raises(urllib.error.HTTPError):  # an unknown token: 404
            urllib.request.urlopen(url, timeout=10)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any("GET /booking/[redacted]/confirmed?call=1" in line for line in lines), lines
    assert TOKEN not in caplog.text


def test_the_gunicorn_access_log_holds_no_manage_token(database_url, tmp_path):
    settings = {"DATABASE_URL": database_url, "SECRET_KEY": "log-test-secret-0123456789abcdef"}
    log = tmp_path / "gunicorn.log"
    with running_gunicorn(settings, log, workers=1, threads=1) as server:
        request = urllib.request.Request(
            f"{server.base_url}/booking/{TOKEN}?email=ada%40analytical-engines.co.uk",
            headers={"Referer": f"{server.base_url}/booking/{TOKEN}/calls/1/reschedule"},
        )
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=10)
    text = log.read_text()
    assert '"GET /booking/[redacted]?email=[redacted] HTTP/1.1" 404' in text
    assert "/booking/[redacted]/calls/1/reschedule" in text  # the Referer
    assert TOKEN not in text and "analytical-engines" not in text
