"""One JSON line per request on stderr ("app.requests"), with its request id and nothing
personal: no token, name, address, message, query value or client address. The id is the
proxy's X-Request-ID when that is sane, a fresh one otherwise (never a refusal), echoed in
the response and carried by the app's other log lines."""

import json
import logging
import re

import pytest

from app import LOG_FORMAT
from domain.platform.request_log import request_id_from
from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS, log_in

FRESH_ID = re.compile(r"[0-9a-f]{32}")
PERSONAL = [VALID_ANSWERS[name] for name in ("name", "email", "company", "role", "message")]
FIELDS = {"time", "level", "logger", "request_id", "method", "endpoint", "path", "status",
          "duration_ms", "bytes"}  # fmt: skip


def request_lines(capsys) -> list[dict]:
    """The JSON lines written to stderr so far (and nothing else was written there)."""
    written = capsys.readouterr().err.splitlines()
    return [json.loads(line) for line in written if line.startswith("{")]


def test_a_booking_post_is_one_line_with_its_id_and_nothing_the_visitor_typed(
    client, visitor, capsys
):
    form = {**visitor.form_for(visitor.free_slots()[0]), **VALID_ANSWERS}
    capsys.readouterr()
    response = client.post(
        "/book", query_string={"article": ARTICLE_SLUG, "email": VALID_ANSWERS["email"]},
        data=form, headers={"X-Request-ID": "nginx-7f3a.1"},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["X-Request-ID"] == "nginx-7f3a.1"
    written = capsys.readouterr().err
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == FIELDS  # no client address, user agent, referrer or cookie
    assert line["request_id"] == "nginx-7f3a.1"
    assert (line["method"], line["endpoint"], line["path"]) == ("POST", "booking.submit", "/book")
    assert (line["status"], line["level"], line["logger"]) == (303, "INFO", "app.requests")
    assert line["bytes"] > 0 and line["duration_ms"] >= 0
    for value in PERSONAL:
        assert value not in written, value


def test_a_manage_page_line_holds_no_token(client, visitor, capsys):
    manage_path = visitor.book().headers["Location"].removesuffix("/confirmed")
    token = manage_path.split("/")[2]
    capsys.readouterr()
    response = client.get(manage_path)
    assert response.status_code == 200
    written = capsys.readouterr().err
    (line,) = [json.loads(text) for text in written.splitlines() if text.startswith("{")]
    assert line["path"] == "/booking/[redacted]" and line["endpoint"] == "booking.manage"
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert FRESH_ID.fullmatch(line["request_id"])
    assert token not in written
    for value in PERSONAL:
        assert value not in written, value


def test_query_values_never_reach_the_line(client, open_hours, capsys):
    prefilled = {"name": VALID_ANSWERS["name"], "email": VALID_ANSWERS["email"], "q": "Ada"}
    client.get("/book", query_string=prefilled)
    (line,) = request_lines(capsys)
    assert line["path"] == "/book"
    assert "Ada" not in json.dumps(line)


HOSTILE_IDS = ["", "two words", "line\r\nX-Injected: 1", "nul\x00byte", "é" * 8, "x" * 65,
               "a" * 10_000, "../../etc/passwd?"]  # fmt: skip


@pytest.mark.parametrize("hostile", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
def test_a_hostile_request_id_is_replaced_never_refused(client, capsys, hostile):
    response = client.get(f"/library/{ARTICLE_SLUG}", environ_base={"HTTP_X_REQUEST_ID": hostile})
    assert response.status_code == 200
    echoed = response.headers["X-Request-ID"]
    assert FRESH_ID.fullmatch(echoed)
    (line,) = request_lines(capsys)
    assert line["request_id"] == echoed


def test_a_hostile_request_id_does_not_spoil_a_booking(client, visitor):
    form = {**visitor.form_for(visitor.free_slots()[0]), **VALID_ANSWERS}
    response = client.post(
        "/book", data=form, environ_base={"HTTP_X_REQUEST_ID": "\r\n" + "a" * 10_000}
    )
    assert response.status_code == 303
    assert FRESH_ID.fullmatch(response.headers["X-Request-ID"])


def test_every_request_gets_its_own_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first != second


def test_the_apps_other_log_lines_carry_the_request_id(client, owner_account, caplog):
    caplog.set_level(logging.INFO)
    response = log_in(client, password="wrong")
    (failure,) = [r for r in caplog.records if "owner login failed" in r.getMessage()]
    assert failure.request_id == response.headers["X-Request-ID"]
    assert f"[{failure.request_id}] owner login failed" in logging.Formatter(LOG_FORMAT).format(
        failure
    )
    outside = logging.getLogger("tests").makeRecord("tests", logging.INFO, "", 0, "x", (), None)
    assert outside.request_id == "-"  # no request running


def test_request_ids_from_the_header_are_kept_only_when_sane():
    assert request_id_from("3f2c9a7e-1b2d.ab_C") == "3f2c9a7e-1b2d.ab_C"
    assert request_id_from("a" * 64) == "a" * 64
    for hostile in [None, "a" * 65, "a\n", "a b", "a\x00"]:
        assert FRESH_ID.fullmatch(request_id_from(hostile)), hostile
