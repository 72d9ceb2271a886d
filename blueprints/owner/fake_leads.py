"""`flask owner fake-leads COUNT`: synthetic leads, for trying the lead list at scale.

Leads only (no bookings, no emails), 5,000 to a statement on SQLite, one COPY in its
text format on PostgreSQL (a million leads: 110 s under a load of 8.5 on 2 cores, half of
it the index builds; 275 s before). Past 50,000 the search indexes are built once at the
end (on PostgreSQL every lead index; on SQLite the FTS5 search tables, whose triggers are
set aside meanwhile). The spread looks like a
real pipeline: mostly new, a few won and lost, scores around the middle, sources from
LinkedIn, a newsletter, search and direct visits, created over the past year, and some
with a call coming up. Won leads are added to the articles' won counts, as a real win
would be, so the dashboard and the list agree. Refused in production.
"""

import json
import random
import time
import unicodedata
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import accumulate, islice
from typing import Any, NamedTuple

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from domain.content.counters import upsert_counts
from domain.leads.scoring import COMPANY_SIZES
from extensions import db
from models import Lead

BATCH_ROWS = 5000
SEARCH_TABLES = ("lead_search_", "lead_words_")  # SQLite's FTS5 tables over `lead`, by trigger
REBUILD_INDEXES_FROM = 50_000  # leads in one load: past it, search indexes are rebuilt
YEAR_SECONDS = 365 * 24 * 3600  # leads were created over the past year
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
NULL = "\\N"  # COPY's text format
FIRST_NAMES = (
    "Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Tim", "Zoë", "José", "Łukasz",
    "Aisha", "Chen", "Priya", "Olu", "Ingrid", "Mateo", "Yuki", "Fatima", "Sven", "Amara",
)  # fmt: skip
LAST_NAMES = (
    "Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Hamilton", "Berners-Lee",
    "Okafor", "García", "Nowak", "Khan", "Wei", "Sharma", "Adeyemi", "Larsen", "Rossi",
    "Tanaka", "Haddad", "Lindqvist", "Mensah",
)  # fmt: skip
COMPANIES = (
    "Analytical Engines", "Northwind Logistics", "Blue Harbour Bank", "Kestrel Health",
    "Meridian Retail", "Oakline Insurance", "Quanta Foods", "Riverside Council",
    "Solent Energy", "Tamarind Travel", "Umbra Media", "Vantage Legal",
)  # fmt: skip
ROLES = (
    "Chief Technology Officer", "CEO", "Head of Data", "VP Engineering", "Operations Director",
    "Product Manager", "Software Engineer", "Founder", "Head of Innovation", "Analyst",
)  # fmt: skip
STATUS_WEIGHTS = {
    "new": 40, "contacted": 16, "call_booked": 10, "qualified": 10, "proposal": 5,
    "won": 5, "lost": 11, "spam": 3,
}  # fmt: skip
TOUCHES = (  # (weight, utm_source, utm_medium, utm_campaign, referrer)
    (30, "linkedin", "social", "architect-series", "https://www.linkedin.com/"),
    (20, "newsletter", "email", "monthly-brief", ""),
    (25, "", "", "", "https://www.google.com/"),
    (25, "", "", "", ""),
)
# How likely a lead in each status has a call on the calendar, and a stale (past) one.
UPCOMING_CALL = {"call_booked": 0.9, "qualified": 0.3, "proposal": 0.3, "new": 0.05}
PAST_CALL = {"contacted": 0.1, "qualified": 0.2, "won": 0.5, "lost": 0.3}


class FakeLead(NamedTuple):
    """One synthetic lead, drawn cheaply: a million are drawn in seconds, not a minute."""

    number: int
    first: str
    last: str
    company: str
    role: str
    company_size: str
    status: str
    fit_score: int
    suggested_engagement: str
    source_article: str | None
    touch: int  # which of TOUCHES brought them
    created_at: datetime
    next_call_at: datetime | None


def fake_leads(
    count: int, rng: random.Random, now: datetime, article_slugs: Sequence[str], first_number=1
) -> Iterator[FakeLead]:
    """`count` leads from `rng` (a seed repeats a run). Each choice is one `rng.random()`
    indexing a table: `rng.choice` and `rng.choices` cost several times as much."""
    draw, slugs = rng.random, list(article_slugs)
    sizes = [value for value, _ in COMPANY_SIZES]
    statuses = cumulative(STATUS_WEIGHTS.items())
    touches = cumulative((number, touch[0]) for number, touch in enumerate(TOUCHES))
    for number in range(first_number, first_number + count):
        status = pick(statuses, draw())
        source = slugs[int(draw() * len(slugs))] if slugs and draw() < 0.8 else None
        yield FakeLead(
            number, one_of(FIRST_NAMES, draw()), one_of(LAST_NAMES, draw()),
            one_of(COMPANIES, draw()), one_of(ROLES, draw()), one_of(sizes, draw()), status,
            int(rng.triangular(0, 100, 55)), "architect" if draw() < 0.65 else "engineer",
            source, pick(touches, draw()), now - timedelta(seconds=int(draw() * YEAR_SECONDS)),
            next_call(draw, status, now),
        )  # fmt: skip


