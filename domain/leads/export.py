"""The lead list's CSV export, streamed: the same columns and cells on every database.

SQLite writes each row through Python's `csv` (`search.csv_rows`). PostgreSQL writes the
CSV itself: `COPY (SELECT …) TO STDOUT WITH CSV`, the cells already turned into the text
Python would write (ISO times in UTC, a quote before a formula), so a million leads
leave the server as fast as it sorts them instead of as 16 million Python values.
"""

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import String, case, cast, func, literal, select
from sqlalchemy.orm import Session

from domain.leads.search import (
    CSV_HEADER,
    FORMULA_STARTS,
    LeadFilter,
    conditions,
    csv_chunks,
    csv_rows,
    dialect_of,
    ordering,
)
from models import Lead

CHUNK_BYTES = 64 * 1024  # what one streamed piece of the response holds, about


def csv_stream(session: Session, lead_filter: LeadFilter, now: datetime) -> Iterator[str | bytes]:
    """The whole CSV of the leads `lead_filter` matches, in the list's order, in pieces."""
    if dialect_of(session) == "postgresql":
        return copied_csv(session, lead_filter, now)
    return csv_chunks(csv_rows(session, lead_filter, now))


def copied_csv(session: Session, lead_filter: LeadFilter, now: datetime) -> Iterator[bytes]:
    """PostgreSQL's COPY output, about `CHUNK_BYTES` at a time, after the header row."""
    header = io.StringIO()
    csv.writer(header).writerow(CSV_HEADER)
    yield header.getvalue().encode()
    compiled = export_query(lead_filter, now).compile(
        session.get_bind(), compile_kwargs={"render_postcompile": True}
    )
    statement = f"COPY ({compiled.string}) TO STDOUT WITH (FORMAT csv)"
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor, cursor.copy(statement, compiled.params) as copy:
        pieces, size = [], 0
        # libpq hands COPY's output over one row at a time (PQgetCopyData), each ending
        # in "\n"; Python's csv module (and RFC 4180) end a row with "\r\n".
        for row in copy:
            pieces.append(bytes(row[:-1]) + b"\r\n")
            size += len(row) + 1
            if size >= CHUNK_BYTES:
                yield b"".join(pieces)
                pieces, size = [], 0
        if pieces:
            yield b"".join(pieces)


def export_query(lead_filter: LeadFilter, now: datetime):
    """`search.csv_rows`'s columns as the text Python would write for each cell."""
    touch = Lead.first_touch
    columns = (
        Lead.id, iso_utc(Lead.created_at), *map(safe_text, (
            Lead.name, Lead.email, Lead.company, Lead.role, Lead.company_size, Lead.status)),
        Lead.fit_score, safe_text(Lead.suggested_engagement), safe_text(Lead.source_article),
        iso_utc(Lead.next_call_at),
        *(safe_text(touch[key].as_string())
          for key in ("utm_source", "utm_medium", "utm_campaign", "referrer")),
    )  # fmt: skip
    where = conditions(lead_filter, "postgresql")
    return select(*columns).where(*where).order_by(*ordering(lead_filter.sort, now))


def safe_text(column):
    """`search.spreadsheet_safe` in SQL: a quote before a cell a spreadsheet would run.
    An empty cell goes as NULL, which COPY writes bare, as Python does (not as "")."""
    text = cast(column, String)
    runs = func.left(text, 1).in_(FORMULA_STARTS)
    return func.nullif(case((runs, literal("'") + text), else_=text), "")


def iso_utc(column):
    """`datetime.isoformat()` of the UTC time: microseconds only when there are some."""
    utc = func.timezone("UTC", column)
    whole = func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
    fraction = case((func.date_trunc("second", utc) != utc, func.to_char(utc, ".US")), else_="")
    return whole + fraction + "+00:00"
