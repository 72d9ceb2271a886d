"""Keyset ("seek") pages of the lead list: Next and Previous carry the position of the
row they continue from, so a deep page reads one index range instead of skipping every
row before it (an offset of 100,000 reads 100,000 rows; a seek reads 50).

Each order is one or more segments, read one after another: "newest" and "best fit" are
one; "next call" is two (upcoming calls soonest first, then everyone else newest first).
Within a segment the key columns are never NULL and end in the id, so a position is exact.

A position travels as an opaque, signed token in the query string (`cursor=`). The
signature keeps forged positions out, and the decoded values are still checked one by
one: a token is hostile input like any other, and a bad one is `BadCursor`, never a 500.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import and_, func, literal, or_, tuple_

from models import Lead, UTCDateTime

SALT = "lead-list-cursor"
MAX_TOKEN_LENGTH = 500
DIRECTIONS = ("after", "before")
BIGGEST_ID = 2**63 - 1
MAX_PAGE_NUMBER = 10**9
NO_CALL = datetime(1970, 1, 1, tzinfo=UTC)  # stands for "no call" in the next-call order


class BadCursor(ValueError):
    """A page link that cannot be read: damaged, forged, or made for another order."""


@dataclass(frozen=True)
class Segment:
    where: Any  # the rows of this part of the order; None for every row
    keys: tuple[tuple[Any, bool], ...]  # (column, descending), ending in the id


@dataclass(frozen=True)
class Position:
    """Where a page starts or ends: a segment and the key values of one row there."""

    segment: int
    values: tuple


@dataclass(frozen=True)
class Cursor:
    sort: str
    direction: str  # "after": the page after `position`; "before": the page before it
    position: Position
    page: int  # the number of the page this cursor opens, for the caption


def segments(sort: str, now: datetime) -> list[Segment]:
    newest = ((Lead.created_at, True), (Lead.id, True))
    if sort == "score":
        return [Segment(None, ((Lead.fit_score, True), (Lead.id, True)))]
    if sort == "next_call":
        upcoming = Lead.next_call_at >= now
        return [
            Segment(upcoming, ((Lead.next_call_at, False), *newest)),
            Segment(no_call_ahead(now), newest),
        ]
    return [Segment(None, newest)]


def no_call_ahead(now: datetime):
    """Leads with no call, or only a past one: the rest of the next-call order. One test,
    not "IS NULL OR < now": SQLite reads that OR as two ranges of the (status, next call)
    index and sorts their whole union newest first (16,000 won or lost leads in 100,000,
    for one page of 50), where one test lets it walk the newest-first index and stop at
    the page's end."""
    return func.coalesce(Lead.next_call_at, literal(NO_CALL, UTCDateTime())) < now


def position_of(lead: Lead, sort: str, now: datetime) -> Position:
    """The position of a listed lead in `sort`'s order."""
    parts = segments(sort, now)
    number = 0
    if sort == "next_call" and not (lead.next_call_at and lead.next_call_at >= now):
        number = 1
    return Position(number, tuple(getattr(lead, column.key) for column, _ in parts[number].keys))


def beyond(segment: Segment, values: Sequence, forward: bool):
    """Rows strictly past `values` in the segment's order (before them if not `forward`).

    Keys all one way round compare as a row, `(a, b) < (x, y)`, which both databases read
    as one index range. Mixed directions (next call up, then newest) cannot: they spell it
    "a > x or (a = x and …)", with `a >= x` beside it so the first column still bounds
    the index scan instead of the OR making it a filter over every earlier row."""
    keys = segment.keys
    columns = [column for column, _ in keys]
    if len({descending for _, descending in keys}) == 1:
        later = tuple_(*columns) < tuple_(*values)
        if keys[0][1] != forward:
            later = tuple_(*columns) > tuple_(*values)
        return later
    alternatives = []
    for index, (column, descending) in enumerate(keys):
        later = column < values[index] if descending == forward else column > values[index]
        same = [keys[earlier][0] == values[earlier] for earlier in range(index)]
        alternatives.append(and_(*same, later))
    first, descending = keys[0]
    bound = first <= values[0] if descending == forward else first >= values[0]
    return and_(bound, or_(*alternatives))


def order_of(segment: Segment, forward: bool) -> list:
    return [
        column.desc() if descending == forward else column.asc()
        for column, descending in segment.keys
    ]


def encode(cursor: Cursor, secret: str) -> str:
    values = [value.isoformat() if isinstance(value, datetime) else value
              for value in cursor.position.values]  # fmt: skip
    data = [cursor.sort, cursor.direction, cursor.position.segment, values, cursor.page]
    return URLSafeSerializer(secret, salt=SALT).dumps(data)


def decode(token: str, secret: str, sort: str, now: datetime) -> Cursor:
    """The cursor in `token`, checked against the order it is used with; else `BadCursor`."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise BadCursor("That page link is too long to be one of ours.")
    try:
        data = URLSafeSerializer(secret, salt=SALT).loads(token)
    except (BadData, ValueError, TypeError) as error:
        raise BadCursor("That page link is damaged or out of date.") from error
    if not (isinstance(data, list) and len(data) == 5):
        raise BadCursor("That page link is damaged or out of date.")
    made_for, direction, segment, values, page = data
    if made_for != sort:
        raise BadCursor("That page link was made for another order of the list.")
    if direction not in DIRECTIONS or not is_whole(page, 1, MAX_PAGE_NUMBER):
        raise BadCursor("That page link is damaged or out of date.")
    parts = segments(sort, now)
    if not is_whole(segment, 0, len(parts) - 1):
        raise BadCursor("That page link is damaged or out of date.")
    keys = parts[segment].keys
    if not (isinstance(values, list) and len(values) == len(keys)):
        raise BadCursor("That page link is damaged or out of date.")
    read = tuple(read_value(column, value) for (column, _), value in zip(keys, values, strict=True))
    return Cursor(sort, direction, Position(segment, read), page)


def is_whole(value: Any, lowest: int, highest: int) -> bool:
    return type(value) is int and lowest <= value <= highest


def read_value(column, value: Any) -> Any:
    if column.key in ("created_at", "next_call_at"):
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise BadCursor("That page link is damaged or out of date.")
        return moment
    if not is_whole(value, -BIGGEST_ID, BIGGEST_ID):
        raise BadCursor("That page link is damaged or out of date.")
    return value
