"""Private links that manage one booking.

A link's token is 32 random bytes, opaque (no id in it) and stored only as its SHA-256,
so a copy of the database holds no working link. A booking may have several links: the
one its confirmation page shows and one per email that carries it. Each works until the
owner revokes it or the call ended LINK_LIFETIME ago.

Emails are composed when their event happens but sent later, so their text holds a
placeholder per booking (`link_placeholder`); the sender makes a fresh link for each
when it sends (`fill_links`), and the outbox never holds a working link either.
"""

import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from icalendar.parser import Contentline
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from models import Booking, BookingLink

LINK_LIFETIME = timedelta(days=30)  # after the call's end
TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_PLACEHOLDER = re.compile(r"\[\[manage-link:(\d{1,10})\]\]")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def is_token_shaped(token: str) -> bool:
    return bool(_TOKEN_SHAPE.match(token))


def new_link_token() -> tuple[str, str]:
    """A new random token and the hash that is stored for it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def mint_link(session: Session, booking: Booking, now: datetime) -> str:
    """A new working token for `booking`; its hash joins the caller's transaction."""
    token, hashed = new_link_token()
    session.add(BookingLink(booking=booking, token_hash=hashed, created_at=now))
    return token


def mint_links(session: Session, booking_ids: Sequence[int], now: datetime) -> list[str]:
    """`mint_link` for many bookings (by id, repeats allowed) in one statement: a new token
    for each, in the order given; the hashes join the caller's transaction."""
    tokens = [secrets.token_urlsafe(TOKEN_BYTES) for _ in booking_ids]
    rows = [
        {"booking_id": booking_id, "token_hash": token_hash(token), "created_at": now}
        for booking_id, token in zip(booking_ids, tokens, strict=True)
    ]
    if rows:
        session.connection().execute(insert(BookingLink.__table__), rows)
    return tokens


def link_expires_at(booking: Booking) -> datetime:
    return booking.ends_at + LINK_LIFETIME


def booking_for_token(session: Session, token: str, now: datetime) -> Booking | None:
    """The booking a live link manages; None for an unknown, revoked or expired token."""
    if not is_token_shaped(token):
        return None
    booking = session.scalar(
        select(Booking)
        .join(BookingLink, BookingLink.booking_id == Booking.id)
        .where(BookingLink.token_hash == token_hash(token), BookingLink.revoked_at.is_(None))
    )
    if booking is None or now > link_expires_at(booking):
        return None
    return booking


def revoke_links(session: Session, booking_ids: Iterable[int], now: datetime) -> int:
    """End every live link of these bookings; the caller commits."""
    ids = list(booking_ids)
    if not ids:
        return 0
    result = session.execute(
        update(BookingLink)
        .where(BookingLink.booking_id.in_(ids), BookingLink.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def link_placeholder(booking_id: int) -> str:
    """Stands for the booking's link in a stored email until it is sent."""
    return f"[[manage-link:{booking_id}]]"


def placeholders_in(text: str) -> set[int]:
    return {int(found) for found in _PLACEHOLDER.findall(text)}


def fill_links(text: str, urls: Mapping[int, str]) -> str:
    """`text` with each placeholder of a booking in `urls` replaced by its link.

    A placeholder of any other booking is left as it is: only the bookings the message
    was written for ever get a link, whatever a visitor typed into it.
    """
    return _PLACEHOLDER.sub(lambda found: urls.get(int(found.group(1)), found.group(0)), text)


def fill_links_in_calendar(ics_text: str, urls: Mapping[int, str]) -> str:
    """`fill_links` for an iCalendar file: unfold, replace, fold again (RFC 5545 3.1),
    since a long line may have been folded in the middle of a placeholder. Only the lines
    that held a placeholder are folded anew; the others are kept as they were written."""
    return "\r\n".join(_filled_line(line, urls) for line in _LINE_START.split(ics_text))


_LINE_START = re.compile(r"\r\n(?![ \t])")  # a line break that is not a fold


def _filled_line(folded: str, urls: Mapping[int, str]) -> str:
    unfolded = re.sub(r"\r\n[ \t]", "", folded)
    filled = fill_links(unfolded, urls)
    if filled == unfolded:
        return folded
    return Contentline(filled).to_ical().decode("utf-8")
