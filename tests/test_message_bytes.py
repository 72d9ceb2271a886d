"""The mailer builds messages with headers parsed once and shared (domain/mail/mailer.py
POLICY): every kind of email must still leave byte for byte as the standard policy
(email.policy.default) writes it, the first time a header is seen and every time after."""

import random
import sys
from datetime import UTC, datetime, timedelta
from email.headerregistry import BaseHeader
from email.policy import default as default_policy
from email.utils import make_msgid
from zoneinfo import ZoneInfo

import pytest

from domain.calendar.files import booking_ics
from domain.leads.brief import CallBrief, Note, PastCall
from domain.mail import emails, mailer
from domain.mail.brief_email import owner_brief
from domain.mail.emails import CallDetails
from domain.mail.mailer import build_message, reply_to_address

START = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
PREVIOUS = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
SENDER = "Saed Shafane <calls@example.test>"

PEOPLE = {
    "plain": ("Ada Lovelace", "ada@analytical.example", "Analytical Engines Ltd"),
    "accented": ("Zoë Ñúñez-Brontë", "zoe@societe-generale.example", "Société Générale d'Études"),
    "long": ("Bartholomew " * 6 + "Featherstonehaugh", "b" * 60 + "@example.test", "X" * 90),
    "quoted": ('Mr. "Bobby" Tables; <admin>', "bobby@tables.example", "Tables, Inc."),
}


def details_for(name: str, email: str, company: str) -> CallDetails:
    return CallDetails(
        visitor_name=name, visitor_email=email, company=company,
        role="Chief Technology Officer", company_size="51-200",
        situation=("AI pilots that never reach production",),
        message="Three pilots, no plan.\nWe need someone — soon. " + "é" * 30,
        fit_score=78, suggested_engagement="architect", start=START, end=END,
        visitor_timezone="Asia/Kolkata", owner_timezone="Europe/London",
        manage_url="[[manage-link:7]]", book_url="https://example.test/book",
        owner_name="Saed Shafane", owner_email="owner@example.test",
        site_name="Saed Shafane · Intelligence Library",
        source_article_title="AI Systems Architect vs AI Engineer", booking_id=7,
        lead_url="https://example.test/owner/leads/3",
    )  # fmt: skip


def invite(details: CallDetails, method: str) -> str:
    return booking_ics(
        uid="booking-7@example.test", start=START, end=END,
        summary=f"Strategy call: {details.visitor_name} ({details.company})",
        description="Where: a video call\nManage or reschedule: [[manage-link:7]]",
        location_url="https://example.test/booking/[[manage-link:7]]",
        organizer_name="Saed Shafane", organizer_email="owner@example.test",
        attendee_name=details.visitor_name, attendee_email=details.visitor_email,
        method=method, now=NOW, location="https://meet.example.test/abc-defg-hij",
    )  # fmt: skip


def brief(details: CallDetails):
    call = CallBrief(
        booking_id=7, start=START, end=END, name=details.visitor_name,
        email=details.visitor_email, phone="+442071234567", company=details.company,
        role=details.role, size="51–200 people", fit_score=78,
        engagement="AI Systems Architect", fit_reasons=("Company size: +20",),
        situation=details.situation, message=details.message, articles_read=("Agents",),
        first_touch="source linkedin", last_touch="direct",
        earlier_calls=(PastCall(PREVIOUS, "Cancelled"),), notes=(Note(NOW, "Called back."),),
    )  # fmt: skip
    return owner_brief(call, to="owner@example.test", zone="Europe/London", where="Video",
                       lead_url=details.lead_url)  # fmt: skip


