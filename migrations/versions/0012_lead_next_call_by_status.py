"""lead list: the next-call order under a status filter walks one index, id included

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

"Won and lost, next call first" first counts the matching leads with a call ahead. With
LIMIT, PostgreSQL's planner expected them among the first rows of a sequential scan
(status and next call taken as independent), but won and lost leads rarely have a call
ahead: it read all 1,000,000 rows (0.6-2.7 s). With the lead's id in the index the count
is an index-only range per status (0.1 ms once the table is vacuumed).
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_lead_status_next_call", table_name="lead")
    op.create_index("ix_lead_status_next_call_id", "lead", ["status", "next_call_at", "id"])


def downgrade():
    op.drop_index("ix_lead_status_next_call_id", table_name="lead")
    op.create_index("ix_lead_status_next_call", "lead", ["status", "next_call_at"])
