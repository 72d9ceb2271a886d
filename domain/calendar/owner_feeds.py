"""The owner's list of calendar feeds: adding one (read once first), removing one.

A feed is added only if its first read succeeds: an address with a typo, or one that
is not a calendar, would otherwise sit in the list blocking nothing while the owner
believes it does. The feed, its copy and its busy intervals land in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.calendar.busy import CalendarDataError
from domain.calendar.feeds import FeedError, FetchOptions, feed_host, normalise_feed_url
from domain.calendar.sync import FeedCopy, failure_message, read_feed, store_copy
from domain.platform.database import serialised_write
from domain.platform.text_input import is_clean
from models import CalendarFeed

MOST_NAME_LENGTH = 200


class FeedRefused(ValueError):
    """The feed cannot be added; `field` ("url" or "name") is where the message belongs."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class AddedFeed:
    feed_id: int
    name: str
    copy: FeedCopy


def add_feed(
    session: Session, url: str, name: str, *, now: datetime, options: FetchOptions
) -> AddedFeed:
    """Read the feed once and store it with its busy times, or raise FeedRefused."""
    name = (name or "").strip()
    if len(name) > MOST_NAME_LENGTH:
        raise FeedRefused("name", f"Keep the name under {MOST_NAME_LENGTH} characters.")
    if not is_clean(name):
        raise FeedRefused("name", "The name has control characters in it.")
    try:
        url = normalise_feed_url(url)
        copy = read_feed(session, url, now=now, options=options)
    except (FeedError, CalendarDataError) as error:
        session.rollback()
        raise FeedRefused("url", failure_message(error)) from error
    name = name or (copy.name or feed_host(url))[:MOST_NAME_LENGTH]
    with serialised_write(session):
        feed = CalendarFeed(name=name, url=url, created_at=now, last_attempt_at=now)
        session.add(feed)
        session.flush()
        store_copy(session, feed.id, copy, now)
        feed_id = feed.id
    return AddedFeed(feed_id, name, copy)


def remove_feed(session: Session, feed_id: int) -> str | None:
    """Delete the feed and its busy intervals; its name, or None if there was none."""
    with serialised_write(session):
        feed = session.get(CalendarFeed, feed_id)
        if feed is None:
            return None
        name = feed.name
        session.delete(feed)  # its intervals go with it (ON DELETE CASCADE, and the ORM's)
    return name


def all_feeds(session: Session) -> list[CalendarFeed]:
    return list(session.scalars(select(CalendarFeed).order_by(CalendarFeed.id)))