def every_draft(details: CallDetails) -> dict:
    request, cancel = invite(details, "REQUEST"), invite(details, "CANCEL")
    return {
        "visitor_confirmation": emails.visitor_confirmation(details, request),
        "visitor_reminder": emails.visitor_reminder(details),
        "visitor_cancellation": emails.visitor_cancellation(details, cancel),
        "visitor_reschedule": emails.visitor_reschedule(details, PREVIOUS, request),
        "owner_notification": emails.owner_notification(details, request),
        "owner_cancellation": emails.owner_cancellation(details, cancel),
        "owner_reschedule": emails.owner_reschedule(details, PREVIOUS, request),
        "owner_brief": brief(details),
    }


def wire_bytes(draft, message_id: str) -> list[bytes]:
    """The message as SMTP sends it (CRLF) and as as_bytes() gives it, boundaries fixed."""
    random.seed(message_id)  # the MIME boundary is random
    message = build_message(
        SENDER, to=draft.to, subject=draft.subject, body_text=draft.body_text,
        attachments=draft.attachments, message_id=message_id, now=NOW,
        reply_to=draft.reply_to,
    )  # fmt: skip
    policy = message.policy.clone(linesep="\r\n")
    return [message.as_bytes(policy=policy), message.as_bytes()]


def parsed_header(message, name: str, value: str) -> None:
    message[name] = value  # as the standard policy takes every header: parsed


@pytest.mark.parametrize("person", sorted(PEOPLE))
def test_every_email_leaves_byte_for_byte_as_the_standard_policy_writes_it(person, monkeypatch):
    drafts = every_draft(details_for(*PEOPLE[person]))
    shared = {kind: wire_bytes(draft, f"<{kind}@example.test>") for kind, draft in drafts.items()}
    again = {kind: wire_bytes(draft, f"<{kind}@example.test>") for kind, draft in drafts.items()}
    monkeypatch.setattr(mailer, "POLICY", default_policy)
    monkeypatch.setattr(mailer, "_set_plain_header", parsed_header)
    standard = {kind: wire_bytes(draft, f"<{kind}@example.test>") for kind, draft in drafts.items()}
    assert shared == standard
    assert again == standard


def test_a_reply_to_name_that_needs_encoding_reads_back_as_given():
    name, email = "Zoë Brontë", "zoe@example.test"
    for _ in range(2):  # the second time from the shared headers
        message = build_message(SENDER, to="owner@example.test", subject="Brief",
                                body_text="x", reply_to=reply_to_address(name, email))  # fmt: skip
        assert message["Reply-To"].addresses[0].display_name == name
        assert message["Reply-To"].addresses[0].addr_spec == email


def message_with_parts(body: str):
    attachment = {"filename": "a.txt", "content_type": "text/plain", "content": "x"}
    return build_message(
        SENDER, to="ada@analytical.example", subject="Parts", body_text=body,
        attachments=[attachment],
    )  # fmt: skip


def test_the_boundary_is_never_a_line_of_the_text_it_separates(monkeypatch):
    taken = "=" * 15 + "1".zfill(len(repr(sys.maxsize - 1))) + "=="
    monkeypatch.setattr(mailer, "_BOUNDARIES", [taken])
    draws = iter([1, 2])
    monkeypatch.setattr(mailer.random, "randrange", lambda _stop: next(draws))
    message = message_with_parts(f"Quoted:\n--{taken}\n")
    assert message.get_boundary() == "=" * 15 + "2".zfill(len(taken) - 17) + "=="
    assert len(list(message.iter_parts())) == 2


def test_messages_share_a_boundary_their_texts_do_not_hold():
    first = message_with_parts("One.").get_boundary()
    assert message_with_parts("Two.").get_boundary() == first
    quoting = message_with_parts(f"Quoting the first: {first}")
    assert quoting.get_boundary() != first
    assert quoting.get_boundary() in mailer._BOUNDARIES


def test_a_text_holding_every_shared_boundary_gets_a_new_one():
    every_one = "\n".join(mailer._BOUNDARIES)  # short lines, sent as they are (7bit)
    message = message_with_parts(every_one)
    assert message.get_boundary() not in mailer._BOUNDARIES
    assert message.get_body(("plain",)).get_content() == every_one + "\n"


