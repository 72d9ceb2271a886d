"""Issue 9, the owner's day: where the call happens, the owner's invite and Reply-To, the
brief before each call, the lead's status, and the owner's calendar subscription feed.
Mail goes to a real SMTP server on loopback; every .ics is parsed with icalendar."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from extensions import db
from models import Booking, Lead, LeadEvent, OutboxMessage
from tests.conftest import Visitor

OWNER = "owner@example.test"
ADA = "ada@analytical-engines.co.uk"
VIDEO = "https://meet.example.test/abc-defg-hij"


@pytest.fixture
def mailing(settings, mail_settings):
    settings.update(mail_settings)
    return settings


def run(runner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def set_location(runner, setting: str) -> None:
    assert "Availability saved." in run(runner, "availability", "set", "--location", setting)


def book(client, **answers) -> str:
    """Book through the pages; the confirmation page's URL."""
    response = Visitor(client).book(**answers)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def token_of(confirmed_url: str) -> str:
    return confirmed_url.split("/booking/")[1].split("/")[0]


def event_of(part) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(part.get_content())
    return calendar, calendar.walk("VEVENT")[0]


# Where the call happens ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("video:http://zoom.us/j/1", "https://"),
        ("video:javascript:alert(1)", "https://"),
        ("phone:12345", "international form"),
        ("fax:+442079460018", "Start with video:"),
        ("in-person:\x1b[31m", "control character"),
    ],
)
def test_a_bad_location_is_refused_on_the_command_line(app, runner, setting, message):
    result = runner.invoke(args=["availability", "set", "--location", setting])
    assert result.exit_code != 0 and message in result.output
    assert "Where calls are: Not set yet" in run(runner, "availability", "show")


def test_show_prints_notice_in_hours_like_the_form_and_the_location(app, runner):
    run(
        runner,
        "availability",
        "set",
        "--notice-hours",
        "1.5",
        "--location",
        "phone:+44 20 7946 0018",
    )
    shown = run(runner, "availability", "show")
    assert "Minimum notice:  1.5 hours" in shown
    assert "1440" not in shown and " min\n" not in shown.split("Minimum notice")[1].split("\n")[0]
    assert "phone:+442079460018" in shown  # stored in E.164


def test_owner_sets_the_location_on_the_availability_page(owner, app):
    bad = owner.post(
        "/owner/availability/location",
        data={"location_kind": "video", "location_value": "http://zoom.us/j/1"},
    )
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert re.search(r'id="location_value-error">A video link must be an https://', page)
    assert 'value="http://zoom.us/j/1"' in page  # what was typed is kept
    good = owner.post(
        "/owner/availability/location", data={"location_kind": "video", "location_value": VIDEO}
    )
    assert good.status_code == 303
    page = owner.get("/owner/availability").get_data(as_text=True)
    assert f'value="{VIDEO}"' in page
    assert re.search(r'<input[^>]* checked [^>]*value="video">', page)


def test_book_says_the_link_will_follow_until_a_location_is_set(app, client, runner, open_hours):
    assert "The link will follow by email." in client.get("/book").get_data(as_text=True)
    set_location(runner, f"video:{VIDEO}")
    page = client.get("/book").get_data(as_text=True)
    # The public page names the kind of call; the link itself comes with the confirmation.
    assert "Video call: the link comes with your confirmation." in page and VIDEO not in page
    confirmed = client.get(book(client)).get_data(as_text=True)
    assert f'<a href="{VIDEO}"' in confirmed
    manage = client.get(f"/booking/{token_of(book(client, email='b@b.example'))}")
    assert VIDEO in manage.get_data(as_text=True)


def test_visitor_invite_carries_the_location(app, client, runner, open_hours):
    set_location(runner, "in-person:1 Example Street, London")
    token = token_of(book(client))
    _, event = event_of_text(client.get(f"/booking/{token}/invite.ics").get_data(as_text=True))
    assert str(event["location"]) == "1 Example Street, London"
    assert "Where: In person: 1 Example Street, London" in str(event["description"])
    set_location(runner, f"video:{VIDEO}")
    _, event = event_of_text(client.get(f"/booking/{token}/invite.ics").get_data(as_text=True))
    assert str(event["location"]) == VIDEO and str(event["url"]) == VIDEO


