"""The emails a strategy call sends, as plain-text drafts: what they say, not how they travel.

Each draft shows the call in its recipient's own zone, with the zone named: visitors read
their time, the owner reads theirs. The outbox stores drafts and domain.mail.mailer sends them.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.booking.location import CallLocation, describe_location, display_phone
from domain.booking.timezones import gmt_offset, place_name

# Sizes by their label ("51–200 people"), never our code ("51-200").
from domain.leads.brief import describe_touch, size_label
from domain.leads.details import DETAIL_LABELS
from domain.mail.mailer import reply_to_address, sendable_address

ENGAGEMENTS = {"architect": "AI Systems Architect", "engineer": "AI Engineer"}
INVITE_FILENAME = "strategy-call.ics"


@dataclass(frozen=True)
class CallDetails:
    """Everything an email about one call may mention; start and end are aware UTC."""

    visitor_name: str
    visitor_email: str
    company: str
    role: str
    company_size: str
    situation: tuple[str, ...]  # the human labels the visitor ticked
    message: str
    fit_score: int
    suggested_engagement: str  # "architect" or "engineer"
    start: datetime
    end: datetime
    visitor_timezone: str
    owner_timezone: str
    manage_url: str
    owner_name: str
    owner_email: str
    site_name: str
    source_article_title: str | None
    attribution: Mapping[str, Any] = field(default_factory=dict)
    booking_id: int | None = None  # the booking whose link `manage_url` stands for
    # (field, given with this booking, the lead's) where this booking's details differ
    lead_differences: tuple[tuple[str, str, str], ...] = ()
    location: CallLocation | None = None  # None: not set yet, "the link will follow"
    visitor_phone: str | None = None  # E.164, when the owner calls the visitor
    lead_url: str = ""  # the lead's page on the owner's dashboard
    cancel_reason: str = ""  # what the visitor wrote when cancelling, if anything
    book_url: str = ""  # the booking page, where a visitor who cancelled can book again


@dataclass(frozen=True)
class EmailDraft:
    """One email to one recipient; attachments are {"filename", "content_type", "content"}."""

    to: str
    subject: str
    body_text: str
    attachments: tuple[dict[str, str], ...] = ()
    # The recipient's own bookings whose private links the text carries as placeholders.
    link_booking_ids: tuple[int, ...] = ()
    reply_to: str = ""  # "Name <address>": the owner's answer goes to the lead


def _local(moment: datetime, timezone: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("email times must be timezone-aware")
    return moment.astimezone(ZoneInfo(timezone))


def _zone_label(timezone: str, local: datetime) -> str:
    """'Kolkata, GMT+5:30': place and offset as the booking pages name them, never an
    abbreviation that can mean two zones ("IST" is India's, Ireland's and Israel's)."""
    place = place_name(timezone)
    return place if place == "UTC" else f"{place}, {gmt_offset(local, timezone)}"


def _long_day(local: datetime) -> str:
    return f"{local:%A} {local.day} {local:%B %Y}"


def format_call_time(start: datetime, end: datetime, timezone: str) -> str:
    """ "Thursday 26 November 2026, 14:00–14:30 (London, GMT+0)" in `timezone`."""
    local_start, local_end = _local(start, timezone), _local(end, timezone)
    if local_end.date() == local_start.date():
        span = f"{_long_day(local_start)}, {local_start:%H:%M}–{local_end:%H:%M}"
    else:
        span = f"{_long_day(local_start)}, {local_start:%H:%M} – {_long_day(local_end)}, "
        span += f"{local_end:%H:%M}"
    return f"{span} ({_zone_label(timezone, local_start)})"


def short_call_time(start: datetime, timezone: str) -> str:
    """For subject lines: "Thursday 26 November at 14:00 (Europe/London)"."""
    local = _local(start, timezone)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M} ({timezone})"


def _visitor_short(details: CallDetails) -> str:
    return short_call_time(details.start, details.visitor_timezone)


def _invite(ics_text: str, method: str) -> dict[str, str]:
    return {
        "filename": INVITE_FILENAME,
        "content_type": f"text/calendar; method={method}",
        "content": ics_text,
    }


def _signature(details: CallDetails) -> str:
    return f"Best regards,\n{details.owner_name}\n{details.site_name}\n"


def where(details: CallDetails) -> str:
    """Where the call happens, one line, for every email."""
    return describe_location(details.location, details.visitor_phone, details.owner_name)