MADE_HEADERS = {
    "the outbox's": ("<outbox-12-20261120093000123456@example.test>", NOW),
    "make_msgid's": (
        make_msgid(domain="bench.localhost"),
        NOW.astimezone(ZoneInfo("Asia/Kolkata")),
    ),
    "a naive date": ("<a.b+c_d-e@x>", datetime(2026, 11, 20, 9, 30)),
    "a space inside": ("<a b@example.test>", NOW),
    "dots doubled and at the edges": ("<.a..b.@example..test>", NOW),
    "too long to keep": (f"<{'x' * 70}@example.test>", NOW),
    "not an id": ("no angle brackets", NOW),
}


def kept_and_parsed(monkeypatch, **fields):
    """The message built as it is, then with every header parsed as the standard policy
    parses it; each with its bytes as sent (CRLF) and as as_bytes() gives them."""

    def built():
        message = build_message(SENDER, to="ada@analytical.example", body_text="x", **fields)
        crlf = message.policy.clone(linesep="\r\n")
        return message, [message.as_bytes(policy=crlf), message.as_bytes()]

    kept = built()
    monkeypatch.setattr(mailer, "_set_plain_header", parsed_header)
    return kept, built()


@pytest.mark.parametrize("case", sorted(MADE_HEADERS))
def test_date_and_message_id_leave_as_their_parsed_headers_would(case, monkeypatch):
    message_id, now = MADE_HEADERS[case]
    (kept, kept_bytes), (parsed, parsed_bytes) = kept_and_parsed(
        monkeypatch, subject="Date", message_id=message_id, now=now
    )
    assert kept_bytes == parsed_bytes
    assert kept["Date"].datetime == parsed["Date"].datetime
    assert kept["Message-ID"] == parsed["Message-ID"]


def test_a_plain_date_and_message_id_are_kept_as_written():
    message_id = "<outbox-12-20261120093000123456@example.test>"
    message = build_message(SENDER, to="ada@analytical.example", subject="Date",
                            body_text="x", message_id=message_id, now=NOW)  # fmt: skip
    raw = dict(message.raw_items())
    assert (raw["Message-ID"], raw["Date"]) == (message_id, "Fri, 20 Nov 2026 09:30:00 +0000")
    assert not isinstance(raw["Date"], BaseHeader)


SUBJECTS_AND_REPLY_TOS = {
    "plain": ("Your call on Thursday 26 November", "Ada Lovelace <ada@analytical.example>"),
    "punctuation": ("Call: Tables, Inc. (51-200) [A/B] {x} 100% #1!", "bob.o-k+x_y@ex-1.example"),
    "an encoded word": ("=?utf-8?q?Hello?= there", "Ada <ada@example.test>"),
    "two spaces": ("Two  spaces", "Ada  Lovelace <ada@example.test>"),
    "quoted names": ('Say "hi"; to \\ me', '"Bobby Tables" <bobby@tables.example>'),
    "odd addresses": ("x" * 66, "Ada <a..b@example.test>"),
    "too long": ("y" * 67, "Ada " * 12 + "<ada@example.test>"),
    "dots at the edges": (".leading and trailing.", ".ada.@example.test"),
    "an address list": ("Tabs\tand more", "a@example.test, b@example.test"),
}


@pytest.mark.parametrize("case", sorted(SUBJECTS_AND_REPLY_TOS))
def test_subject_and_reply_to_leave_as_their_parsed_headers_would(case, monkeypatch):
    subject, reply_to = SUBJECTS_AND_REPLY_TOS[case]
    (kept, kept_bytes), (parsed, parsed_bytes) = kept_and_parsed(
        monkeypatch, subject=subject, reply_to=reply_to, message_id="<m@x>", now=NOW
    )
    assert kept_bytes == parsed_bytes
    assert kept["Subject"] == parsed["Subject"]
    assert kept["Reply-To"].addresses == parsed["Reply-To"].addresses
