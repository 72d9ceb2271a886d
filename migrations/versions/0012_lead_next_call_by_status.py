"""lead list: the next-call order under a status filter walks one index, id included

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

"Won and lost, next call first" first counts the matching leads with a call ahead. With
LIMIT, PostgreSQL's planner expected them among the first rows of a sequential scan
(status and next call taken as independent), but won and lost leads rarely have a call
ahead: it read all 1,000,000 rows (0.6-2.7 s). With the lead's id in the index the count
is an index-only range per status (0.1 ms once the table is vacuumed).

A deep numbered page in that order (page 200: 9,950 leads to skip) read each skipped
lead's row (92 ms at 1,000,000 leads). With the order's columns and the id in one index,
the list skips them in the index alone and reads only its 50 rows (15 ms).
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


# (old index, its columns, new index, its columns): each new one serves all the old did.
REPLACED = (
    ("ix_lead_status_next_call", ["status", "next_call_at"],
     "ix_lead_status_next_call_id", ["status", "next_call_at", "id"]),
    ("ix_lead_next_call_at", ["next_call_at"],
     "ix_lead_next_call_order", ["next_call_at", "created_at", "id"]),
)  # fmt: skip


def upgrade():
    for old, _, new, columns in REPLACED:
        op.drop_index(old, table_name="lead")
        op.create_index(new, "lead", columns)


def downgrade():
    for old, columns, new, _ in REPLACED:
        op.drop_index(new, table_name="lead")
        op.create_index(old, "lead", columns)
