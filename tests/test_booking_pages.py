"""Booking through the pages: every error path keeps the answers and writes nothing."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from extensions import db
from models import ArticleDailyStat, Booking, Lead, OutboxMessage
from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def errors_in(response) -> list[str]:
    found = re.findall(r'<p class="error" id="[^"]+">([^<]+)</p>', response.get_data(as_text=True))
    return [html.unescape(text) for text in found]


def input_value(response, name) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', response.get_data(as_text=True))
    found = tag and re.search(r'value="([^"]*)"', tag.group(0))
    return found.group(1) if found else None


def assert_nothing_written(app):
    assert count(app, Lead) == 0
    assert count(app, Booking) == 0
    assert count(app, OutboxMessage) == 0


def test_picker_shows_times_in_the_visitors_zone_and_names_it(client, open_hours):
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    html = client.get("/book", query_string={"timezone": "Asia/Kolkata", "day": day}).get_data(
        as_text=True
    )
    # Place and offset, one pair of brackets: "IST" alone is Irish, Israeli or Indian.
    assert "Times in <strong data-zone-label>Kolkata (GMT+5:30)</strong>" in html
    # London's 08:00 is 13:30 in Kolkata; 08:00 in Kolkata is night in London.
    assert ">13:30</time>" in html
    assert ">08:00</time>" not in html


def test_picker_without_a_zone_uses_the_owners_and_offers_a_choice(client, open_hours):
    html = client.get("/book").get_data(as_text=True)
    assert re.search(r"Times in <strong data-zone-label>London \(GMT\+[01]\)", html)
    assert '<select id="timezone" name="timezone" data-zone-select>' in html
    assert '<option value="Europe/London" selected>London (GMT+' in html
    assert re.search(r'src="/static/js/picker\.js\?v=[0-9a-f]{12}"', html)


def test_unknown_zone_falls_back_to_the_owners(client, open_hours):
    html = client.get("/book", query_string={"timezone": "Mars/Olympus"}).get_data(as_text=True)
    assert re.search(r"Times in <strong data-zone-label>London \(GMT\+[01]\)", html)


def test_details_form_prefills_from_the_query_string(visitor, client):
    slot = visitor.free_slots()[0]
    response = client.get(
        "/book",
        query_string={
            "slot": slot,
            "timezone": "Europe/London",
            "name": "Grace Hopper",
            "email": "grace@navy.example",
            "company_size": "5000+",
            "situation": "engineer-03",
            "article": ARTICLE_SLUG,
        },
    )
    html = response.get_data(as_text=True)
    assert input_value(response, "name") == "Grace Hopper"
    assert input_value(response, "email") == "grace@navy.example"
    assert '<option selected value="5000+">' in html
    assert re.search(r'value="engineer-03" checked', html)
    assert "Integrating LLM APIs into existing product surfaces" in html


def test_situation_choices_are_the_articles_hire_when_signals(visitor, client):
    slot = visitor.free_slots()[0]
    html = client.get("/book", query_string={"slot": slot, "article": ARTICLE_SLUG}).get_data(
        as_text=True
    )
    assert html.count('name="situation"') == 12
    assert "Hire an AI Systems Architect when" in html
    assert "Scaling AI across multiple departments simultaneously" in html


def test_a_valid_booking_redirects_to_its_confirmation(app, visitor):
    response = visitor.book()
    assert response.status_code == 303
    assert re.match(r"^/booking/[A-Za-z0-9_-]{43}/confirmed$", response.headers["Location"])
    page = visitor.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your call is booked, Ada Lovelace" in page
    assert "London (GMT+" in page  # place and offset, as the picker named it
    assert "calendar.google.com/calendar/render?action=TEMPLATE" in page
    assert "outlook.live.com/calendar" in page
    assert count(app, Booking) == 1
    # confirmation, owner notification, reminder, the owner's brief before the call
    assert count(app, OutboxMessage) == 4


def test_confirmation_names_both_zones_when_they_differ(client, open_hours):
    from tests.conftest import Visitor

    kolkata = Visitor(client, timezone="Asia/Kolkata")
    page = client.get(kolkata.book().headers["Location"]).get_data(as_text=True)
    # Place and offset, as the picker showed them: never an ambiguous "IST".
    assert "Kolkata (GMT+5:30)" in page and "IST" not in page
    assert "Saed’s time" in page and "London (GMT+0)" in page


def test_ics_download_is_a_calendar_in_utc(visitor):
    confirmation = visitor.client.get(visitor.book().headers["Location"]).get_data(as_text=True)
    ics_url = re.search(r'href="(/booking/[^"]+\.ics)"', confirmation).group(1)
    response = visitor.client.get(ics_url)
    assert response.mimetype == "text/calendar"
    event = Calendar.from_ical(response.data).walk("VEVENT")[0]
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert "ada@analytical-engines.co.uk" in str(event.get("attendee"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "Please enter a valid email address"),
        ("email", "", "Please give an email address"),
        ("name", "", "Please tell us your name."),
        ("company_size", "", "Please choose your company's size."),
        ("company_size", "huge", "Please choose your company's size."),
        ("consent", None, "Please agree so that we can contact you."),
        ("message", "x" * 2001, "Please keep the message to 2,000 characters or fewer."),
    ],
)
def test_bad_answer_is_refused_beside_its_field_with_the_rest_kept(
    app, visitor, field, value, message
):
    response = visitor.book(**{field: value})
    assert response.status_code == 400
    assert any(message in error for error in errors_in(response))
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    kept = {"name": "Ada Lovelace", "company": "Analytical Engines Ltd"}
    for name, expected in kept.items():
        if name != field:
            assert input_value(response, name) == expected
    if field != "message":
        assert VALID_ANSWERS["message"] in page
    assert re.search(r'value="architect-05" checked', page)
    assert_nothing_written(app)


def test_slot_in_the_past_is_refused(app, visitor):
    past = (datetime.now(UTC) - timedelta(days=1)).replace(hour=10, minute=0, second=0)
    response = visitor.book(slot=past.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert response.status_code == 400
    assert "That time has already passed. Please pick another." in errors_in(response)
    assert_nothing_written(app)


def test_slot_outside_hours_is_refused_and_other_times_offered(app, visitor):
    slot = datetime.fromisoformat(visitor.free_slots()[0].replace("Z", "+00:00"))
    odd = (slot + timedelta(minutes=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = visitor.book(slot=odd)
    assert response.status_code == 400
    assert "That time is not one of the available times. Please pick another." in errors_in(
        response
    )
    assert response.get_data(as_text=True).count('type="radio" name="slot"') >= 1
    assert input_value(response, "name") == "Ada Lovelace"
    assert_nothing_written(app)


def test_slot_that_is_not_a_time_is_refused(app, visitor):
    response = visitor.book(slot="next tuesday")
    assert response.status_code == 400
    assert "Please choose a time for the call." in errors_in(response)
    assert_nothing_written(app)


def test_taken_slot_is_refused_with_answers_kept(app, visitor):
    slot = visitor.free_slots()[0]
    assert visitor.book(slot=slot).status_code == 303
    rival = visitor.book(slot=slot, email="rival@other.example", name="Rival Person")
    assert rival.status_code in (400, 409)
    assert "That time was just taken, please pick another." in errors_in(rival)
    assert input_value(rival, "name") == "Rival Person"
    assert count(app, Booking) == 1
    assert count(app, Lead) == 1


def test_honeypot_submission_looks_received_but_writes_nothing(app, visitor):
    response = visitor.book(website="http://spam.example")
    assert response.status_code == 200
    assert "Thank you" in response.get_data(as_text=True)
    assert_nothing_written(app)


@pytest.fixture
def human_speed(settings):
    settings["BOOKING_MIN_SECONDS"] = 30
    return settings


def test_too_fast_submission_is_refused_with_answers_kept(human_speed, app, visitor):
    response = visitor.book()
    assert response.status_code == 400
    assert "quicker than we expected" in response.get_data(as_text=True)
    assert input_value(response, "name") == "Ada Lovelace"
    assert_nothing_written(app)


def test_forged_render_time_is_treated_as_too_fast(human_speed, app, visitor):
    response = visitor.book(rendered="12345")
    assert response.status_code == 400
    assert_nothing_written(app)


def booking_id_at(app, confirmation_url: str) -> int:
    from domain.booking.links import booking_for_token
    from domain.booking.tokens import utc_now

    token = confirmation_url.split("/")[2]
    with app.app_context():
        return booking_for_token(db.session, token, utc_now()).id


def test_double_submit_books_once_and_shows_the_same_booking(app, visitor):
    slot = visitor.free_slots()[0]
    data = {**visitor.form_for(slot), **VALID_ANSWERS}
    first = visitor.client.post("/book", query_string={"article": ARTICLE_SLUG}, data=data)
    again = visitor.client.post("/book", query_string={"article": ARTICLE_SLUG}, data=data)
    assert first.status_code == again.status_code == 303
    # The same browser sees its confirmation again, through a link to the same booking.
    assert booking_id_at(app, first.headers["Location"]) == booking_id_at(
        app, again.headers["Location"]
    )
    assert count(app, Booking) == 1
    assert count(app, OutboxMessage) == 4


def test_returning_visitor_is_one_lead_with_two_bookings(app, visitor):
    first, second = visitor.free_slots()[:2]
    assert visitor.book(slot=first).status_code == 303
    again = visitor.book(slot=second, email="  ADA@Analytical-Engines.co.uk ", role="CEO")
    assert again.status_code == 303
    assert count(app, Lead) == 1
    assert count(app, Booking) == 2
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert lead.role == "Chief Technology Officer"  # the lead keeps what it said first
        assert [b.role for b in lead.bookings] == ["Chief Technology Officer", "CEO"]


def test_lead_is_scored_and_given_an_engagement(app, visitor):
    visitor.book(situation=["architect-01", "architect-02", "engineer-01"])
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert lead.suggested_engagement == "architect"
        assert 60 <= lead.fit_score <= 100
        assert lead.consent_version


def test_attribution_keeps_first_touch_articles_read_and_source(app, client, open_hours):
    from tests.conftest import Visitor

    client.get(
        f"/library/{ARTICLE_SLUG}",
        query_string={"utm_source": "linkedin", "utm_medium": "social", "utm_campaign": "q4"},
        headers={"Referer": "https://www.linkedin.com/feed/"},
    )
    assert Visitor(client).book().status_code == 303
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        booking = db.session.scalar(select(Booking))
    assert lead.first_touch["utm_source"] == "linkedin"
    assert lead.first_touch["utm_campaign"] == "q4"
    assert lead.first_touch["referrer"] == "https://www.linkedin.com/feed/"
    assert lead.first_touch["landing"].startswith(f"/library/{ARTICLE_SLUG}")
    assert lead.source_article == ARTICLE_SLUG
    assert ARTICLE_SLUG in lead.articles_read
    assert booking.attribution["last_touch"]["utm_source"] == "linkedin"


def test_call_to_action_clicks_and_bookings_are_counted_per_article(app, visitor, client):
    client.get("/book", query_string={"article": ARTICLE_SLUG})
    client.get("/book", query_string={"article": ARTICLE_SLUG})  # a reload is not a new click
    visitor.book()
    with app.app_context():
        stat = db.session.scalar(select(ArticleDailyStat))
    assert (stat.slug, stat.cta_clicks, stat.bookings) == (ARTICLE_SLUG, 1, 1)


@pytest.fixture
def strict_rate_limit(settings):
    settings["BOOKING_RATE_LIMIT"] = "2 per minute"
    return settings


def test_too_many_submissions_get_a_friendly_429(strict_rate_limit, app, visitor):
    for _ in range(2):
        visitor.book(email="not-an-email")
    response = visitor.book()
    assert response.status_code == 429
    assert "Please wait a moment" in response.get_data(as_text=True)
    assert count(app, Booking) == 0


@pytest.fixture
def with_csrf(settings):
    settings["WTF_CSRF_ENABLED"] = True
    return settings


def test_submission_without_csrf_token_is_refused(with_csrf, app, visitor):
    slot = visitor.free_slots()[0]
    data = {**visitor.form_for(slot), **VALID_ANSWERS}
    assert data.get("csrf_token")
    del data["csrf_token"]
    response = visitor.client.post("/book", data=data)
    assert response.status_code == 400
    assert_nothing_written(app)


def test_booking_with_csrf_token_succeeds(with_csrf, app, visitor):
    assert visitor.book().status_code == 303


def planned_kinds(app, starts_in: timedelta) -> list[str]:
    from blueprints.booking.mail import plan_emails

    start = datetime.now(UTC) + starts_in
    lead = Lead(
        id=1,
        name="Ada",
        email="ada@x.example",
        company="C",
        role="CTO",
        company_size="51-200",
    )
    call = Booking(
        id=1,
        lead=lead,
        name="Ada",
        email="ada@x.example",
        company="C",
        role="CTO",
        company_size="51-200",
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        visitor_timezone="Europe/London",
        owner_timezone="Europe/London",
        situation=[],
        message="",
        fit_score=50,
        suggested_engagement="architect",
        attribution={},
        sequence=0,
        status="active",
        source_article=None,
    )
    with app.test_request_context():
        return [email.kind for email in plan_emails(lead, call, "booked", None)]


def test_call_days_ahead_gets_a_reminder_a_day_before(app):
    assert planned_kinds(app, timedelta(days=3)) == [
        "visitor_confirmation",
        "owner_notification",
        "visitor_reminder",
        "owner_brief",
    ]


def test_call_booked_for_tomorrow_gets_no_reminder_that_would_repeat_the_confirmation(app):
    assert planned_kinds(app, timedelta(hours=25)) == [
        "visitor_confirmation",
        "owner_notification",
        "owner_brief",
    ]


def test_changing_zone_or_day_keeps_answers_given_in_the_link(client, open_hours):
    html = client.get(
        "/book", query_string={"name": "Grace Hopper", "situation": "engineer-03"}
    ).get_data(as_text=True)
    zone_form = re.search(r'<form class="zone-form".*?</form>', html, re.S).group(0)
    assert '<input type="hidden" name="name" value="Grace Hopper">' in zone_form
    assert '<input type="hidden" name="situation" value="engineer-03">' in zone_form
    day_link = re.search(r'<nav class="day-list".*?<a href="([^"]+)"', html, re.S).group(1)
    assert "name=Grace" in day_link and "situation=engineer-03" in day_link


def test_zone_names_are_not_repeated_and_follow_the_date():
    from blueprints.booking.helpers import zone_label

    assert zone_label(datetime(2026, 1, 5, tzinfo=UTC), "UTC") == "UTC"
    assert zone_label(datetime(2026, 1, 5, tzinfo=UTC), "Europe/London") == "Europe/London (GMT)"
    assert zone_label(datetime(2026, 7, 5, tzinfo=UTC), "Europe/London") == "Europe/London (BST)"
    assert zone_label(datetime(2026, 7, 5, tzinfo=UTC), "Asia/Dubai") == "Asia/Dubai (UTC+04:00)"
