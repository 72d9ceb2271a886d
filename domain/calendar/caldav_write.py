"""Calls written into the owner's CalDAV calendar, through the durable outbox.

A booking, reschedule or cancel queues one outbox message of channel "caldav" in its own
transaction (`enqueue_calendar_write`). The message holds no event: when it is sent,
`write_booking_event` reads the booking as it is then and PUTs its event (active) or
DELETEs it (cancelled, or gone), at an address made from the call's UID. So the writes
are idempotent and their order does not matter: a late or repeated message writes the
current state again, and an outage only delays it.

The event carries no ORGANIZER or ATTENDEE: servers that schedule (iCloud, Fastmail)
would otherwise send the visitor a second invite of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from caldav.lib import error as caldav_errors
from icalendar import Calendar, Event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.booking.location import CallLocation, describe_location, load_location
from domain.calendar.caldav_sync import CalDAVError, CalDAVSettings, describe, open_calendar
from domain.calendar.files import PRODUCT_ID, as_utc, booking_uid
from domain.leads.brief import size_label
from domain.mail.mailer import MailError, PermanentMailError, TransientMailError
from models import Booking, OutboxMessage

CHANNEL = "caldav"
KIND = "caldav_event"
# A call of an erased lead, taken out of the calendar: the booking row is gone, so the
# message carries the booking's id (not personal data) in its body.
ERASE_KIND = "caldav_erase"
WRITTEN = {200, 201, 204}
DELETED = {200, 202, 204, 404, 410}  # an event already gone is as good as deleted
# Worth trying again as they are: outages, throttling, and credentials the owner may fix.
TRANSIENT_STATUSES = {401, 403, 408, 423, 425, 429}


def enqueue_calendar_write(
    session: Session, booking: Booking, *, calendar_name: str, now: datetime
) -> OutboxMessage:
    """Queue a write of the booking into the CalDAV calendar; the caller commits.

    An earlier write of this booking still waiting is dropped: this one writes the
    latest state anyway."""
    session.flush()  # the booking's id
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.booking_id == booking.id,
            OutboxMessage.channel == CHANNEL,
            OutboxMessage.status == "pending",
        )
        .values(status="cancelled")
        .execution_options(synchronize_session="fetch")
    )
    message = OutboxMessage(
        channel=CHANNEL,
        kind=KIND,
        lead_id=booking.lead_id,
        booking_id=booking.id,
        # What the dashboard and the metrics show for it, in place of an address.
        to_address=f"CalDAV calendar “{calendar_name}”"[:320],
        subject=f"Call {booking.id} into your calendar",
        body_text="",
        attachments=[],
        link_booking_ids=[],
        status="pending",
        send_after=now,
        attempts=0,
        created_at=now,
    )
    session.add(message)
    return message


def enqueue_calendar_erasures(session: Session, booking_ids: list[int], *, now: datetime) -> None:
    """Queue the removal of these calls from the calendar, for a lead being erased; the
    caller commits. Harmless with CalDAV off: such a message is done at once."""
    session.add_all(
        OutboxMessage(
            channel=CHANNEL,
            kind=ERASE_KIND,
            lead_id=None,
            booking_id=None,
            to_address="CalDAV calendar",
            subject=f"Call {booking_id} of an erased lead out of your calendar",
            body_text=str(booking_id),
            attachments=[],
            link_booking_ids=[],
            status="pending",
            send_after=now,
            attempts=0,
            created_at=now,
        )
        for booking_id in booking_ids
    )


def owner_event_ics(
    booking, *, site_url: str, now: datetime, location: CallLocation | None = None
) -> str:
    """The call as the owner's calendar stores it (no METHOD: RFC 4791 forbids it there)."""
    lead_url = f"{site_url}/owner/leads/{booking.lead_id}"
    who = f"{booking.name}, {booking.company}" if booking.company else booking.name
    description = "\n".join(
        [
            f"Strategy call with {who}.",
            f"Role: {booking.role}" if booking.role else "",
            f"Company size: {size_label(booking.company_size)}" if booking.company_size else "",
            describe_location(location, booking.phone, for_owner=True),
            f"Fit: {booking.fit_score}/100, suggested: {booking.suggested_engagement}",
            f"Lead: {lead_url}",
        ]
    ).replace("\n\n", "\n")
    event = Event()
    event.add("uid", booking_uid(booking.id, site_url))
    event.add("dtstamp", as_utc(now).replace(microsecond=0))
    event.add("dtstart", as_utc(booking.starts_at))
    event.add("dtend", as_utc(booking.ends_at))
    event.add("summary", f"Strategy call: {who}"[:250])
    event.add("description", description)
    event.add("url", lead_url)
    if location is not None:
        event.add("location", location.calendar_text(booking.phone))
    event.add("sequence", booking.sequence)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