def event_of_text(text: str):
    calendar = Calendar.from_ical(text)
    return calendar, calendar.walk("VEVENT")[0]


@pytest.mark.parametrize(
    ("phone", "error"),
    [("", "Please give the number"), ("12", "country code"), ("+44 20 7946 00189999", "country")],
)
def test_when_the_owner_calls_the_visitor_a_real_number_is_required(
    app, client, runner, open_hours, phone, error
):
    set_location(runner, "phone:owner-calls")
    response = Visitor(client).book(phone=phone)
    assert response.status_code == 400
    message = re.search(r'id="phone-error">([^<]+)<', response.get_data(as_text=True))
    assert message and error in message.group(1)
    with app.app_context():
        assert db.session.scalar(select(Booking.id)) is None


def test_a_new_location_reaches_the_next_booking_at_once(app, client, runner, open_hours):
    """The site keeps the owner's settings between bookings; a change still counts from
    the very next one: once the owner calls the visitor, a number is required."""
    set_location(runner, f"video:{VIDEO}")
    book(client, email="first@analytical-engines.co.uk")
    set_location(runner, "phone:owner-calls")
    response = Visitor(client).book(email="second@analytical-engines.co.uk", phone="")
    assert response.status_code == 400
    assert 'id="phone-error"' in response.get_data(as_text=True)


def test_the_visitors_number_is_stored_and_shown(app, client, runner, open_hours):
    set_location(runner, "phone:owner-calls")
    page = client.get(book(client, phone="+1 (415) 555-2671")).get_data(as_text=True)
    assert "Saed will call you on +1 415-555-2671." in page
    with app.app_context():
        assert db.session.scalar(select(Booking.phone)) == "+14155552671"


def test_without_owner_calls_no_number_is_kept(app, client, runner, open_hours):
    set_location(runner, f"video:{VIDEO}")
    book(client, phone="+1 415 555 2671")
    with app.app_context():
        assert db.session.scalar(select(Booking.phone)) is None


# The owner's emails ----------------------------------------------------------------------


def test_owner_gets_an_invite_with_the_visitors_uid_a_lead_link_and_reply_to_the_lead(
    mailing, app, client, runner, open_hours, smtp_server
):
    set_location(runner, f"video:{VIDEO}")
    token = token_of(book(client))
    run(runner, "outbox", "send")
    smtp_server.wait_for(2)
    [confirmation], [notification] = smtp_server.to(ADA), smtp_server.to(OWNER)
    _, visitor_event = event_of(confirmation.attachments[0])
    calendar, owner_event = event_of(notification.attachments[0])
    assert str(calendar["method"]) == "REQUEST"
    assert notification.attachments[0].get_params()[1:] == [("method", "REQUEST")] or (
        "method" in dict(notification.attachments[0].get_params())
    )
    assert str(owner_event["uid"]) == str(visitor_event["uid"])
    assert owner_event["sequence"] == 0
    assert str(owner_event["location"]) == VIDEO
    with app.app_context():
        lead_id = db.session.scalar(select(Lead.id))
    lead_page = f"https://example.test/owner/leads/{lead_id}"
    assert lead_page in notification.text and lead_page in str(owner_event["description"])
    assert "/booking/" not in notification.attachments[0].get_content()  # not the visitor's link
    assert str(notification.message["Reply-To"]) == f"Ada Lovelace <{ADA}>"
    assert "Company size: 51–200 people" in notification.text
    assert "51-200" not in notification.text
    assert f"Where: Video call: {VIDEO}" in confirmation.text

    # Reschedule: the same event, a higher SEQUENCE; cancel: METHOD:CANCEL.
    later = Visitor(client).free_slots(days_ahead=5)[0]
    moved = client.post(
        f"/booking/{token}/reschedule", data={"slot": later, "timezone": "Europe/London"}
    )
    assert moved.status_code == 303
    client.post(f"/booking/{token}/cancel")
    run(runner, "outbox", "send")
    smtp_server.wait_for(6)
    owner_mail = smtp_server.to(OWNER)
    moved_mail = next(m for m in owner_mail if m.subject.startswith("Moved:"))
    cancel_mail = next(m for m in owner_mail if m.subject.startswith("Cancelled:"))
    _, moved_event = event_of(moved_mail.attachments[0])
    cancel_calendar, cancel_event = event_of(cancel_mail.attachments[0])
    assert str(moved_event["uid"]) == str(owner_event["uid"]) == str(cancel_event["uid"])
    assert moved_event["sequence"] == 1 and cancel_event["sequence"] == 2
    assert str(cancel_calendar["method"]) == "CANCEL"
    assert cancel_mail.attachments[0].get_param("method") == "CANCEL"


