"""Finding leads for the owner: the list's filters, one page of results, the CSV export,
and the bulk status change applied to leads chosen from that list.

A `LeadFilter` is read from the query string, so any view of the list is a bookmark. Bad
values are dropped, never an error. Dates are calendar days in the owner's zone (the
filter's `timezone`, not read from the query string), both ends inclusive.
Next and Previous seek from the row they continue (`domain.leads.cursor`), so any depth
costs one index range. A page number (a bookmark, First, Last) is an offset, capped at
`MAX_PAGE`: each sort walks an index, so it reads some thousands of entries at most. A
search's page numbers stop sooner, at `SEARCH_MAX_PAGE`: its walk tests every lead it
passes against the fragment, and only one in ten or twenty matches, so page 200 of a
search read over 100,000 leads (0.75 s at a million). Next and Previous go on past it.
The count stops at `COUNT_CAP` ("10,000+"): an exact count would read every match.
Search finds a fragment of 3 or more characters anywhere (trigram indexes: pg_trgm GIN on
PostgreSQL, the FTS5 table `lead_search` on SQLite), and 1 or 2 at the start of a word.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, literal_column, or_, select, table
from sqlalchemy.orm import Session

from domain.leads.actions import count_won
from domain.leads.cursor import Cursor, beyond, no_call_ahead, order_of, segments
from domain.platform.database import serialised_write
from domain.platform.text_input import printable_text
from models import LEAD_STATUSES, Lead, LeadEvent

SORTS = ("newest", "score", "next_call")
ENGAGEMENTS = ("architect", "engineer")
SEARCHED = (Lead.name, Lead.email, Lead.company)
MAX_QUERY_LENGTH = 200
TRIGRAM = 3  # the shortest fragment a trigram index can find
WORD_BREAKS = (" ", ".", "@", "-", "'", "_")  # where a word starts in a name, email, company
COUNT_CAP = 10_000  # past this many matches the list says "10,000+" instead of counting
PER_PAGE = 50
ESTIMATE_MARGIN, ESTIMATE_FLOOR = 3, 30_000  # when PostgreSQL's estimate stands for a count
MANY_MATCHES = 1000  # past this, SQLite walks the order's index through a search's matches
MAX_PAGE = 200  # by number; Next and Previous go on past it
SEARCH_MAX_PAGE = 5  # by number within a search: its first 250 matches
MAX_BULK = 1000
CSV_BATCH_ROWS = 500
CSV_HEADER = (
    "id", "created_at", "name", "email", "company", "role", "company_size", "status",
    "fit_score", "suggested_engagement", "source_article", "next_call_at",
    "utm_source", "utm_medium", "utm_campaign", "referrer",
)  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class LeadFilter:
    """What the owner asked the list for; the defaults are "every lead, newest first"."""

    q: str = ""
    statuses: tuple[str, ...] = ()
    article: str = ""
    engagement: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "newest"
    page: int = 1
    cursor: str = ""  # an opaque Next/Previous position (`domain.leads.cursor`), read later
    timezone: str = "UTC"  # the owner's zone, whose days `date_from` and `date_to` name

    @classmethod
    def from_args(cls, args: Mapping[str, Any], timezone: str = "UTC") -> "LeadFilter":
        """The filter a query string asks for; anything unreadable is left out."""
        date_from, date_to = read_date(first(args, "from")), read_date(first(args, "to"))
        if date_from and date_to and date_from > date_to:
            date_from, date_to = date_to, date_from
        sort = first(args, "sort")
        engagement = first(args, "engagement")
        return cls(
            q=printable_text(first(args, "q"))[:MAX_QUERY_LENGTH],
            statuses=tuple(s for s in LEAD_STATUSES if s in all_values(args, "status")),
            article=printable_text(first(args, "article"))[:200],
            engagement=engagement if engagement in ENGAGEMENTS else "",
            date_from=date_from,
            date_to=date_to,
            sort=sort if sort in SORTS else "newest",
            page=min(read_number(first(args, "page")) or 1, MAX_PAGE),
            cursor=first(args, "cursor"),
            timezone=timezone,
        )

    def to_query(self, **changes: Any) -> dict[str, Any]:
        """Query-string values for `url_for`: only what differs from the defaults."""
        chosen = replace(self, **changes)
        values = {
            "q": chosen.q,
            "status": list(chosen.statuses),
            "article": chosen.article,
            "engagement": chosen.engagement,
            "from": chosen.date_from.isoformat() if chosen.date_from else "",
            "to": chosen.date_to.isoformat() if chosen.date_to else "",
            "sort": "" if chosen.sort == "newest" else chosen.sort,
            "page": chosen.page if chosen.page > 1 and not chosen.cursor else "",
            "cursor": chosen.cursor,
        }
        return {key: value for key, value in values.items() if value}

    @property
    def is_filtered(self) -> bool:
        return bool(self.to_query(sort="newest", page=1, cursor=""))

    @property
    def max_page(self) -> int:
        """The deepest page a page number reaches in this view."""
        return SEARCH_MAX_PAGE if self.q else MAX_PAGE


def first(args: Mapping[str, Any], key: str) -> str:
    value = args.get(key)
    return value[:1000] if isinstance(value, str) else ""


def all_values(args: Mapping[str, Any], key: str) -> list[str]:
    if hasattr(args, "getlist"):
        return args.getlist(key)
    value = args.get(key)
    return [value] if isinstance(value, str) else list(value or ())


def read_number(text: str) -> int | None:
    """A positive whole number written in at most 9 ASCII digits, else None."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= 9 and int(text) > 0:
        return int(text)
    return None