EVENT_COLUMNS = (
    Booking.id, Booking.lead_id, Booking.status, Booking.name, Booking.company, Booking.role,
    Booking.company_size, Booking.fit_score, Booking.suggested_engagement, Booking.starts_at,
    Booking.ends_at, Booking.sequence, Booking.phone,
)  # fmt: skip


def _current_booking(session: Session, booking_id: int):
    """The booking as it is now, as a plain row, read in a transaction that ends here: no
    transaction stays open while the calendar server takes its time."""
    booking = session.execute(select(*EVENT_COLUMNS).where(Booking.id == booking_id)).first()
    session.commit()
    return booking


def _existing_href(calendar, uid: str) -> str | None:
    """Where the calendar holds the event of this UID, if anywhere (a search: only when
    needed). Not always where this site puts it: a mail client that files the owner's
    invite (Fastmail does) makes an event of that UID under a name of its own, and a
    calendar holds one event per UID."""
    try:
        return str(calendar.get_event_by_uid(uid).url)
    except caldav_errors.NotFoundError:
        return None


def _put(client, calendar, href: str, uid: str, body: str):
    """PUT the event at `href`; if the calendar already holds its UID under another name,
    PUT it there instead."""
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    try:
        response = client.put(href, body, headers)
        conflict = response.status in (403, 409) and "no-uid-conflict" in str(response.raw)
    except caldav_errors.AuthorizationError as error:  # a 403, as some servers answer it
        if not any("no-uid-conflict" in tag for tag in error.preconditions):
            raise
        conflict, response = True, None
    if not conflict:
        return response
    found = _existing_href(calendar, uid)
    if found is None or found == href:
        raise CalDAVError("the calendar refused the call's event (a UID conflict)")
    return client.put(found, body, headers)


def _check(response, expected: set[int], action: str, settings: CalDAVSettings) -> None:
    status = response.status
    if status in expected:
        return
    reason = describe(RuntimeError(f"the server answered {status} to the {action}"), settings)
    permanent = 400 <= status < 500 and status not in TRANSIENT_STATUSES
    raise CalDAVError(reason, permanent=permanent)


def write_booking_event(
    session: Session,
    booking_id: int,
    settings: CalDAVSettings,
    *,
    site_url: str,
    now: datetime,
) -> str:
    """Make the calendar hold the booking's current state; "written" or "deleted".
    Raises CalDAVError."""
    booking = _current_booking(session, booking_id)
    uid = booking_uid(booking_id, site_url)
    client, calendar = open_calendar(settings)
    href = str(calendar.url.join(quote(uid, safe="") + ".ics"))
    try:
        if booking is not None and booking.status == "active":
            location = load_location(session)
            session.commit()  # only read: no transaction waits on the calendar server
            body = owner_event_ics(booking, site_url=site_url, now=now, location=location)
            _check(_put(client, calendar, href, uid, body), WRITTEN, "event's PUT", settings)
            return "written"
        response = client.delete(href)
        if response.status in (404, 410):  # never written, or filed under another name
            found = _existing_href(calendar, uid)
            response = client.delete(found) if found else response
        _check(response, DELETED, "event's DELETE", settings)
        return "deleted"
    except CalDAVError:
        raise
    except Exception as error:  # connection refused, timeout, a malformed answer
        raise CalDAVError(describe(error, settings)) from None
    finally:
        client.close()


OFF = "CalDAV is off (CALDAV_URL is empty): nothing written"
# (session, message, now) -> None when the calendar holds the booking, else the error
CalendarWriter = Callable[[Session, Any, datetime], MailError | None]


def calendar_writer_from_config(config: Mapping[str, Any]) -> CalendarWriter:
    """What the outbox calls for a "caldav" message: None when written, else the error
    (transient unless the server refused the event outright)."""
    settings = CalDAVSettings.from_config(config)

    def write(session: Session, message, now: datetime) -> MailError | None:
        erasing = message.kind == ERASE_KIND
        if settings is None:
            # An erasure with CalDAV off has nothing to take out; a write would be lost.
            return None if erasing else PermanentMailError(OFF)
        try:
            write_booking_event(
                session,
                int(message.body_text) if erasing else message.booking_id,
                settings,
                site_url=config["SITE_URL"],
                now=now,
            )
        except CalDAVError as error:
            failure = PermanentMailError if error.permanent else TransientMailError
            return failure(f"CalDAV: {error}")
        return None

    return write
