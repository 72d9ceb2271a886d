"""Each email shows the call in its recipient's zone, named, and says what its reader needs."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.mail import emails
from domain.mail.emails import CallDetails, format_call_time

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # London winter: GMT, New York: EST
END = START + timedelta(minutes=30)
PREVIOUS = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
ICS = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
CANCEL_ICS = "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n"

VISITOR_TIME = "Thursday 26 November 2026, 09:00–09:30 (New York, GMT-5)"
OWNER_TIME = "Thursday 26 November 2026, 14:00–14:30 (London, GMT+0)"


@pytest.fixture
def details() -> CallDetails:
    return CallDetails(
        visitor_name="Ada Lovelace",
        visitor_email="ada@analytical.example",
        company="Analytical Engines Ltd",
        role="Chief Technology Officer",
        company_size="51-200",  # the stored code; emails show its label
        situation=("AI pilots that never reach production", "No one owns the AI roadmap"),
        message="Three pilots, no plan.\nWe need someone to design the whole system.",
        fit_score=78,
        suggested_engagement="architect",
        start=START,
        end=END,
        visitor_timezone="America/New_York",
        owner_timezone="Europe/London",
        manage_url="https://example.test/booking/private-token",
        book_url="https://example.test/book",
        owner_name="Saed Shafane",
        owner_email="owner@example.test",
        site_name="Saed Shafane · Intelligence Library",
        source_article_title="AI Systems Architect vs AI Engineer",
        attribution={
            "first_touch": {
                "utm_source": "linkedin",
                "utm_medium": "social",
                "utm_campaign": "architecture-2026",
                "referrer": "https://www.linkedin.com/",
                "landing": "/library/ai-systems-architect-vs-ai-engineer",
            },
            "last_touch": {"referrer": "https://www.google.com/", "landing": "/"},
            "articles_read": ["ai-systems-architect-vs-ai-engineer", "agent-orchestration"],
        },
    )


def visitor_drafts(details):
    return {
        "confirmation": emails.visitor_confirmation(details, ICS),
        "reminder": emails.visitor_reminder(details),
        "cancellation": emails.visitor_cancellation(details, ICS),
        "reschedule": emails.visitor_reschedule(details, PREVIOUS, ICS),
    }


def owner_drafts(details):
    return {
        "notification": emails.owner_notification(details, ICS),
        "cancellation": emails.owner_cancellation(details, CANCEL_ICS),
        "reschedule": emails.owner_reschedule(details, PREVIOUS, ICS),
    }


def test_call_time_is_shown_in_the_zone_given_with_the_zone_named():
    assert format_call_time(START, END, "Europe/London") == OWNER_TIME
    assert format_call_time(START, END, "America/New_York") == VISITOR_TIME


def test_call_time_in_a_half_hour_offset_zone():
    assert format_call_time(START, END, "Asia/Kolkata") == (
        "Thursday 26 November 2026, 19:30–20:00 (Kolkata, GMT+5:30)"
    )


def test_call_time_in_summer_time_names_the_summer_offset():
    start = datetime(2026, 7, 2, 13, 0, tzinfo=UTC)
    end = start + timedelta(minutes=45)
    assert format_call_time(start, end, "Europe/London") == (
        "Thursday 2 July 2026, 14:00–14:45 (London, GMT+1)"
    )
    assert format_call_time(start, end, "America/New_York") == (
        "Thursday 2 July 2026, 09:00–09:45 (New York, GMT-4)"
    )


def test_call_time_on_the_day_the_clocks_change():
    # London leaves BST at 01:00 UTC on 25 October 2026; a morning call is already GMT.
    start = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert format_call_time(start, start + timedelta(minutes=30), "Europe/London") == (
        "Sunday 25 October 2026, 09:00–09:30 (London, GMT+0)"
    )


def test_call_time_names_the_place_and_offset_and_crosses_midnight():
    assert format_call_time(START, END, "Asia/Dubai") == (
        "Thursday 26 November 2026, 18:00–18:30 (Dubai, GMT+4)"
    )
    assert format_call_time(START, END, "UTC") == "Thursday 26 November 2026, 14:00–14:30 (UTC)"
    late = datetime(2026, 11, 26, 4, 45, tzinfo=UTC)
    assert format_call_time(late, late + timedelta(minutes=30), "America/Los_Angeles") == (
        "Wednesday 25 November 2026, 20:45–21:15 (Los Angeles, GMT-8)"
    )
    assert format_call_time(late, late + timedelta(minutes=30), "Pacific/Auckland") == (
        "Thursday 26 November 2026, 17:45–18:15 (Auckland, GMT+13)"
    )
    midnight = datetime(2026, 11, 26, 23, 45, tzinfo=UTC)
    assert format_call_time(midnight, midnight + timedelta(minutes=30), "UTC") == (
        "Thursday 26 November 2026, 23:45 – Friday 27 November 2026, 00:15 (UTC)"
    )


def test_call_time_refuses_a_naive_datetime():
    with pytest.raises(ValueError, match="aware"):
        format_call_time(START.replace(tzinfo=None), END, "Europe/London")


def test_visitor_emails_show_the_visitor_zone_and_the_private_link(details):
    for name, draft in visitor_drafts(details).items():
        assert draft.to == "ada@analytical.example", name
        assert VISITOR_TIME in draft.body_text, name
        assert "(America/New_York)" in draft.subject, name
        assert "Europe/London" not in draft.body_text + draft.subject, name
        # A cancelled call has nothing left to manage: its email offers a new call instead.
        link = "https://example.test/book" if name == "cancellation" else details.manage_url
        assert link in draft.body_text, name
        assert draft.body_text.startswith("Hello Ada Lovelace,"), name
        assert "Saed Shafane" in draft.body_text, name


def test_owner_emails_show_the_owner_zone_first_and_the_whole_lead(details):
    for name, draft in owner_drafts(details).items():
        assert draft.to == "owner@example.test", name
        assert f"When: {OWNER_TIME}" in draft.body_text, name
        assert f"Their local time: {VISITOR_TIME}" in draft.body_text, name
        assert "(Europe/London)" in draft.subject, name
        assert "Fit score: 78/100" in draft.body_text, name
        # The visitor's private link changes their booking: it is not the owner's to hold.
        assert "private-token" not in draft.body_text, name


def test_confirmation_attaches_the_invite(details):
    draft = emails.visitor_confirmation(details, ICS)
    assert draft.subject == (
        "Your strategy call is booked: Thursday 26 November at 09:00 (America/New_York)"
    )
    assert draft.attachments == (
        {
            "filename": "strategy-call.ics",
            "content_type": "text/calendar; method=REQUEST",
            "content": ICS,
        },
    )
    assert "30 minutes" in draft.body_text


def test_owner_notification_has_every_answer_the_score_and_the_source(details):
    draft = emails.owner_notification(details, ICS)
    body = draft.body_text
    assert draft.subject == (
        "New strategy call: Ada Lovelace (Analytical Engines Ltd), "
        "Thursday 26 November at 14:00 (Europe/London), fit 78"
    )
    for answer in (
        "Name: Ada Lovelace",
        "Work email: ada@analytical.example",
        "Company: Analytical Engines Ltd",
        "Role: Chief Technology Officer",
        "Company size: 51–200 people",
        "- AI pilots that never reach production",
        "- No one owns the AI roadmap",
        "    Three pilots, no plan.\n    We need someone to design the whole system.",
        "Suggested engagement: AI Systems Architect",
        "Article: AI Systems Architect vs AI Engineer",
        "First visit: source linkedin, medium social, campaign architecture-2026, referrer "
        "https://www.linkedin.com/, landed on /library/ai-systems-architect-vs-ai-engineer",
        "Latest visit: referrer https://www.google.com/, landed on /",
        "Articles read: ai-systems-architect-vs-ai-engineer, agent-orchestration",
    ):
        assert answer in body
    assert "51-200" not in body
    # The owner's own invite rides along, and answering the email answers the lead.
    assert draft.attachments[0]["content_type"] == "text/calendar; method=REQUEST"
    assert draft.reply_to == "Ada Lovelace <ada@analytical.example>"


def test_owner_notification_without_article_tags_or_answers(details):
    bare = replace(
        details,
        source_article_title=None,
        attribution={"first_touch": {}, "last_touch": {"landing": "/book"}},
        situation=(),
        message="  ",
        suggested_engagement="engineer",
    )
    body = emails.owner_notification(bare, ICS).body_text
    assert "Article: none (booked without an article)" in body
    assert "First visit: not recorded" in body
    assert "Latest visit: landed on /book" in body
    assert "Articles read: none recorded" in body
    assert "(none chosen)" in body and "(no message)" in body
    assert "Suggested engagement: AI Engineer" in body


def test_reminder_has_no_attachment_and_names_the_call(details):
    draft = emails.visitor_reminder(details)
    assert draft.subject.startswith("Reminder: our strategy call on Thursday 26 November at 09:00")
    assert draft.attachments == ()


def test_cancellation_sends_a_cancel_invite_to_the_visitor(details):
    visitor = emails.visitor_cancellation(details, ICS)
    assert visitor.subject.startswith("Cancelled:")
    assert visitor.attachments[0]["content_type"] == "text/calendar; method=CANCEL"
    assert "cancelled" in visitor.body_text
    assert details.manage_url not in visitor.body_text  # a cancelled call is not managed
    owner = emails.owner_cancellation(details, CANCEL_ICS)
    assert owner.subject.startswith("Cancelled: strategy call with Ada Lovelace")
    assert "free again" in owner.body_text


def test_reschedule_shows_the_new_and_the_old_time_in_each_readers_zone(details):
    visitor = emails.visitor_reschedule(details, PREVIOUS, ICS)
    assert f"Now: {VISITOR_TIME}" in visitor.body_text
    assert "Was: Tuesday 24 November 2026, 11:00–11:30 (New York, GMT-5)" in (visitor.body_text)
    assert visitor.attachments[0]["content_type"] == "text/calendar; method=REQUEST"
    owner = emails.owner_reschedule(details, PREVIOUS, ICS)
    assert "Was: Tuesday 24 November 2026, 16:00–16:30 (London, GMT+0)" in owner.body_text
    assert owner.subject.startswith("Moved: strategy call with Ada Lovelace")