def cumulative(weights: Iterable[tuple[Any, int]]) -> tuple[list[float], list[Any]]:
    pairs = list(weights)
    total = sum(weight for _, weight in pairs)
    return list(accumulate(weight / total for _, weight in pairs)), [value for value, _ in pairs]


def pick(table: tuple[list[float], list[Any]], fraction: float) -> Any:
    bounds, values = table
    return values[min(bisect(bounds, fraction), len(values) - 1)]


def one_of(values: Sequence[Any], fraction: float) -> Any:
    return values[int(fraction * len(values))]


def next_call(draw: Callable[[], float], status: str, now: datetime) -> datetime | None:
    """A call between 08:00 and 18:00 UTC: ahead for some statuses, past for others."""
    if draw() < UPCOMING_CALL.get(status, 0):
        days = 1 + int(draw() * 14)
    elif draw() < PAST_CALL.get(status, 0):
        days = -1 - int(draw() * 59)
    else:
        return None
    day = now.date() + timedelta(days=days)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(minutes=30 * (16 + int(draw() * 20)))


@cache
def email_parts(first: str, last: str, company: str) -> tuple[str, str]:
    """The address around the lead's number, made ASCII once per name and company."""
    return ascii_email(f"{first}.{last}."), ascii_email(f"@{company.split()[0]}.example")


def email_of(lead: FakeLead) -> str:
    before, after = email_parts(lead.first, lead.last, lead.company)
    return f"{before}{lead.number}{after}"


def ascii_email(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("ł", "l"))
    return text.encode("ascii", "ignore").decode()


def first_touch(lead: FakeLead) -> dict[str, str]:
    _, source, medium, campaign, referrer = TOUCHES[lead.touch]
    found = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign}
    at = lead.created_at.isoformat()
    return {**{k: v for k, v in found.items() if v}, "referrer": referrer, "at": at}


@cache
def first_touch_json_start(touch: int) -> str:
    """`first_touch` as JSON text up to its "at" value, which is the lead's own."""
    fixed = first_touch(FakeLead(0, "", "", "", "", "", "", 0, "", None, touch, EPOCH, None))
    return json.dumps(fixed)[: -len(EPOCH.isoformat()) - 2]


def row_of(lead: FakeLead) -> dict[str, Any]:
    """The lead as an INSERT's values."""
    email = email_of(lead)
    return {
        "email": email, "email_normalised": email, "name": f"{lead.first} {lead.last}",
        "company": lead.company, "role": lead.role, "company_size": lead.company_size,
        "status": lead.status, "fit_score": lead.fit_score,
        "suggested_engagement": lead.suggested_engagement,
        "source_article": lead.source_article, "first_touch": first_touch(lead),
        "last_touch": {}, "articles_read": [], "consent_version": "synthetic",
        "consent_given_at": lead.created_at, "next_call_at": lead.next_call_at,
        "created_at": lead.created_at, "updated_at": lead.created_at,
    }  # fmt: skip


COPY_COLUMNS = (
    "email", "email_normalised", "name", "company", "role", "company_size", "status",
    "fit_score", "suggested_engagement", "source_article", "first_touch", "last_touch",
    "articles_read", "consent_version", "consent_given_at", "next_call_at", "created_at",
    "updated_at",
)  # fmt: skip


def copy_line(lead: FakeLead) -> str:
    """The lead as a line of COPY's text format, in `COPY_COLUMNS` order. No value here
    holds a tab, newline or backslash (the tables above have none), so none is escaped."""
    email, created = email_of(lead), lead.created_at.isoformat()
    touch = f'{first_touch_json_start(lead.touch)}{created}"}}'
    call = lead.next_call_at.isoformat() if lead.next_call_at else NULL
    source = lead.source_article or NULL
    return (
        f"{email}\t{email}\t{lead.first} {lead.last}\t{lead.company}\t{lead.role}\t"
        f"{lead.company_size}\t{lead.status}\t{lead.fit_score}\t{lead.suggested_engagement}\t"
        f"{source}\t{touch}\t{{}}\t[]\tsynthetic\t{created}\t{call}\t"
        f"{created}\t{created}\n"
    )