def read_date(text: str) -> date | None:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return day if date.min < day < date.max else None  # room for the day after


def start_of(day: date, timezone: str = "UTC") -> datetime:
    """The UTC instant of midnight starting `day` in `timezone`."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def conditions(lead_filter: LeadFilter, dialect: str = "", many: bool = False) -> list:
    """The filter as SQL conditions. `many`: the search matches many leads (SQLite)."""
    found = []
    if lead_filter.q:
        found.append(matches_fragment(lead_filter.q, dialect, many))
    if lead_filter.statuses:
        found.append(Lead.status.in_(lead_filter.statuses))
    if lead_filter.article:
        found.append(Lead.source_article == lead_filter.article)
    if lead_filter.engagement:
        found.append(Lead.suggested_engagement == lead_filter.engagement)
    if lead_filter.date_from:
        found.append(Lead.created_at >= start_of(lead_filter.date_from, lead_filter.timezone))
    if lead_filter.date_to:
        day_after = lead_filter.date_to + timedelta(days=1)
        found.append(Lead.created_at < start_of(day_after, lead_filter.timezone))
    return found


def matches_fragment(fragment: str, dialect: str, many: bool = False):
    """Leads whose name, email or company contains `fragment`, ignoring case.

    From 3 characters an index finds it anywhere: PostgreSQL's trigram GIN indexes serve
    ILIKE, SQLite asks its FTS5 trigram table. Trigrams cannot find a shorter fragment
    anywhere in a word, so 1 or 2 characters match the start of a word ("jo" finds Jo,
    Jones, jo@…, …@joinery), which is what such a short search usually means and which the
    trigram indexes can still answer on PostgreSQL. SQLite looks letters and digits up in
    its word table (`lead_words`, migration 0011); only punctuation falls back to a scan."""
    if dialect == "sqlite" and (matched := fts_match(fragment)) is not None:
        return fts_ids(many).in_(matched)
    if len(fragment) < TRIGRAM:
        escaped = escape_like(fragment)
        patterns = [escaped + "%", *(f"%{escape_like(mark)}{escaped}%" for mark in WORD_BREAKS)]
        found = or_(*(column.ilike(p, escape="\\") for column in SEARCHED for p in patterns))
        return word_start_scan(fragment, found) if dialect == "sqlite" else found
    pattern = "%" + escape_like(fragment) + "%"
    return or_(*(column.ilike(pattern, escape="\\") for column in SEARCHED))


def fts_match(fragment: str) -> Select | None:
    """On SQLite, the ids of leads matching `fragment` as its FTS5 tables find them (3 or
    more characters anywhere, 1 or 2 letters or digits at a word start), else None."""
    if len(fragment) < TRIGRAM:
        return word_start_match(fragment) if fragment.isalnum() else None
    phrase = '"' + fragment.replace('"', '""') + '"'  # one FTS5 string: no operators
    found = select(literal_column("rowid")).select_from(table("lead_search"))
    return found.where(literal_column("lead_search").op("MATCH")(phrase))


def fts_ids(many: bool):
    """The lead's id as SQLite should test it against an FTS5 match. Left alone, SQLite
    fetches every matching lead by id and sorts them: right for a few, slow for many (a
    fragment in 10,000 leads). `id + 0` cannot drive a lookup, so SQLite walks the order's
    index instead and keeps each lead in the match, stopping at the page's last lead."""
    return Lead.id + 0 if many else Lead.id


