"""article daily stats: anonymous per-article, per-day views and call-to-action clicks

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "article_daily_stat",
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cta_clicks", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("slug", "day", name=op.f("pk_article_daily_stat")),
    )


def downgrade():
    op.drop_table("article_daily_stat")
