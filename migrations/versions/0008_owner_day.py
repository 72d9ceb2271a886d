"""owner's day: where calls happen, the visitor's phone, Reply-To on outbox mail, the
owner's calendar subscription secret

Revision ID: 0008
Revises: 0007 (re-chained after 0006/0007 at merge)
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("availability_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_location", sa.String(length=500), nullable=True))
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.String(length=320), nullable=True))
    with op.batch_alter_table("owner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_secret", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("owner", schema=None) as batch_op:
        batch_op.drop_column("calendar_secret")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("reply_to")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_column("phone")
    with op.batch_alter_table("availability_settings", schema=None) as batch_op:
        batch_op.drop_column("call_location")