def insert_fake_leads(
    session: Session, count: int, *, seed: int, now: datetime, article_slugs: Sequence[str]
) -> int:
    """Add `count` synthetic leads and their won counts in one transaction; commits."""
    first_number = session.scalar(select(func.coalesce(func.max(Lead.id), 0))) + 1
    leads = fake_leads(count, random.Random(seed), now, list(article_slugs), first_number)
    won: Counter = Counter()
    postgresql = session.get_bind().dialect.name == "postgresql"
    built_after = indexes_built_after if postgresql else search_tables_built_after
    with built_after(session, count >= REBUILD_INDEXES_FROM):
        add = copy_leads if postgresql else insert_leads
        add(session, counted_wins(leads, won))
    upsert_counts(session.connection(), won)
    session.execute(text("ANALYZE lead"))  # after a bulk load the planner needs fresh numbers
    session.commit()
    if postgresql and count >= REBUILD_INDEXES_FROM:
        vacuum_leads(session)
    return count


def vacuum_leads(session: Session) -> None:
    """VACUUM the loaded table now, as autovacuum would later: until its visibility map is
    set, PostgreSQL's planner prices index-only scans (the list's counts) as heap reads,
    and prefers scanning the whole table. VACUUM refuses to run inside a transaction."""
    with session.get_bind().connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM lead"))


@contextmanager
def indexes_built_after(session: Session, rebuild: bool) -> Iterator[None]:
    """For a big load, drop the lead list's indexes and build each once at the end: one
    sorted build is many times cheaper than a million single-row inserts into it (and
    GIN trigram indexes most of all). DDL is transactional here: a failed load keeps them."""
    names = sorted(index.name for index in Lead.__table__.indexes) if rebuild else []
    # The database's own definitions, not the models': they name the schema pg_trgm's
    # operator class lives in, which is not the site's (see migration 0009).
    definitions = (
        session.execute(
            text(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename = 'lead' AND indexname = ANY(:names) ORDER BY indexname"
            ),
            {"names": names},
        )
        .scalars()
        .all()
        if names
        else []
    )
    for name in names:
        session.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
    yield
    if definitions:
        session.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
    for definition in definitions:
        session.execute(text(definition))


@contextmanager
def search_tables_built_after(session: Session, rebuild: bool) -> Iterator[None]:
    """SQLite's counterpart: the search tables (FTS5, migrations 0009 and 0011) follow
    `lead` through triggers, row by row; for a big load, drop the triggers and rebuild
    each table once from `lead` at the end, then put the triggers back as they were."""
    triggers = (
        session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'lead'"
                 " ORDER BY name")
        ).all()
        if rebuild and session.get_bind().dialect.name == "sqlite"
        else []
    )  # fmt: skip
    triggers = [(name, sql) for name, sql in triggers if name.startswith(SEARCH_TABLES)]
    tables = sorted({name.rsplit("_", 1)[0] for name, _ in triggers})
    for name, _ in triggers:
        session.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for table in tables:
        session.execute(text(f"INSERT INTO {table} ({table}) VALUES ('rebuild')"))
    for _, definition in triggers:
        session.execute(text(definition))


def counted_wins(leads: Iterable[FakeLead], won: Counter) -> Iterator[FakeLead]:
    """The leads, passing through; each won lead from an article counted in `won`."""
    for lead in leads:
        if lead.status == "won" and lead.source_article:
            won[(lead.source_article, lead.created_at.date(), "won")] += 1
        yield lead


def insert_leads(session: Session, leads: Iterator[FakeLead]) -> None:
    while batch := [row_of(lead) for lead in islice(leads, BATCH_ROWS)]:
        # render_nulls: every row names every column, so a batch is one executemany.
        session.execute(insert(Lead).execution_options(render_nulls=True), batch)


def copy_leads(session: Session, leads: Iterator[FakeLead]) -> None:
    """PostgreSQL's COPY, in its text format written here: one statement for the whole
    load, about 1 MB sent at a time, no per-value adaptation by the driver."""
    connection = session.connection().connection.driver_connection
    statement = f"COPY lead ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        while lines := "".join(map(copy_line, islice(leads, BATCH_ROWS))):
            copy.write(lines)


@click.command("fake-leads")
@click.argument("count", type=click.IntRange(1, 1_000_000))
@click.option("--seed", type=int, help="Repeat an earlier run's data (default: random).")
@with_appcontext
def fake_leads_cli(count: int, seed: int | None):
    """Insert COUNT synthetic leads, for trying the lead list at scale."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("fake leads are for development and benchmarks, not production")
    seed = random.SystemRandom().randrange(1_000_000) if seed is None else seed
    slugs = [article.slug for article in current_app.extensions["library"].articles]
    started = time.perf_counter()
    insert_fake_leads(db.session, count, seed=seed, now=datetime.now(UTC), article_slugs=slugs)
    click.echo(
        f"Inserted {count:,} fake leads in {time.perf_counter() - started:.1f} s (seed {seed})."
    )
