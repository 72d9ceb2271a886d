"""A booking's emails, end to end: the page writes them, the outbox sends them over real SMTP."""

import re

import pytest
from icalendar import Calendar

from tests.conftest import Visitor


@pytest.fixture
def mailing(settings, mail_settings):
    settings.update(mail_settings)
    return settings


def send_outbox(runner) -> str:
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    return result.output


def test_booking_emails_both_sides_in_their_own_zones(
    mailing, app, client, runner, open_hours, smtp_server
):
    visitor = Visitor(client, timezone="America/New_York")
    location = visitor.book().headers["Location"]
    assert "sent 2" in send_outbox(runner)  # the reminder waits for its day
    smtp_server.wait_for(2)
    confirmation = smtp_server.to("ada@analytical-engines.co.uk")[0]
    notification = smtp_server.to("owner@example.test")[0]

    assert re.search(r"\(New York, GMT-[45]\)", confirmation.text)  # winter or summer
    # The email carries a link of its own, made when it was sent, to the same booking.
    emailed_link = re.search(
        r"https://example\.test(/booking/[A-Za-z0-9_-]{43})", confirmation.text
    )
    assert emailed_link.group(1) != location.split("/confirmed")[0]
    page = client.get(emailed_link.group(1)).get_data(as_text=True)
    assert "Your strategy call, Ada Lovelace" in page
    invite = confirmation.attachments[0]
    assert invite.get_content_type() == "text/calendar"
    event = Calendar.from_ical(invite.get_content()).walk("VEVENT")[0]
    assert event.decoded("dtstart").utcoffset().total_seconds() == 0

    assert re.search(r"\(London, GMT\+[01]\)", notification.text)
    for answer in (
        "Ada Lovelace",
        "Analytical Engines Ltd",
        "Chief Technology Officer",
        "Scaling AI across multiple departments simultaneously",
        "none of them build on each other",
    ):
        assert answer in notification.text
    assert re.search(r"[Ff]it score\D+\d+", notification.text)


def test_mail_outage_loses_nothing(mailing, app, client, runner, open_hours, smtp_server):
    smtp_server.stop()
    assert Visitor(client).book().status_code == 303  # the visitor is not kept waiting
    assert "retried 2" in send_outbox(runner)
    assert smtp_server.messages == []
    smtp_server.start()
    from datetime import UTC, datetime, timedelta

    from domain.mail.mailer import mailer_from_config
    from domain.mail.outbox import send_due
    from extensions import db

    with app.app_context():
        later = datetime.now(UTC) + timedelta(minutes=5)  # past the first back-off
        report = send_due(
            db.session, mailer_from_config(app.config), app.config["MAIL_FROM"], now=later
        )
    assert report.sent == 2
    smtp_server.wait_for(2)
    assert {m.rcpt_tos[0] for m in smtp_server.messages} == {
        "ada@analytical-engines.co.uk",
        "owner@example.test",
    }


def test_cancelling_emails_a_cancellation_with_a_cancel_invite(
    mailing, app, client, runner, open_hours, smtp_server
):
    location = Visitor(client).book().headers["Location"]
    send_outbox(runner)
    manage_path = location.split("/confirmed")[0]
    client.post(f"{manage_path}/cancel")
    send_outbox(runner)
    smtp_server.wait_for(4)
    cancellation = smtp_server.to("ada@analytical-engines.co.uk")[-1]
    assert "cancel" in cancellation.subject.lower()
    assert "METHOD:CANCEL" in cancellation.attachments[0].get_content()
    assert "cancel" in smtp_server.to("owner@example.test")[-1].subject.lower()


def test_without_smtp_the_email_is_written_to_the_log(app, client, runner, open_hours, caplog):
    Visitor(client).book()
    with caplog.at_level("INFO"):
        send_outbox(runner)
    assert "ada@analytical-engines.co.uk" in caplog.text
    assert "Analytical Engines Ltd" in caplog.text


def test_an_address_at_an_international_domain_gets_its_emails(
    mailing, app, client, runner, open_hours, smtp_server
):
    """bücher.de is a real kind of domain: mail goes to its ASCII (IDNA) form, which every
    mail server accepts, and the owner's reply goes back there too."""
    assert Visitor(client).book(email="ada@bücher.de").status_code == 303
    assert "sent 2" in send_outbox(runner)
    smtp_server.wait_for(2)
    confirmation = smtp_server.to("ada@xn--bcher-kva.de")[0]
    assert str(confirmation.message["To"]) == "ada@xn--bcher-kva.de"
    notification = smtp_server.to("owner@example.test")[0]
    assert str(notification.message["Reply-To"]) == "Ada Lovelace <ada@xn--bcher-kva.de>"


def test_an_address_with_letters_beyond_ascii_before_the_at_is_refused_beside_the_field(
    app, client, open_hours
):
    """Few mail servers take such an address (SMTPUTF8): the visitor is told at once,
    instead of a booking whose emails can never leave."""
    from tests.test_booking_pages import assert_nothing_written, errors_in

    response = Visitor(client).book(email="jörg@example.de")
    assert response.status_code == 400
    assert any("before the @" in error for error in errors_in(response))
    assert_nothing_written(app)
