"""Database behaviour the domain relies on, for SQLite and PostgreSQL alike.

SQLite: the driver's own transaction handling is switched off so that we issue BEGIN
ourselves; a write that must check-then-insert begins with BEGIN IMMEDIATE, which takes
the database's write lock before the check, so two processes cannot both pass it.
Foreign keys (for ON DELETE CASCADE) and WAL (readers never wait for the writer) are on.
Such writers first queue on a lock file beside the database (flock): SQLite's own busy
handler polls with sleeps of up to 100 ms, so under load a waiting writer slept long
after the lock was free; the kernel wakes a flock waiter the moment it is released.

`unreachable` tells an outage (try again later) from a mistake in a statement.
"""

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache

from sqlalchemy import Engine, TextClause, event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, scoped_session

IMMEDIATE_OPTION = "begin_immediate"
_held = threading.local()  # this thread's writer lock, so a nested write does not wait on itself


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        note_writes(engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=20000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        immediate = connection.get_execution_options().get(IMMEDIATE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


WROTE = "wrote_in_transaction"


def note_writes(engine: Engine) -> None:
    """Mark a PostgreSQL connection's transaction once it runs anything but a SELECT, so
    that serialised_write can tell a transaction that only read."""

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.info[WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def on_execute(connection, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip()[:6].upper() != "SELECT":
            connection.info[WROTE] = True


def only_read_so_far(session: Session) -> bool:
    """True on PostgreSQL while the session's transaction has read and nothing else: no
    statement but SELECTs, nothing pending, no savepoint."""
    if session.get_bind().dialect.name != "postgresql" or session.in_nested_transaction():
        return False
    if session.new or session.dirty or session.deleted:
        return False
    connection = session.connection()
    return connection.info.get(WROTE) is False


@contextmanager
def serialised_write(session: Session) -> Iterator[Session]:
    """One transaction that holds the write lock from its first statement; commits or rolls back.

    PostgreSQL needs no lock here: its constraints refuse a conflicting write at commit
    time, and the caller turns that refusal into a message. A transaction there that has
    only read goes on as the write (READ COMMITTED: each statement sees every commit made
    before it, as in a new transaction) instead of ending: that saves its rollback, the
    pool's ping when the connection is taken again, and a BEGIN. What it loaded is expired
    all the same, so the write reads it again.
    """
    if isinstance(session, scoped_session):
        session = session()
    going_on = session.in_transaction() and only_read_so_far(session)
    if going_on:
        session.expire_all()
    elif session.in_transaction():
        session.rollback()
    with writer_queue(session):
        if not going_on:  # BEGIN IMMEDIATE (SQLite) starts with the connection
            session.connection(execution_options={IMMEDIATE_OPTION: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def kept_after_commit(session: Session) -> Iterator[Session]:
    """Commits inside keep what the session loaded instead of expiring it, so work that
    follows a commit (composing a booking's emails) does not read it all again."""
    if isinstance(session, scoped_session):
        session = session()
    kept = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield session
    finally:
        session.expire_on_commit = kept


def lock_file_of(session: Session) -> str | None:
    """The lock file of a SQLite database file; None for PostgreSQL or a memory database."""
    url = session.get_bind().url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return f"{url.database}.write-lock"


@contextmanager
def writer_queue(session: Session) -> Iterator[None]:
    """Wait in the kernel's queue for this database's writer turn (processes and threads
    alike: each holder opens the file itself); re-entered freely by the thread holding it."""
    path = lock_file_of(session)
    if path is None or getattr(_held, "path", None) == path:
        yield
        return
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        _held.path = path
        try:
            yield
        finally:
            _held.path = None
    finally:
        os.close(descriptor)  # closing releases the flock


def lock_for_transaction(session: Session, *names: str) -> None:
    """Hold named locks until the transaction ends, so that a count-then-insert under the
    same names cannot interleave (PostgreSQL advisory locks; SQLite's BEGIN IMMEDIATE
    already serialises every such write)."""
    if session.get_bind().dialect.name != "postgresql" or not names:
        return
    # One statement, one round trip: the locks are taken left to right in the select list,
    # in one order everywhere, so two transactions cannot deadlock on two names.
    ordered = sorted(set(names))
    session.connection().execute(
        _advisory_locks(len(ordered)), {f"name{n}": name for n, name in enumerate(ordered)}
    )


@cache
def _advisory_locks(count: int) -> TextClause:
    """The statement taking `count` advisory locks, made once per count: every booking
    takes two."""
    locks = ", ".join(f"pg_advisory_xact_lock(hashtextextended(:name{n}, 0))" for n in range(count))
    return text(f"SELECT {locks}")


def unreachable(error: BaseException) -> bool:
    """True when the database could not do the work right now: down, restarting, the
    connection lost, no connection free, locked. The same request may succeed later."""
    if isinstance(error, PoolTimeout | OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def outage_summary(error: BaseException) -> str:
    """The driver's own first line (server, port, what failed), never the statement or its
    parameters, which can hold what a visitor typed."""
    cause = getattr(error, "orig", None) or error
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first_line[:200]}"


def rollback_quietly(session: Session) -> None:
    """Roll back after a failure; with the database gone the rollback may fail too."""
    with suppress(DBAPIError, PoolTimeout):
        session.rollback()
