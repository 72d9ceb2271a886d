"""`flask owner fake-leads COUNT`: synthetic leads, for trying the lead list at scale.

Leads only (no bookings, no emails), 5,000 to a statement (COPY on PostgreSQL); past
50,000 the search indexes are built once at the end (on PostgreSQL every lead index; on
SQLite the FTS5 search tables, whose triggers are set aside meanwhile). The spread looks like a
real pipeline: mostly new, a few won and lost, scores around the middle, sources from
LinkedIn, a newsletter, search and direct visits, created over the past year, and some
with a call coming up. Won leads are added to the articles' won counts, as a real win
would be, so the dashboard and the list agree. Refused in production.
"""

import json
import random
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import islice

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
JSON_COLUMNS = ("first_touch", "last_touch", "articles_read")
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


def fake_lead_rows(
    count: int, rng: random.Random, now: datetime, article_slugs: Sequence[str], first_number=1
) -> Iterator[dict]:
    sizes = [value for value, _ in COMPANY_SIZES]
    statuses, status_weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    for number in range(first_number, first_number + count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = rng.choice(COMPANIES)
        email = ascii_email(f"{first}.{last}.{number}@{company.split()[0]}.example")
        created = now - timedelta(seconds=rng.randrange(365 * 24 * 3600))
        status = rng.choices(statuses, status_weights)[0]
        source = rng.choice(article_slugs) if article_slugs and rng.random() < 0.8 else None
        yield {
            "email": email, "email_normalised": email, "name": f"{first} {last}",
            "company": company, "role": rng.choice(ROLES), "company_size": rng.choice(sizes),
            "status": status, "fit_score": int(rng.triangular(0, 100, 55)),
            "suggested_engagement": "architect" if rng.random() < 0.65 else "engineer",
            "source_article": source, "first_touch": first_touch(rng, created),
            "last_touch": {}, "articles_read": [], "consent_version": "synthetic",
            "consent_given_at": created,
            "next_call_at": next_call(rng, status, now), "created_at": created,
            "updated_at": created,
        }  # fmt: skip


def ascii_email(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("ł", "l"))
    return text.encode("ascii", "ignore").decode()


def first_touch(rng: random.Random, at: datetime) -> dict[str, str]:
    weights = [touch[0] for touch in TOUCHES]
    _, source, medium, campaign, referrer = rng.choices(TOUCHES, weights)[0]
    found = {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign}
    return {**{k: v for k, v in found.items() if v}, "referrer": referrer, "at": at.isoformat()}


def next_call(rng: random.Random, status: str, now: datetime) -> datetime | None:
    half_hours = rng.randrange(16, 36)  # a call between 08:00 and 18:00 UTC
    if rng.random() < UPCOMING_CALL.get(status, 0):
        day = now.date() + timedelta(days=rng.randrange(1, 15))
    elif rng.random() < PAST_CALL.get(status, 0):
        day = now.date() - timedelta(days=rng.randrange(1, 60))
    else:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=30 * half_hours)


def insert_fake_leads(
    session: Session, count: int, *, seed: int, now: datetime, article_slugs: Sequence[str]
) -> int:
    """Add `count` synthetic leads and their won counts in one transaction; commits."""
    first_number = session.scalar(select(func.coalesce(func.max(Lead.id), 0))) + 1
    rows = fake_lead_rows(count, random.Random(seed), now, list(article_slugs), first_number)
    won: Counter = Counter()
    postgresql = session.get_bind().dialect.name == "postgresql"
    built_after = indexes_built_after if postgresql else search_tables_built_after
    with built_after(session, count >= REBUILD_INDEXES_FROM):
        while batch := list(islice(rows, BATCH_ROWS)):
            (copy_rows if postgresql else insert_rows)(session, batch)
            for row in batch:
                if row["status"] == "won" and row["source_article"]:
                    won[(row["source_article"], row["created_at"].date(), "won")] += 1
    upsert_counts(session.connection(), won)
    session.execute(text("ANALYZE lead"))  # after a bulk load the planner needs fresh numbers
    session.commit()
    return count


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
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
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


def insert_rows(session: Session, batch: list[dict]) -> None:
    # render_nulls: every row names every column, so a batch is one executemany.
    session.execute(insert(Lead).execution_options(render_nulls=True), batch)


def copy_rows(session: Session, batch: list[dict]) -> None:
    """PostgreSQL's COPY, through psycopg: a million leads load in seconds, not minutes."""
    names = list(batch[0])
    for row in batch:  # JSON columns go as JSON text; COPY casts text to the column's type
        for name in JSON_COLUMNS:
            row[name] = json.dumps(row[name])
    connection = session.connection().connection.driver_connection
    statement = f"COPY lead ({', '.join(names)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in batch:
            copy.write_row([row[name] for name in names])


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