def test_a_non_ascii_company_keeps_every_space_in_the_subject(
    mailing, app, client, runner, open_hours, smtp_server
):
    company = "Société Générale d'Études et de Recherches Appliquées"
    book(client, company=company, name="Amélie Dupont-Laurent")
    run(runner, "outbox", "send")
    [notification] = smtp_server.wait_for(2) and smtp_server.to(OWNER)
    # The server's copy, parsed by the email package: the decoded subject is exact.
    assert f"Amélie Dupont-Laurent ({company})" in notification.subject
    assert "Généraled" not in notification.subject


def test_folded_subjects_decode_to_what_was_written_whatever_the_length():
    from email import message_from_bytes, policy
    from email.header import decode_header, make_header

    from domain.mail.mailer import build_message

    for padding in range(1, 60):
        subject = f"New strategy call: Jean {'A' * padding} (Société Générale d'Études), fit 85"
        raw = build_message("a@example.test", to="b@example.test", subject=subject,
                            body_text="x").as_bytes()  # fmt: skip
        headers = raw.split(b"\n\n")[0].splitlines()
        assert all(len(line) <= 78 for line in headers), padding  # folded, as RFC 5322 asks
        modern = message_from_bytes(raw, policy=policy.default)["Subject"]
        legacy = str(make_header(decode_header(message_from_bytes(raw)["Subject"])))
        assert str(modern) == legacy == subject, padding


# The brief before each call --------------------------------------------------------------


def due_of(app, kind: str) -> datetime:
    with app.app_context():
        return db.session.scalar(
            select(OutboxMessage.send_after).where(
                OutboxMessage.kind == kind, OutboxMessage.status == "pending"
            )
        )


def test_the_brief_arrives_two_hours_before_the_call(
    mailing, app, client, runner, open_hours, smtp_server
):
    run(runner, "availability", "set", "--location", "phone:owner-calls")
    book(client, phone="+44 20 7946 0018")
    with app.app_context():
        booking = db.session.scalar(select(Booking))
        start, lead_id = booking.starts_at, booking.lead_id
    due = due_of(app, "owner_brief")
    assert due == start - timedelta(hours=2)
    with app.app_context():  # written after the booking: the brief is made when it is sent
        from domain.leads.actions import add_note

        add_note(db.session, db.session.get(Lead, lead_id), "Prefers mornings.", datetime.now(UTC))
        db.session.commit()

    run(runner, "outbox", "send")  # now: confirmation and notification only
    early = (due - timedelta(minutes=1)).isoformat()
    run(runner, "outbox", "send", "--now", early)  # the visitor's reminder, not the brief
    smtp_server.wait_for(3)
    assert not [m for m in smtp_server.to(OWNER) if m.subject.startswith("Brief:")]
    assert "sent 1" in run(runner, "outbox", "send", "--now", due.isoformat())
    smtp_server.wait_for(4)
    brief = next(m for m in smtp_server.to(OWNER) if m.subject.startswith("Brief:"))
    text = brief.text.replace("\r\n", "\n")
    assert brief.subject.startswith("Brief: Ada Lovelace (Analytical Engines Ltd), ")
    assert str(brief.message["Reply-To"]) == f"Ada Lovelace <{ADA}>"
    for part in (
        "Ada Lovelace, Chief Technology Officer at Analytical Engines Ltd (51–200 people)",
        "Phone: +442079460018",
        "suggested AI Systems Architect",
        "Company size 51–200 people: +25",
        "Role “Chief Technology Officer”: +25 (senior)",
        "2 situations chosen: +",
        "none of them build on each other",
        "Articles read",
        "AI Systems Architect vs AI Engineer",
        "First touch:",
        "Last touch:",
        "Earlier calls\n  none",
        "Prefers mornings.",
        "Where: Phone call: you call them on +44 20 7946 0018.",
        f"https://example.test/owner/leads/{lead_id}",
    ):
        assert part in text, part


