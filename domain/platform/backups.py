"""Backing up and restoring the site's database while the site runs.

SQLite: the online backup API copies a consistent snapshot page by page while others
read and write (WAL readers see one snapshot), and a restore writes the copy back through
the same API, under SQLite's own locks. PostgreSQL: `pg_dump` in its custom format takes
one consistent snapshot of the site's schema without blocking writers, and `pg_restore
--clean` puts it back. Either way a backup holds every booking committed before it began.
"""

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, make_url, text

PG_TOOLS = ("pg_dump", "pg_restore")


class BackupError(Exception):
    """What went wrong, in words for the person running the command."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int
    revision: str | None  # the Alembic revision the backed-up schema is at


def create_backup(engine: Engine, path: Path) -> BackupReport:
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists; choose a new file for the backup")
    path.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        _sqlite_copy(_sqlite_file(engine), path)
    elif engine.dialect.name == "postgresql":
        _pg_dump(engine, path)
    else:
        raise BackupError(f"backups of {engine.dialect.name} databases are not supported")
    return BackupReport(path, path.stat().st_size, schema_revision(engine))


def restore_backup(engine: Engine, path: Path) -> None:
    """Replace the database's contents with the backup's. Checks the backup first."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a backup file")
    engine.dispose()  # no pooled connection keeps reading the old contents
    if engine.dialect.name == "sqlite":
        _check_sqlite_backup(path)
        _sqlite_copy(path, _sqlite_file(engine))
    elif engine.dialect.name == "postgresql":
        _pg_restore(engine, path)
    else:
        raise BackupError(f"backups of {engine.dialect.name} databases are not supported")


def schema_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None


def _sqlite_file(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("this SQLite database is in memory; there is no file to back up")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.execute("PRAGMA busy_timeout = 20000")
        dst.execute("PRAGMA busy_timeout = 20000")
        src.backup(dst)
    src.close()
    dst.close()


def _check_sqlite_backup(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as backup:
            ok = backup.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            backup.execute("SELECT version_num FROM alembic_version").fetchone()
        backup.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a backup of this site: {error}") from error
    if not ok:
        raise BackupError(f"{path} is damaged (SQLite's integrity check failed)")


def _libpq_url(engine: Engine) -> str:
    """The engine's URL as pg_dump understands it (no SQLAlchemy driver name)."""
    url = make_url(str(engine.url.render_as_string(hide_password=False)))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _current_schema(engine: Engine) -> str:
    with engine.connect() as connection:
        return connection.execute(text("SELECT current_schema()")).scalar()


def _run(command: list[str]) -> None:
    tool = command[0]
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is missing: install Debian's postgresql-client")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{tool} failed: {result.stderr.strip()[:2000]}")


def _ensure_extensions(engine: Engine) -> None:
    """A dump holds the site's schema only, and its search indexes name pg_trgm's operator
    class in the schema of its own migration 0009 gives it: a fresh database needs it first."""
    with engine.begin() as connection:
        installed = connection.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
        if not installed:
            connection.execute(text("CREATE SCHEMA IF NOT EXISTS extensions"))
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA extensions"))
    engine.dispose()


def _pg_dump(engine: Engine, path: Path) -> None:
    # Only the site's schema ("public" in production), so other schemas on the same
    # server are neither read nor later dropped by a restore.
    schema = _current_schema(engine)
    _run(["pg_dump", "--format=custom", "--no-owner", f"--schema={schema}", "--file",
          str(path), _libpq_url(engine)])  # fmt: skip


def _pg_restore(engine: Engine, path: Path) -> None:
    _run(["pg_restore", "--list", str(path)])  # a readable archive, before anything is dropped
    _ensure_extensions(engine)
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
          "--exit-on-error", "--dbname", _libpq_url(engine), str(path)])  # fmt: skip