def word_start_match(fragment: str) -> Select:
    """The ids of leads with a word starting with `fragment` (letters and digits only):
    an FTS5 prefix query, answered from the table's 1 and 2 character prefix indexes."""
    prefix = '"' + fragment + '" *'
    words = select(literal_column("rowid")).select_from(table("lead_words"))
    return words.where(literal_column("lead_words").op("MATCH")(prefix))


def word_start_scan(fragment: str, word_starts):
    """SQLite scans for a 1-2 character fragment: three cheap "contains" tests first, so the
    21 word-start patterns run only on the few leads that contain the fragment at all."""
    pattern = "%" + escape_like(fragment) + "%"
    contains = or_(*(column.ilike(pattern, escape="\\") for column in SEARCHED))
    return and_(contains, word_starts)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def ordering(sort: str, now: datetime) -> list:
    if sort == "score":
        return [Lead.fit_score.desc(), Lead.id.desc()]
    newest = [Lead.created_at.desc(), Lead.id.desc()]
    if sort == "next_call":
        upcoming = Lead.next_call_at >= now
        # Upcoming calls first, soonest first; then everyone else, newest first.
        return [case((upcoming, 0), else_=1), case((upcoming, Lead.next_call_at)), *newest]
    return newest


def lead_query(lead_filter: LeadFilter, now: datetime, dialect: str = "") -> Select:
    where = conditions(lead_filter, dialect)
    return select(Lead).where(*where).order_by(*ordering(lead_filter.sort, now))


@dataclass(frozen=True)
class LeadPage:
    leads: list[Lead]
    total: int  # exact up to `count_cap`; past it, `count_cap + 1`
    page: int
    pages: int  # how many pages the matches fill (meaningful while the total is exact)
    per_page: int
    count_cap: int = COUNT_CAP
    has_previous: bool = False
    has_next: bool = False
    max_page: int = MAX_PAGE  # the deepest page a page number (a bookmark, Last) reaches

    @property
    def last_is_numbered(self) -> bool:
        """Whether "Last" can be a page number: the count is exact and within reach."""
        return self.total_is_exact and self.pages <= self.max_page

    @property
    def total_is_exact(self) -> bool:
        return self.total <= self.count_cap

    @property
    def total_label(self) -> str:
        """The count as shown: "1,234", or "10,000+" once counting stopped at the cap."""
        return f"{self.total:,}" if self.total_is_exact else f"{self.count_cap:,}+"


