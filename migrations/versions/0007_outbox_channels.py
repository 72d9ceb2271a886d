"""outbox channels: an email, or a write into the owner's CalDAV calendar

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Every message queued before this revision is an email.
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('channel', sa.String(length=20), server_default='email', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('channel')