def test_the_brief_moves_with_a_reschedule_and_stops_on_cancel(app, client, open_hours):
    token = token_of(book(client))
    first_due = due_of(app, "owner_brief")
    later = Visitor(client).free_slots(days_ahead=6)[0]
    client.post(f"/booking/{token}/reschedule", data={"slot": later, "timezone": "Europe/London"})
    with app.app_context():
        start = db.session.scalar(select(Booking.starts_at))
    assert due_of(app, "owner_brief") == start - timedelta(hours=2) != first_due
    client.post(f"/booking/{token}/cancel")
    assert due_of(app, "owner_brief") is None


def test_the_brief_hours_are_a_setting(settings, app, client, open_hours):
    app.config["BRIEF_HOURS_BEFORE"] = 5
    book(client)
    with app.app_context():
        start = db.session.scalar(select(Booking.starts_at))
    assert due_of(app, "owner_brief") == start - timedelta(hours=5)


def test_the_brief_heads_the_lead_page_with_notes_and_earlier_calls(app, client, owner, open_hours):
    book(client)
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        lead_id = lead.id
        from tests.conftest import call_row

        db.session.add(
            call_row(datetime.now(UTC) - timedelta(days=20), lead_id=lead_id, status="completed")
        )
        db.session.commit()
    owner.post(f"/owner/leads/{lead_id}/notes", data={"body": "Wants a roadmap by Q2."})
    page = owner.get(f"/owner/leads/{lead_id}").get_data(as_text=True)
    brief = page.split('id="brief-heading"')[1].split("</section>")[0]
    assert page.index('id="brief-heading"') < page.index('id="details"')
    for part in (
        "Analytical Engines Ltd (51–200 people)",
        "(Completed)",
        "Wants a roadmap by Q2.",
        "Role “Chief Technology Officer”: +25",
        "AI Systems Architect vs AI Engineer",
    ):
        assert part in brief, part


# Status -----------------------------------------------------------------------------------


def test_booking_moves_a_new_lead_to_call_booked_with_a_timeline_entry(
    app, client, owner, open_hours
):
    book(client)
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        event = db.session.scalar(select(LeadEvent))
        assert lead.status == "call_booked"
        assert (event.kind, event.from_status, event.to_status) == ("status", "new", "call_booked")
    listing = owner.get("/owner/leads").get_data(as_text=True)
    assert "Call booked" in listing


@pytest.mark.parametrize("status", ["qualified", "proposal", "won", "lost", "spam", "call_booked"])
def test_booking_leaves_a_lead_further_along_where_it_is(app, client, open_hours, status):
    book(client)
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        lead.status = status
        db.session.commit()
    book(client, slot=Visitor(client).free_slots(days_ahead=5)[0])
    with app.app_context():
        assert db.session.scalar(select(Lead.status)) == status
        assert len(db.session.scalars(select(Booking)).all()) == 2
        moves = db.session.scalars(select(LeadEvent.to_status)).all()
        assert moves == ["call_booked"]  # the first booking's only


# The owner's calendar subscription -------------------------------------------------------


def test_subscription_feed_lists_upcoming_calls_and_regenerating_retires_the_old_url(
    app, client, owner, runner, open_hours
):
    visitor = app.test_client()
    book(visitor)
    book(visitor, name="Grace Hopper", email="grace@hopper.example", company="Navy",
         slot=Visitor(visitor).free_slots(days_ahead=4)[0])  # fmt: skip
    dashboard = owner.get("/owner/").get_data(as_text=True)
    assert "Make my calendar address" in dashboard and "webcal://" not in dashboard
    assert owner.post("/owner/calendar/regenerate").status_code == 303
    dashboard = owner.get("/owner/").get_data(as_text=True)
    webcal = re.search(r'href="(webcal://example\.test/owner/calendar/[^"]+\.ics)"', dashboard)
    path = webcal.group(1).removeprefix("webcal://example.test")

    feed = visitor.get(path)  # no login: calendar apps cannot log in
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    calendar = Calendar.from_ical(feed.get_data(as_text=True))
    events = calendar.walk("VEVENT")
    assert len(events) == 2
    with app.app_context():
        leads = {lead.name: lead.id for lead in db.session.scalars(select(Lead))}
        bookings = db.session.scalars(select(Booking).order_by(Booking.starts_at)).all()
    first = events[0]
    assert str(first["summary"]).startswith("Strategy call: Ada Lovelace (Analytical Engines Ltd)")
    assert f"fit {bookings[0].fit_score}" in str(first["summary"])
    assert str(first["url"]) == f"https://example.test/owner/leads/{leads['Ada Lovelace']}"
    assert str(first["uid"]) == f"booking-{bookings[0].id}@example.test"
    assert first.decoded("dtstart") == bookings[0].starts_at

    assert owner.post("/owner/calendar/regenerate").status_code == 303
    assert visitor.get(path).status_code == 404
    assert visitor.get("/owner/calendar/" + "x" * 43 + ".ics").status_code == 404


