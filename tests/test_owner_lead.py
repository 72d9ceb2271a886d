"""One lead's page: answers, attribution, calls and their outcome, the status pipeline with
the "won" count, notes, the JSON export and erasure; visitor input always escaped."""

import html
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from domain.leads.actions import timeline
from extensions import db
from models import ArticleDailyStat, Booking, Lead, LeadEvent, OutboxMessage
from tests.conftest import ARTICLE_SLUG, VALID_ANSWERS, Visitor, call_row

LONDON = ZoneInfo("Europe/London")
XSS = "<script>alert(1)</script><b>x</b>"
SHORT_XSS = "<script>x</script>"
UTM = {"utm_source": "linkedin", "utm_medium": "social", "utm_campaign": "q4-launch"}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def book_lead(app, utm=UTM, referrer="https://www.linkedin.com/feed/", **answers) -> int:
    """A visitor (own browser) reads the article from a campaign link, then books."""
    browser = app.test_client()
    browser.get(f"/library/{ARTICLE_SLUG}", query_string=utm, headers={"Referer": referrer})
    response = Visitor(browser).book(**answers)
    assert response.status_code == 303, response.get_data(as_text=True)
    email = answers.get("email", VALID_ANSWERS["email"])
    with app.app_context():
        return db.session.scalar(select(Lead.id).where(Lead.email == email))


def add_booking(app, lead_id: int, starts_at: datetime, status="active") -> int:
    """A call written straight to the database (the pages only book future times)."""
    with app.app_context():
        booking = call_row(
            starts_at,
            lead_id=lead_id,
            status=status,
            visitor_timezone="America/New_York",
            situation=["Earlier signal"],
            message="An earlier call.",
            created_at=starts_at - timedelta(days=3),
        )
        db.session.add(booking)
        db.session.commit()
        return booking.id


def won_total(app) -> int:
    with app.app_context():
        total = db.session.scalar(
            select(func.sum(ArticleDailyStat.won)).where(ArticleDailyStat.slug == ARTICLE_SLUG)
        )
    return total or 0


def lead_status_of(app, lead_id) -> str:
    with app.app_context():
        return db.session.get(Lead, lead_id).status


def booking_status_of(app, booking_id) -> str:
    with app.app_context():
        return db.session.get(Booking, booking_id).status


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def lead_id(app, owner, open_hours) -> int:
    return book_lead(app)


def test_page_shows_every_answer_attribution_score_and_the_booking(app, owner, lead_id):
    response = owner.get(f"/owner/leads/{lead_id}")
    assert response.status_code == 200
    page = text_of(response)
    assert re.search(r"<h1>\s*Ada Lovelace\s*</h1>", page)
    for heading in ("Details", "Attribution", "Bookings", "Status", "Timeline", "Privacy"):
        assert f">{heading}</h2>" in page
    for answer in ("ada@analytical-engines.co.uk", "Analytical Engines Ltd", "51–200 people"):
        assert answer in page
    assert "Chief Technology Officer" in page
    assert VALID_ANSWERS["message"] in page
    assert "2026-11-consent-v1" in page
    for value in ("linkedin", "social", "q4-launch", "https://www.linkedin.com/feed/"):
        assert value in page
    assert f'href="/library/{ARTICLE_SLUG}"' in page
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        booking = lead.bookings[0]
        score, engagement = lead.fit_score, lead.suggested_engagement
        situation = booking.situation
        starts_at = booking.starts_at
    assert f"Fit score <strong>{score}</strong>/100" in page
    assert {"architect": "AI Systems Architect", "engineer": "AI Engineer"}[engagement] in page
    assert situation and all(label in page for label in situation)
    assert 'class="call-times"' in page and "Europe/London (" in page
    assert starts_at.astimezone(LONDON).strftime("%A %-d %B %Y, %H:%M") in page
    assert starts_at.isoformat() in page  # the call in the timeline, machine-readable


def test_unknown_lead_is_404(owner):
    assert owner.get("/owner/leads/999").status_code == 404
    assert owner.get("/owner/leads/999.json").status_code == 404


def test_pipeline_marks_the_current_step(owner, lead_id):
    page = owner.get(f"/owner/leads/{lead_id}").get_data(as_text=True)
    pipeline = re.search(r'<ol class="pipeline">(.*?)</ol>', page, re.S).group(1)
    steps = re.findall(r"<li[^>]*>(?:<strong>)?([^<]+)", pipeline)
    assert steps == [
        "New",
        "Contacted",
        "Call booked",
        "Qualified",
        "Proposal",
        "Won",
        "Lost",
        "Spam",
    ]
    # The lead booked a call, which moved it on from New (issue 9).
    assert '<li aria-current="step"><strong>Call booked</strong></li>' in pipeline
    assert '<option value="call_booked" selected>Call booked</option>' in page


