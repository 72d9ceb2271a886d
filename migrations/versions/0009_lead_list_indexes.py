"""lead list at scale: indexes for each filter-and-sort pair, and fragment search
(pg_trgm GIN indexes on PostgreSQL, an FTS5 trigram table kept by triggers on SQLite)

Revision ID: 0009
Revises: 0008 (re-chained at merge)
Create Date: 2026-12-01

On SQLite the search table `lead_search` is external-content FTS5 over `lead`, kept in
step by three triggers. A later migration that rebuilds `lead` in batch mode (copy, drop,
rename) drops those triggers with the old table: it must create them again
(`create_sqlite_search`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SEARCHED = ("name", "email", "company")
# (name, columns): each filter the list offers, paired with each order it offers.
SORT_INDEXES = (
    ("ix_lead_fit_score_id", ["fit_score", "id"]),
    ("ix_lead_status_fit_score", ["status", "fit_score", "id"]),
    ("ix_lead_status_next_call", ["status", "next_call_at"]),
    ("ix_lead_source_fit_score", ["source_article", "fit_score", "id"]),
    ("ix_lead_source_next_call", ["source_article", "next_call_at"]),
)
SQLITE_TRIGGERS = (
    """CREATE TRIGGER lead_search_insert AFTER INSERT ON lead BEGIN
        INSERT INTO lead_search (rowid, name, email, company)
        VALUES (new.id, new.name, new.email, new.company);
    END""",
    """CREATE TRIGGER lead_search_delete AFTER DELETE ON lead BEGIN
        INSERT INTO lead_search (lead_search, rowid, name, email, company)
        VALUES ('delete', old.id, old.name, old.email, old.company);
    END""",
    """CREATE TRIGGER lead_search_update AFTER UPDATE OF name, email, company ON lead BEGIN
        INSERT INTO lead_search (lead_search, rowid, name, email, company)
        VALUES ('delete', old.id, old.name, old.email, old.company);
        INSERT INTO lead_search (rowid, name, email, company)
        VALUES (new.id, new.name, new.email, new.company);
    END""",
)


def upgrade():
    dialect = op.get_bind().dialect.name
    trigram_ops = "gin_trgm_ops"
    if dialect == "postgresql":
        trigram_ops = f"{create_trigram_extension()}.gin_trgm_ops"
    op.drop_index("ix_lead_fit_score", table_name="lead")
    for name, columns in SORT_INDEXES:
        op.create_index(name, "lead", columns)
    for column in SEARCHED:
        # gin_trgm_ops on PostgreSQL; elsewhere a plain index the models name too.
        op.create_index(
            f"ix_lead_{column}_trgm", "lead", [column],
            postgresql_using="gin", postgresql_ops={column: trigram_ops},
        )  # fmt: skip
    if dialect == "sqlite":
        create_sqlite_search()


def create_trigram_extension() -> str:
    """The schema pg_trgm lives in, created there if missing.

    It gets a schema of its own ("extensions"), not the site's: `flask backup restore` drops
    and rebuilds the site's schema, which it could not do with an extension inside it.
    pg_trgm ships with PostgreSQL, but creating it may need more rights than the app's
    database user has: say so plainly instead of failing on the first index."""
    bind = op.get_bind()
    where = sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'pg_trgm'"
    )
    existing = bind.scalar(where)
    if existing:
        return existing
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE SCHEMA IF NOT EXISTS extensions"))
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA extensions"))
        return bind.scalar(where)
    except sa.exc.DBAPIError as error:
        raise RuntimeError(
            "Migration 0009 needs the pg_trgm extension for lead search, and this database "
            "user may not create it. Ask a superuser to run `CREATE EXTENSION pg_trgm;` in "
            f"this database, then run the migration again. ({error.orig})"
        ) from error


def create_sqlite_search():
    op.execute(
        "CREATE VIRTUAL TABLE lead_search USING fts5("
        "name, email, company, content='lead', content_rowid='id', tokenize='trigram')"
    )
    for trigger in SQLITE_TRIGGERS:
        op.execute(trigger)
    op.execute("INSERT INTO lead_search (lead_search) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("lead_search_insert", "lead_search_delete", "lead_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS lead_search")
    for column in SEARCHED:
        op.drop_index(f"ix_lead_{column}_trgm", table_name="lead")
    for name, _ in reversed(SORT_INDEXES):
        op.drop_index(name, table_name="lead")
    op.create_index("ix_lead_fit_score", "lead", ["fit_score"])
    # pg_trgm stays: other databases objects may use it, and it costs nothing idle.