def test_a_cancelled_call_leaves_the_feed(app, client, owner, open_hours):
    token = token_of(book(client))
    owner.post("/owner/calendar/regenerate")
    path = re.search(r'webcal://example\.test(/owner/calendar/[^"]+\.ics)',
                     owner.get("/owner/").get_data(as_text=True)).group(1)  # fmt: skip
    client.post(f"/booking/{token}/cancel")
    assert Calendar.from_ical(client.get(path).get_data(as_text=True)).walk("VEVENT") == []


def test_regenerating_needs_login(app, client, owner_account):
    anonymous = client.post("/owner/calendar/regenerate")
    assert anonymous.status_code == 302 and "/owner/login" in anonymous.headers["Location"]
    with app.app_context():
        from models import Owner

        assert db.session.scalar(select(Owner.calendar_secret)) is None


@pytest.fixture
def csrf_on(settings):
    settings["WTF_CSRF_ENABLED"] = True
    return settings


def test_regenerating_needs_the_csrf_token(csrf_on, app, client, owner_account):
    from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD

    login = client.get("/owner/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    data = {"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": token}
    assert client.post("/owner/login", data=data).status_code == 303
    assert client.post("/owner/calendar/regenerate").status_code == 400
    page = client.get("/owner/").get_data(as_text=True)
    form = page.split('id="calendar-subscription"')[1]
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert client.post("/owner/calendar/regenerate", data={"csrf_token": token}).status_code == 303


@pytest.mark.parametrize(
    "data",
    [
        {"location_kind": "telepathy", "location_value": "x"},
        {"location_kind": "in-person", "location_value": "Line one\r\nBcc: x@example.test"},
        {"location_kind": "in-person", "location_value": "x" * 5000},
        {"location_kind": "phone", "location_value": "+44 20 7946 0018\x00"},
    ],
)
def test_hostile_location_input_gets_a_400_and_changes_nothing(owner, app, runner, data):
    response = owner.post("/owner/availability/location", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="form-alert"' in page
    assert re.search(r'<p class="error" id="location_(kind|value)-error">', page)
    assert "Where calls are: Not set yet" in run(runner, "availability", "show")


def test_the_links_email_says_where_too(mailing, app, client, runner, open_hours, smtp_server):
    set_location(runner, f"video:{VIDEO}")
    book(client)
    assert client.post("/booking/links", data={"email": ADA}).status_code in (200, 303)
    run(runner, "outbox", "send")
    smtp_server.wait_for(3)
    links = next(m for m in smtp_server.to(ADA) if m.subject == "Your strategy call links")
    assert f"Where: Video call: {VIDEO}" in links.text


@pytest.mark.parametrize(
    "name",
    ['Eve <eve@evil.example>, "Mallory"', "Ada\r\nBcc: eve@evil.example", "Zoë Ünal-Ørsted"],
)
def test_reply_to_names_only_the_lead_whatever_its_name_says(name):
    from email import message_from_bytes, policy

    from domain.mail.mailer import build_message, reply_to_address

    reply_to = reply_to_address(name, ADA)
    raw = build_message("a@example.test", to=OWNER, subject="s", body_text="x",
                        reply_to=reply_to).as_bytes()  # fmt: skip
    parsed = message_from_bytes(raw, policy=policy.default)
    assert [address.addr_spec for address in parsed["Reply-To"].addresses] == [ADA]
    assert "Bcc" not in parsed