def test_status_change_writes_the_timeline_and_counts_won_then_unwon(app, owner, lead_id):
    assert won_total(app) == 0
    response = owner.post(
        f"/owner/leads/{lead_id}/status", data={"status": "won", "note": "Signed the SOW"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/owner/leads/{lead_id}"
    assert lead_status_of(app, lead_id) == "won"
    assert won_total(app) == 1
    page = text_of(owner.get(f"/owner/leads/{lead_id}"))
    assert "Status changed to Won." in page
    assert "Status changed from Call booked to Won" in page and "Signed the SOW" in page
    assert '<li aria-current="step"><strong>Won</strong></li>' in page

    owner.post(f"/owner/leads/{lead_id}/status", data={"status": "proposal"})
    assert won_total(app) == 0
    with app.app_context():
        events = db.session.scalars(select(LeadEvent).order_by(LeadEvent.at)).all()
        moves = [(e.kind, e.from_status, e.to_status) for e in events]
    assert moves == [
        ("status", "new", "call_booked"),  # the booking moved it on
        ("status", "call_booked", "won"),
        ("status", "won", "proposal"),
    ]


def test_unknown_or_unchanged_status_is_refused(app, owner, lead_id):
    response = owner.post(
        f"/owner/leads/{lead_id}/status", data={"status": "bribed"}, follow_redirects=True
    )
    assert "Choose one of the pipeline" in text_of(response)
    response = owner.post(
        f"/owner/leads/{lead_id}/status", data={"status": "call_booked"}, follow_redirects=True
    )
    assert "The lead is already Call booked." in text_of(response)
    assert lead_status_of(app, lead_id) == "call_booked"
    assert count(app, LeadEvent) == 1  # only the booking's own move to "call booked"


def test_note_appears_in_the_timeline_with_its_time_stamp(app, owner, lead_id):
    response = owner.post(f"/owner/leads/{lead_id}/notes", data={"body": "Call went well.\r\n"})
    assert response.status_code == 303
    with app.app_context():
        note = db.session.scalar(select(LeadEvent).where(LeadEvent.kind == "note"))
        assert (note.kind, note.body) == ("note", "Call went well.")
        at = note.at
    page = text_of(owner.get(f"/owner/leads/{lead_id}"))
    entry = re.search(r'<li class="timeline-note">(.*?)</li>', page, re.S).group(1)
    assert "Call went well." in entry
    assert f'datetime="{at.isoformat(timespec="seconds")}"' in entry  # HTML: no microseconds
    assert at.astimezone(LONDON).strftime("%-d %b %Y, %H:%M") in entry
    assert "Europe/London (" in entry


@pytest.mark.parametrize(
    ("body", "message"),
    [("   \r\n ", "Write the note before saving it."), ("y" * 5001, "5,000 characters or fewer")],
)
def test_empty_or_oversized_note_is_refused_with_the_text_kept(app, owner, lead_id, body, message):
    response = owner.post(f"/owner/leads/{lead_id}/notes", data={"body": body})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = re.search(r'<p class="error" id="note-body-error">([^<]+)</p>', page)
    assert error and message in html.unescape(error.group(1))
    textarea = re.search(r'<textarea id="note-body"[^>]*>(.*?)</textarea>', page, re.S)
    assert 'aria-invalid="true"' in textarea.group(0)
    assert textarea.group(1) == html.escape(body, quote=True)
    assert count(app, LeadEvent) == 1  # the booking's move to "call booked", no note


@pytest.mark.parametrize(("outcome", "shown"), [("completed", "Completed"), ("no_show", "No-show")])
def test_a_past_call_can_be_marked_completed_or_no_show(app, owner, lead_id, outcome, shown):
    past = add_booking(app, lead_id, datetime.now(UTC) - timedelta(days=2))
    page = owner.get(f"/owner/leads/{lead_id}").get_data(as_text=True)
    action = f"/owner/leads/{lead_id}/bookings/{past}/outcome"
    assert f'action="{action}"' in page
    response = owner.post(action, data={"outcome": outcome})
    assert response.status_code == 303
    assert booking_status_of(app, past) == outcome
    page = text_of(owner.get(f"/owner/leads/{lead_id}"))
    assert f"<dt>Status</dt><dd>{shown}</dd>" in page
    # Done once: a second outcome is refused.
    again = owner.post(action, data={"outcome": "completed"}, follow_redirects=True)
    assert "already marked" in text_of(again)
    assert booking_status_of(app, past) == outcome


def test_outcome_is_refused_for_a_future_or_another_leads_call(app, owner, lead_id):
    with app.app_context():
        future = db.session.scalar(select(Booking.id))
    page = owner.get(f"/owner/leads/{lead_id}").get_data(as_text=True)
    assert "/outcome" not in page
    response = owner.post(
        f"/owner/leads/{lead_id}/bookings/{future}/outcome",
        data={"outcome": "completed"},
        follow_redirects=True,
    )
    assert "has not started yet" in text_of(response)
    assert booking_status_of(app, future) == "active"

    other_lead = book_lead(app, email="grace@hopper.example", name="Grace Hopper")
    theirs = add_booking(app, other_lead, datetime.now(UTC) - timedelta(days=1))
    response = owner.post(
        f"/owner/leads/{lead_id}/bookings/{theirs}/outcome",
        data={"outcome": "no_show"},
        follow_redirects=True,
    )
    assert "not one of this lead" in text_of(response)
    bad = owner.post(
        f"/owner/leads/{other_lead}/bookings/{theirs}/outcome",
        data={"outcome": "vanished"},
        follow_redirects=True,
    )
    assert "Choose completed or no-show." in text_of(bad)
    assert booking_status_of(app, theirs) == "active"


def test_json_export_is_an_attachment_with_answers_bookings_and_events(app, owner, lead_id):
    owner.post(f"/owner/leads/{lead_id}/notes", data={"body": "First note"})
    response = owner.get(f"/owner/leads/{lead_id}.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="lead-{lead_id}.json"'
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    lead = data["lead"]
    for key in ("name", "email", "company", "role", "company_size"):
        assert lead[key] == VALID_ANSWERS[key]
    assert lead["consent_version"] == "2026-11-consent-v1"
    assert datetime.fromisoformat(lead["consent_given_at"]).tzinfo is not None
    assert lead["first_touch"]["utm_campaign"] == "q4-launch"
    assert ARTICLE_SLUG in lead["articles_read"]
    assert "manage_nonce" not in lead
    [booking] = data["bookings"]
    assert booking["message"] == VALID_ANSWERS["message"]
    assert booking["status"] == "active" and len(booking["situation"]) == 2
    assert booking["attribution"]["last_touch"]["utm_source"] == "linkedin"
    assert [(e["kind"], e["body"]) for e in data["events"]] == [
        ("status", "They booked a call."),
        ("note", "First note"),
    ]


def stat_rows(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(ArticleDailyStat)).all()
        return sorted((r.slug, r.day, r.views, r.cta_clicks, r.bookings, r.won) for r in rows)


def test_erase_needs_the_leads_email_typed_to_confirm(app, owner, lead_id):
    for typed in ("", "someone@else.example"):
        response = owner.post(
            f"/owner/leads/{lead_id}/erase", data={"confirm": typed}, follow_redirects=True
        )
        assert "Nothing was erased" in text_of(response)
    assert count(app, Lead) == 1 and count(app, Booking) == 1


def test_erase_removes_lead_calls_events_and_emails_but_keeps_funnel_counts(app, owner, lead_id):
    keep = book_lead(app, email="grace@hopper.example", name="Grace Hopper")
    add_booking(app, lead_id, datetime.now(UTC) - timedelta(days=2))
    owner.post(f"/owner/leads/{lead_id}/notes", data={"body": "Asked to be forgotten."})
    owner.post(f"/owner/leads/{lead_id}/status", data={"status": "won"})
    # Each booking's move to "call booked" (Ada's, Grace's), the note, the status change.
    assert count(app, OutboxMessage) > 2 and count(app, LeadEvent) == 4
    counts_before = stat_rows(app)
    assert counts_before and sum(row[-1] for row in counts_before) == 1

    response = owner.post(
        f"/owner/leads/{lead_id}/erase", data={"confirm": " ADA@analytical-engines.co.uk "}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/owner/leads"
    with owner.session_transaction() as session:  # the list page belongs to other work
        assert ("message", "Lead erased") in session["_flashes"]
    with app.app_context():
        assert db.session.scalars(select(Lead.id)).all() == [keep]
        for model in (Booking, LeadEvent, OutboxMessage):
            left = db.session.scalars(select(model.lead_id).distinct()).all()
            assert left in ([keep], []), model
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
    assert count(app, LeadEvent) == 1 and count(app, OutboxMessage) > 0  # Grace's
    assert stat_rows(app) == counts_before
    assert owner.get(f"/owner/leads/{lead_id}").status_code == 404


def test_visitor_markup_is_escaped_on_the_page_and_plain_data_in_json(app, owner, open_hours):
    lead_id = book_lead(
        app,
        utm={"utm_source": XSS, "utm_campaign": XSS},
        referrer=f"https://evil.example/{XSS}",
        name=XSS,
        company=XSS,
        role=XSS,
        message=XSS,
        email="mallory@evil.example",
    )
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        lead.company_size = SHORT_XSS  # the column holds 20 characters
        lead.articles_read = [*lead.articles_read, XSS]
        lead.bookings[0].situation = [XSS]
        db.session.commit()
    owner.post(f"/owner/leads/{lead_id}/notes", data={"body": XSS})
    page = owner.get(f"/owner/leads/{lead_id}").get_data(as_text=True)
    assert "<script>" not in page and "<b>x</b>" not in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"
    # name (title, h1, details, erase label), company x2, role x2, message, situation,
    # article read, utm source and campaign, referrer, the note
    assert page.count(escaped) >= 14
    assert "<dd>&lt;script&gt;x&lt;/script&gt;</dd>" in page  # company size
    data = json.loads(owner.get(f"/owner/leads/{lead_id}.json").get_data(as_text=True))
    assert data["lead"]["name"] == XSS and data["lead"]["company_size"] == SHORT_XSS
    assert data["bookings"][0]["message"] == XSS
    assert data["lead"]["first_touch"]["utm_source"] == XSS
    assert data["events"][-1]["body"] == XSS


def test_anonymous_visitors_are_sent_to_login_and_json_gets_401(app, client, open_hours):
    lead_id = book_lead(app)
    page = client.get(f"/owner/leads/{lead_id}")
    assert page.status_code == 302 and "/owner/login" in page.headers["Location"]
    for action, data in [
        ("status", {"status": "won"}),
        ("notes", {"body": "hi"}),
        ("erase", {"confirm": VALID_ANSWERS["email"]}),
        ("bookings/1/outcome", {"outcome": "completed"}),
    ]:
        response = client.post(f"/owner/leads/{lead_id}/{action}", data=data)
        assert response.status_code == 302 and "/owner/login" in response.headers["Location"]
    response = client.get(f"/owner/leads/{lead_id}.json")
    assert response.status_code == 401 and response.json == {"error": "login required"}
    assert count(app, Lead) == 1 and count(app, LeadEvent) == 1  # only the booking's


@pytest.fixture
def csrf_on(settings):
    settings["WTF_CSRF_ENABLED"] = True
    return settings


def test_lead_actions_need_the_csrf_token(csrf_on, app, client, owner_account, open_hours):
    from tests.conftest import OWNER_EMAIL, OWNER_PASSWORD

    login = client.get("/owner/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    data = {"email": OWNER_EMAIL, "password": OWNER_PASSWORD, "csrf_token": token}
    assert client.post("/owner/login", data=data).status_code == 303
    browser = app.test_client()
    browser.get(f"/library/{ARTICLE_SLUG}")
    assert Visitor(browser).book().status_code == 303
    with app.app_context():
        lead_id = db.session.scalar(select(Lead.id))

    refused = client.post(f"/owner/leads/{lead_id}/status", data={"status": "won"})
    assert refused.status_code == 400
    page = client.get(f"/owner/leads/{lead_id}").get_data(as_text=True)
    tokens = re.findall(r'name="csrf_token" value="([^"]+)"', page)
    assert len(tokens) >= 3  # every form on the page carries one
    accepted = client.post(
        f"/owner/leads/{lead_id}/status", data={"status": "won", "csrf_token": tokens[0]}
    )
    assert accepted.status_code == 303
    assert lead_status_of(app, lead_id) == "won"


def test_timeline_merges_notes_status_and_calls_newest_first(app, owner, lead_id):
    past = add_booking(app, lead_id, datetime.now(UTC) - timedelta(days=2), status="cancelled")
    with app.app_context():
        booking = db.session.get(Booking, past)
        booking.cancelled_at = booking.created_at + timedelta(hours=1)
        db.session.commit()
    owner.post(f"/owner/leads/{lead_id}/notes", data={"body": "n"})
    owner.post(f"/owner/leads/{lead_id}/status", data={"status": "contacted"})
    with app.app_context():
        entries = timeline(db.session.get(Lead, lead_id))
        kinds = [entry.kind for entry in entries]
        times = [entry.at for entry in entries]
    # future call, status, note, this booking's move to "call booked" and its "booked", the
    # earlier call's cancel and booking
    assert kinds == ["call", "status", "note", "status", "booked", "cancelled", "booked"]
    assert times == sorted(times, reverse=True)


def test_after_the_owner_moves_zone_every_time_on_the_lead_page_is_in_the_new_zone(
    app, owner, lead_id
):
    from domain.booking.availability import load_values, save_values

    starts = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)  # 2 June, 08:30 in Tokyo
    add_booking(app, lead_id, starts)  # booked while the owner was in London
    with app.app_context():
        save_values(db.session, replace(load_values(db.session), timezone="Asia/Tokyo"))
        db.session.commit()
    page = text_of(owner.get(f"/owner/leads/{lead_id}"))
    assert "Call on Tuesday 2 June 2026" in page
    assert "Your time</dt><dd><strong>Tuesday 2 June 2026, 08:30–09:00</strong>" in page
    # London stays only as the first visitor's own zone, under "Their time".
    assert page.count("Europe/London (") == 1
    assert "Asia/Tokyo (JST)" in page
