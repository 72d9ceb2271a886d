"""lead list speed: on SQLite, a word index for searches of 1 or 2 characters

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

A trigram index cannot find a fragment shorter than three characters, so the list finds
1 or 2 at the start of a word. PostgreSQL answers that from its trigram GIN indexes (a
pattern anchored at a word start still yields trigrams). SQLite scanned every lead instead,
with 63 LIKE patterns: seconds at 100,000 leads. Here SQLite gets `lead_words`, an FTS5
table of the words of name, email and company with prefix indexes of 1 and 2 characters,
so "jo" is one index lookup (`jo*`). Like `lead_search` (migration 0009) it is external
content over `lead`, kept in step by triggers that a batch rebuild of `lead` must recreate
(`create_sqlite_words`).
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TRIGGERS = (
    """CREATE TRIGGER lead_words_insert AFTER INSERT ON lead BEGIN
        INSERT INTO lead_words (rowid, name, email, company)
        VALUES (new.id, new.name, new.email, new.company);
    END""",
    """CREATE TRIGGER lead_words_delete AFTER DELETE ON lead BEGIN
        INSERT INTO lead_words (lead_words, rowid, name, email, company)
        VALUES ('delete', old.id, old.name, old.email, old.company);
    END""",
    """CREATE TRIGGER lead_words_update AFTER UPDATE OF name, email, company ON lead BEGIN
        INSERT INTO lead_words (lead_words, rowid, name, email, company)
        VALUES ('delete', old.id, old.name, old.email, old.company);
        INSERT INTO lead_words (rowid, name, email, company)
        VALUES (new.id, new.name, new.email, new.company);
    END""",
)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite_words()


def create_sqlite_words():
    # unicode61 splits words at anything not a letter or digit (space . @ - ' _), as the
    # list's "start of a word" does; remove_diacritics 2 lets "zo" find Zoë.
    op.execute(
        "CREATE VIRTUAL TABLE lead_words USING fts5(name, email, company, content='lead',"
        " content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='1 2')"
    )
    for trigger in TRIGGERS:
        op.execute(trigger)
    op.execute("INSERT INTO lead_words (lead_words) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("lead_words_insert", "lead_words_delete", "lead_words_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS lead_words")