def _manage_paragraph(details: CallDetails) -> str:
    return (
        "To reschedule or cancel, use your private booking page. Please keep the link to "
        f"yourself, as anyone who has it can change the booking:\n{details.manage_url}"
    )


def _visitor_draft(
    details: CallDetails, subject: str, paragraphs: Iterable[str], *, with_link=True, **kw
):
    """`with_link`: the email carries the private link, minted fresh when it is sent."""
    body = "\n\n".join([f"Hello {details.visitor_name},", *paragraphs, _signature(details)])
    links = (details.booking_id,) if with_link and details.booking_id is not None else ()
    return EmailDraft(
        to=sendable_address(details.visitor_email),
        subject=subject,
        body_text=body,
        link_booking_ids=links,
        **kw,
    )


def visitor_confirmation(details: CallDetails, ics_text: str) -> EmailDraft:
    when = format_call_time(details.start, details.end, details.visitor_timezone)
    minutes = int((details.end - details.start) / timedelta(minutes=1))
    return _visitor_draft(
        details,
        f"Your strategy call is booked: {_visitor_short(details)}",
        [
            "Thank you for booking a strategy conversation. Your call is confirmed for:",
            f"    {when}\n    Where: {where(details)}",
            "The calendar invitation is attached; open it to add the call to your calendar.",
            "I will read your answers before we speak, so that we can spend our "
            f"{minutes} minutes on your situation rather than on introductions.",
            _manage_paragraph(details),
            "I look forward to speaking with you.",
        ],
        attachments=(_invite(ics_text, "REQUEST"),),
    )


def visitor_reminder(details: CallDetails) -> EmailDraft:
    when = format_call_time(details.start, details.end, details.visitor_timezone)
    return _visitor_draft(
        details,
        f"Reminder: our strategy call on {_visitor_short(details)}",
        [
            "A quick reminder of our strategy conversation:",
            f"    {when}\n    Where: {where(details)}",
            "If something has come up, you can still move or cancel the call from your "
            f"private booking page:\n{details.manage_url}",
            "Speak soon.",
        ],
    )


def visitor_cancellation(details: CallDetails, ics_text: str) -> EmailDraft:
    when = format_call_time(details.start, details.end, details.visitor_timezone)
    return _visitor_draft(
        details,
        f"Cancelled: our strategy call on {_visitor_short(details)}",
        [
            "This is to confirm that our strategy call is cancelled:",
            f"    {when}\n    It was to be held here: {where(details)}",
            "The attached update removes it from your calendar.",
            # A cancelled call cannot be moved, so the private link would lead nowhere useful.
            "If you would like to find another time, simply reply to this email or "
            f"book a new call:\n{details.book_url}",
        ],
        attachments=(_invite(ics_text, "CANCEL"),),
        with_link=False,
    )


def visitor_reschedule(details: CallDetails, previous_start: datetime, ics_text: str) -> EmailDraft:
    zone = details.visitor_timezone
    previous_end = previous_start + (details.end - details.start)
    return _visitor_draft(
        details,
        f"Your strategy call has moved to {short_call_time(details.start, zone)}",
        [
            "Our strategy call has a new time:",
            f"    Now: {format_call_time(details.start, details.end, zone)}\n"
            f"    Was: {format_call_time(previous_start, previous_end, zone)}\n"
            f"    Where: {where(details)}",
            "The attached invitation updates the call in your calendar.",
            _manage_paragraph(details),
        ],
        attachments=(_invite(ics_text, "REQUEST"),),
    )


def _origin_lines(details: CallDetails) -> list[str]:
    attribution = details.attribution or {}
    article = details.source_article_title or "none (booked without an article)"
    articles_read = attribution.get("articles_read") or []
    return [
        f"  Article: {article}",
        f"  First visit: {describe_touch(attribution.get('first_touch'))}",
        f"  Latest visit: {describe_touch(attribution.get('last_touch'))}",
        f"  Articles read: {', '.join(articles_read) if articles_read else 'none recorded'}",
    ]


