"""The availability stamp: a token that changes in the same transaction as every write
that can change which times are free (a call booked, cancelled or moved; a calendar's
busy times stored; the owner's rules or call location saved), so a per-process cache
keyed by it never offers a taken time.

The token is changed by session events, not by each writer: every ORM flush and every
ORM insert/update/delete statement touching `Booking` or `BusyInterval` changes it,
whoever wrote it (booking POST, manage links, owner pages, calendar sync, CLI). A random
token rather than a counter: emptied tables (tests) or a restored backup can never bring
back a value a cache has already seen."""

from uuid import uuid4

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

from models import AvailabilitySettings, Booking, BusyInterval

WATCHED = (Booking.__table__, BusyInterval.__table__, AvailabilitySettings.__table__)

# One statement on SQLite and PostgreSQL alike; the upsert survives an emptied table.
_BUMP = text(
    "INSERT INTO availability_version (id, token) VALUES (1, :token) "
    "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
)
_READ = text("SELECT token FROM availability_version WHERE id = 1")


def current_stamp(session: Session) -> str | None:
    """The token now: one primary-key read, on the session's connection (the ORM's
    statement machinery has nothing to add to it). None until the first change (an
    emptied table)."""
    return session.connection().execute(_READ).scalar()


def stamp_outside_session(engine: Engine) -> str | None:
    """`current_stamp` for a page answered before Flask (fast_picker.py): one statement on a
    connection of the app's own pool (its pre-ping, its handling of dead connections), in
    autocommit, so no ORM session and no transaction: on PostgreSQL one round trip where a
    session costs BEGIN, SELECT and ROLLBACK. SQLite's connections here are always in
    autocommit (domain/platform/database.py)."""
    connection = engine.raw_connection()
    postgres = engine.dialect.name == "postgresql"
    try:
        if postgres:
            connection.dbapi_connection.autocommit = True
        try:
            cursor = connection.cursor()
            cursor.execute(_READ.text)
            row = cursor.fetchone()
            cursor.close()
        finally:
            if postgres:
                connection.dbapi_connection.autocommit = False
    except Exception:
        connection.invalidate()  # never back to the pool half-used
        raise
    finally:
        connection.close()
    return row[0] if row else None


def bump(session: Session) -> None:
    """Change the token inside the session's transaction: readers see the new token exactly
    when they see the write. Every time, not once per transaction: a rolled-back savepoint
    would take a once-only change with it."""
    bump_on(session.connection())


def bump_on(connection: Connection) -> None:
    """`bump` on the transaction's connection, for a writer that writes with Core."""
    connection.execute(_BUMP, {"token": uuid4().hex})


def _touches_watched(objects) -> bool:
    return any(getattr(o, "__table__", None) in WATCHED for o in objects)


@event.listens_for(Session, "before_flush")
def _bump_on_flush(session, flush_context, instances) -> None:
    changed = (
        _touches_watched(session.new)
        or _touches_watched(session.deleted)
        or _touches_watched(o for o in session.dirty if session.is_modified(o))
    )
    if changed:
        bump(session)


@event.listens_for(Session, "do_orm_execute")
def _bump_on_statement(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table in WATCHED:
        bump(state.session)