def page_of(
    session: Session,
    lead_filter: LeadFilter,
    now: datetime,
    per_page: int = PER_PAGE,
    count_cap: int = COUNT_CAP,
    cursor: Cursor | None = None,
) -> LeadPage:
    """One page of matching leads: the page `cursor` points to (Next and Previous, any
    depth), else the numbered page (a page past the end shows the last one there is)."""
    where = conditions(lead_filter, dialect_of(session))
    total = count_matches(session, lead_filter, where, count_cap + 1)
    if total > MANY_MATCHES:
        where = conditions(lead_filter, dialect_of(session), many=True)
    pages = max(1, -(-total // per_page))
    shown = partial(LeadPage, total=total, pages=pages, per_page=per_page, count_cap=count_cap,
                    max_page=lead_filter.max_page)  # fmt: skip
    if cursor is not None:
        leads, more = seek_page(session, where, cursor, now, per_page)
        if cursor.direction == "after" and leads:
            return shown(leads, page=cursor.page, has_previous=True, has_next=more)
        if cursor.direction == "before" and len(leads) == per_page:
            page = max(cursor.page, 2) if more else 1
            return shown(leads, page=page, has_previous=more, has_next=True)
        # Nothing left on that side (leads changed since the link was made): start again.
    page = 1 if cursor is not None else min(lead_filter.page, pages, lead_filter.max_page)
    offset = (page - 1) * per_page
    if lead_filter.sort == "next_call":
        leads = next_call_page(session, where, now, offset, per_page + 1)
    else:
        query = select(Lead).where(*where).order_by(*ordering(lead_filter.sort, now))
        leads = list(session.scalars(query.limit(per_page + 1).offset(offset)))
    more = len(leads) > per_page
    return shown(leads[:per_page], page=page, has_previous=page > 1, has_next=more)


def seek_page(
    session: Session, where: list, cursor: Cursor, now: datetime, per_page: int
) -> tuple[list[Lead], bool]:
    """Up to `per_page` leads on the cursor's side of its position, in the list's order,
    and whether more lie beyond them: each segment of the order read from the position
    on, one index range each, so the depth of the page costs nothing."""
    parts = segments(cursor.sort, now)
    forward = cursor.direction == "after"
    start = cursor.position.segment
    leads: list[Lead] = []
    for number in range(start, len(parts)) if forward else range(start, -1, -1):
        segment = parts[number]
        query = select(Lead).where(*where)
        if segment.where is not None:
            query = query.where(segment.where)
        if number == start:
            query = query.where(beyond(segment, cursor.position.values, forward))
        query = query.order_by(*order_of(segment, forward)).limit(per_page + 1 - len(leads))
        leads += session.scalars(query)
        if len(leads) > per_page:
            break
    more = len(leads) > per_page
    leads = leads[:per_page]
    return (leads if forward else leads[::-1]), more


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def count_matches(session: Session, lead_filter: LeadFilter, where: list, limit: int) -> int:
    """`count_upto`, but cheaper where it can be: PostgreSQL does not count what its
    planner expects to be far past the cap (`plainly_more`), and a search alone on SQLite
    counts in its FTS5 table (reading the matching leads' rows costs twenty times as much)."""
    alone = lead_filter.q and not replace(lead_filter, q="").is_filtered
    dialect = dialect_of(session)
    if dialect == "postgresql" and where and plainly_more(session, where, limit):
        return limit
    found = fts_match(lead_filter.q) if alone and dialect == "sqlite" else None
    if found is None:
        return count_upto(session, where, limit)
    return session.scalar(select(func.count()).select_from(found.limit(limit).subquery()))


def plainly_more(session: Session, where: list, limit: int) -> bool:
    """Whether PostgreSQL's planner expects several times `limit` matches (and tens of
    thousands at least, so a small table's guesses never decide): counting even up to the
    cap would then read thousands of scattered rows (a search for "kes" in a million leads
    matches 80,000), and the list says "10,000+" from the estimate instead (PostgreSQL's
    wiki, "Count estimate"). Below that margin the count is exact."""
    query = select(Lead.id).where(*where)
    query = query.compile(session.get_bind(), compile_kwargs={"render_postcompile": True})
    plan = session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + query.string,
                                                 query.params).scalar()  # fmt: skip
    return plan[0]["Plan"]["Plan Rows"] > max(ESTIMATE_MARGIN * limit, ESTIMATE_FLOOR)


def count_upto(session: Session, where: list, limit: int) -> int:
    """How many leads match, counting no further than `limit`: an exact count of a big
    match reads every matching row (PostgreSQL's wiki, "Slow counting"); this stops early."""
    matching = select(Lead.id).where(*where).limit(limit).subquery()
    return session.scalar(select(func.count()).select_from(matching))


def next_call_page(
    session: Session, where: list, now: datetime, offset: int, limit: int
) -> list[Lead]:
    """`lead_query`'s next-call order as two index walks (upcoming calls, then the rest),
    since one sort on "is the call still ahead?" would read every lead for a deep page."""
    upcoming = Lead.next_call_at >= now
    ahead = count_upto(session, [*where, upcoming], offset + limit)  # all this page needs
    leads = []
    if offset < ahead:
        order = (Lead.next_call_at, *ordering("newest", now))
        ids = select(Lead.id).where(*where, upcoming).order_by(*order)
        leads = list(session.scalars(by_ids(ids.offset(offset).limit(limit), order)))
    if len(leads) < limit:
        query = select(Lead).where(*where, no_call_ahead(now)).order_by(*ordering("newest", now))
        leads += session.scalars(query.offset(max(0, offset - ahead)).limit(limit - len(leads)))
    return leads


def by_ids(ids: Select, order: Iterable) -> Select:
    """The leads `ids` picks, in `order`: the offset is walked in an index alone (the ids,
    `ix_lead_next_call_order`), and only the page's own rows are read from the table."""
    return select(Lead).where(Lead.id.in_(ids.scalar_subquery())).order_by(*order)


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading quote (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows(session: Session, lead_filter: LeadFilter, now: datetime) -> Iterator[tuple]:
    """The header, then every matching lead in the list's order, read 1,000 at a time."""
    touch = Lead.first_touch
    columns = (
        Lead.id, Lead.created_at, Lead.name, Lead.email, Lead.company, Lead.role,
        Lead.company_size, Lead.status, Lead.fit_score, Lead.suggested_engagement,
        Lead.source_article, Lead.next_call_at, touch["utm_source"].as_string(),
        touch["utm_medium"].as_string(), touch["utm_campaign"].as_string(),
        touch["referrer"].as_string(),
    )  # fmt: skip
    query = (
        select(*columns)
        .where(*conditions(lead_filter, dialect_of(session)))
        .order_by(*ordering(lead_filter.sort, now))
        .execution_options(yield_per=1000)
    )
    yield CSV_HEADER
    for row in session.execute(query):
        yield tuple(spreadsheet_safe(csv_value(value)) for value in row)


def csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return "" if value is None else value


def csv_chunks(rows: Iterable[Iterable], batch_rows: int = CSV_BATCH_ROWS) -> Iterator[str]:
    """CSV text, one chunk per `batch_rows` rows, so a response streams in steady pieces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for number, row in enumerate(rows, start=1):
        writer.writerow(row)
        if number % batch_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def read_lead_ids(values: Iterable[str]) -> list[int] | None:
    """The chosen lead ids, or None when any is not a lead id or there are too many."""
    numbers = [read_number(value) for value in values]
    if len(numbers) > MAX_BULK or None in numbers:
        return None
    return sorted(set(numbers))


def change_statuses(session: Session, lead_ids: Iterable[int], status: str, now: datetime) -> int:
    """Move the leads to `status`, each with an event and the won count kept right, in one
    transaction that commits whole or not at all. The leads are locked in id order first,
    so a change made meanwhile (here or on a lead's page) is seen, never counted twice.
    Returns how many leads changed; ids that no longer exist are skipped.
    """
    if status not in LEAD_STATUSES:
        raise ValueError(f"unknown lead status {status!r}")
    query = select(Lead).where(Lead.id.in_(list(lead_ids))).order_by(Lead.id).with_for_update()
    changed = 0
    with serialised_write(session):
        for lead in session.scalars(query.execution_options(populate_existing=True)):
            if lead.status == status:
                continue
            session.add(
                LeadEvent(lead_id=lead.id, at=now, kind="status", body="Bulk change",
                          from_status=lead.status, to_status=status)
            )  # fmt: skip
            count_won(session, lead.source_article, lead.status, status, now)
            lead.status, lead.updated_at = status, now
            changed += 1
    return changed
