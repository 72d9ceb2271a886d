"""Emails built from visitor input: headers are cleaned in one place, and a message that
can never go out is shown to the owner with a way to send it again, never dropped silently."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from domain.mail.emails import EmailDraft
from domain.mail.mailer import build_message
from domain.mail.outbox import enqueue
from extensions import db
from models import OutboxMessage
from tests.test_owner_dashboard import add_lead, section

NOW = datetime.now(UTC)


@pytest.fixture
def settings(settings, mail_settings):
    """The app sends through the loopback SMTP server."""
    return settings | mail_settings


def queue(app, lead_id: int, *, kind: str, to: str, subject: str) -> int:
    draft = EmailDraft(to=to, subject=subject, body_text="A new booking.\n")
    with app.app_context():
        message = enqueue(db.session, draft, kind=kind, lead_id=lead_id, now=NOW)
        db.session.commit()
        return message.id


def status_of(app, message_id: int) -> str:
    with app.app_context():
        return db.session.get(OutboxMessage, message_id).status


def test_broken_headers_are_cleaned_or_shown_to_the_owner_to_send_again(
    app, owner, runner, smtp_server
):
    lead_id = add_lead(app, name="Ada Lovelace")
    queue(
        app, lead_id, kind="owner_notification", to="owner@example.test",
        subject="New booking: Ada\r\nLovelace, Analytical\nEngines",
    )  # fmt: skip
    unbuildable = queue(
        app, lead_id, kind="visitor_confirmation",
        to="ada@example.test\r\nBcc: everyone@example.test", subject="Your call is booked",
    )  # fmt: skip

    assert "sent 1, retried 0, failed 1" in runner.invoke(args=["outbox", "send"]).output
    (mail,) = smtp_server.wait_for(1)
    assert mail.subject == "New booking: Ada Lovelace, Analytical Engines"
    assert mail.rcpt_tos == ("owner@example.test",)
    assert status_of(app, unbuildable) == "failed"

    failed = section(owner.get("/owner/").get_data(as_text=True), "failed-mail-heading")
    assert "Booking confirmation to the visitor" in failed
    assert f'href="/owner/leads/{lead_id}">Ada Lovelace</a>' in failed
    assert "line break" in failed  # why it failed, in words
    send_again = re.search(r'action="([^"]+)"', failed).group(1)

    response = owner.post(send_again)
    assert response.status_code == 303
    assert status_of(app, unbuildable) == "pending"
    page = owner.get("/owner/").get_data(as_text=True)
    assert "back in the queue" in page
    assert 'id="failed-mail-heading"' not in page


@pytest.fixture
def csrf_on(settings):
    settings["WTF_CSRF_ENABLED"] = True
    return settings


def test_send_again_needs_the_forms_token(csrf_on, app, client, owner_account):
    """A page elsewhere cannot make the owner's browser resend mail."""
    from tests.conftest import OWNER_PASSWORD

    login = client.get("/owner/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    data = {"email": owner_account, "password": OWNER_PASSWORD, "csrf_token": token}
    assert client.post("/owner/login", data=data).status_code == 303
    message_id = queue(app, add_lead(app), kind="visitor_confirmation", to="a@b.test", subject="x")
    with app.app_context():
        db.session.execute(update(OutboxMessage).values(status="failed", last_error="550 refused"))
        db.session.commit()

    client.post(f"/owner/outbox/{message_id}/send-again")
    assert status_of(app, message_id) == "failed"
    failed = section(client.get("/owner/").get_data(as_text=True), "failed-mail-heading")
    token = re.search(r'name="csrf_token" value="([^"]+)"', failed).group(1)
    client.post(f"/owner/outbox/{message_id}/send-again", data={"csrf_token": token})
    assert status_of(app, message_id) == "pending"


def test_the_subject_is_put_on_one_line_where_the_message_is_built():
    message = build_message(
        "Saed <calls@example.test>", to="owner@example.test", subject="New: Ada\r\n\x00Bcc: x",
        body_text="Hello",
    )  # fmt: skip
    assert message["Subject"] == "New: Ada Bcc: x"


@pytest.mark.parametrize("to", ["ada@example.test\r\nBcc: x@example.test", "ada\x00@example.test"])
def test_an_address_with_a_line_break_or_control_character_cannot_be_built(to):
    with pytest.raises(ValueError, match="To address"):
        build_message("calls@example.test", to=to, subject="Hi", body_text="Hello")
