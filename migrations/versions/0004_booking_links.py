"""booking links: per-booking private links stored as hashes, per-booking details, client key

Each booking keeps the details given with it (a later booking never rewrites the lead),
links are per booking and stored only as SHA-256 hashes, and outbox messages name the
bookings whose links they carry. The old per-lead nonce goes: every old link dies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BOOKING_DETAILS = ('name', 'email', 'company', 'role', 'company_size', 'consent_version')


def upgrade():
    op.create_table('booking_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_booking_link_booking_id_booking'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_booking_link_token_hash'))
    )
    with op.batch_alter_table('booking_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_link_booking_id'), ['booking_id'], unique=False)

    # Added nullable, filled from the lead, then made NOT NULL: existing bookings keep the
    # details their lead holds today.
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('company', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('role', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('company_size', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('consent_version', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('client_key', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_booking_client_key_starts', ['client_key', 'starts_at'], unique=False)
    for column in BOOKING_DETAILS:
        op.execute(
            f"UPDATE booking SET {column} = (SELECT lead.{column} FROM lead WHERE lead.id = booking.lead_id)"
        )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column('email', existing_type=sa.String(length=320), nullable=False)
        batch_op.alter_column('company', existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column('role', existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column('company_size', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('consent_version', existing_type=sa.String(length=40), nullable=False)

    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_column('manage_nonce')

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_booking_ids', sa.JSON(), nullable=True))
    op.execute("UPDATE outbox_message SET link_booking_ids = '[]'")
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('link_booking_ids', existing_type=sa.JSON(), nullable=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('link_booking_ids')

    # Old links cannot come back: every lead gets a fresh nonce that no link carries.
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manage_nonce', sa.String(length=64), nullable=True))
    op.execute("UPDATE lead SET manage_nonce = 'revoked-' || CAST(id AS VARCHAR(20))")
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.alter_column('manage_nonce', existing_type=sa.String(length=64), nullable=False)

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_client_key_starts')
        for column in ('client_key', *reversed(BOOKING_DETAILS)):
            batch_op.drop_column(column)

    with op.batch_alter_table('booking_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_link_booking_id'))

    op.drop_table('booking_link')