def _answer_lines(details: CallDetails) -> list[str]:
    situation = [f"    - {label}" for label in details.situation] or ["    (none chosen)"]
    message = details.message.strip() or "(no message)"
    return [
        f"  Name: {details.visitor_name}",
        f"  Work email: {details.visitor_email}",
        f"  Company: {details.company}",
        f"  Role: {details.role}",
        f"  Company size: {size_label(details.company_size)}",
        *([f"  Phone: {display_phone(details.visitor_phone)}"] if details.visitor_phone else []),
        "  What prompts the call:",
        *situation,
        "  Message:",
        *(f"    {line}" for line in message.splitlines()),
    ]


def _shown(name: str, value: str) -> str:
    return size_label(value) if name == "company_size" else value


def _difference_lines(details: CallDetails) -> list[str]:
    """A booking by an address that already has a lead keeps the lead's details; the owner
    is told what this booking said instead (whoever typed the address may not be them)."""
    if not details.lead_differences:
        return []
    return [
        "",
        "This address already had a lead, whose details were kept. This booking said:",
        *(
            f"  {DETAIL_LABELS.get(name, name)}: {_shown(name, given)} (lead: {_shown(name, kept)})"
            for name, given, kept in details.lead_differences
        ),
    ]


def _lead_summary(details: CallDetails) -> str:
    engagement = ENGAGEMENTS.get(details.suggested_engagement, details.suggested_engagement)
    return "\n".join(
        [
            f"Fit score: {details.fit_score}/100",
            f"Suggested engagement: {engagement}",
            "",
            "Their answers",
            *_answer_lines(details),
            *_difference_lines(details),
            "",
            "Where they came from",
            *_origin_lines(details),
        ]
    )


def _owner_draft(
    details: CallDetails, subject: str, paragraphs: Iterable[str], ics_text: str, method: str
) -> EmailDraft:
    """To the owner: the lead's page first, replies go to the lead, and the invite (same
    UID as the visitor's) puts the call straight into the owner's calendar."""
    lead_page = [f"The lead's page: {details.lead_url}"] if details.lead_url else []
    body = "\n\n".join([*paragraphs, *lead_page, _lead_summary(details)]) + "\n"
    return EmailDraft(
        to=details.owner_email,
        subject=subject,
        body_text=body,
        attachments=(_invite(ics_text, method),),
        reply_to=reply_to_address(details.visitor_name, details.visitor_email),
    )


def _owner_when(details: CallDetails, previous_start: datetime | None = None) -> str:
    zone = details.owner_timezone
    lines = [f"When: {format_call_time(details.start, details.end, zone)}"]
    if previous_start is not None:
        previous_end = previous_start + (details.end - details.start)
        lines.append(f"Was: {format_call_time(previous_start, previous_end, zone)}")
    # The visitor's own time is context for the owner: 08:00 there is an early start.
    visitor_when = format_call_time(details.start, details.end, details.visitor_timezone)
    where_line = describe_location(details.location, details.visitor_phone, for_owner=True)
    return "\n".join([*lines, f"Their local time: {visitor_when}", f"Where: {where_line}"])


def _who(details: CallDetails) -> str:
    return f"{details.visitor_name} ({details.company})"


def owner_notification(details: CallDetails, ics_text: str) -> EmailDraft:
    when = short_call_time(details.start, details.owner_timezone)
    return _owner_draft(
        details,
        f"New strategy call: {_who(details)}, {when}, fit {details.fit_score}",
        [f"{_who(details)} booked a strategy call.", _owner_when(details)],
        ics_text,
        "REQUEST",
    )


def owner_cancellation(details: CallDetails, ics_text: str) -> EmailDraft:
    when = short_call_time(details.start, details.owner_timezone)
    return _owner_draft(
        details,
        f"Cancelled: strategy call with {_who(details)}, {when}",
        [
            f"The strategy call with {_who(details)} is cancelled; the time is free again.",
            _owner_when(details),
            _cancel_reason(details),
        ],
        ics_text,
        "CANCEL",
    )


def _cancel_reason(details: CallDetails) -> str:
    if not details.cancel_reason:
        return "They gave no reason."
    return f"Their reason: {details.cancel_reason}"


def owner_reschedule(details: CallDetails, previous_start: datetime, ics_text: str) -> EmailDraft:
    when = short_call_time(details.start, details.owner_timezone)
    return _owner_draft(
        details,
        f"Moved: strategy call with {_who(details)}, now {when}",
        [
            f"The strategy call with {_who(details)} has moved.",
            _owner_when(details, previous_start),
        ],
        ics_text,
        "REQUEST",
    )
