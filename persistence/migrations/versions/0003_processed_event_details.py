"""processed_events: event_type, bay_uuid, outcome and finished_at

What an operator asks of an event: what it was, which bay it touched, and
how that bay's operation ended.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 00:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('processed_events') as batch:
        batch.add_column(sa.Column('event_type', sa.String(32)))
        batch.add_column(sa.Column('bay_uuid', sa.String(36)))
        batch.add_column(sa.Column('outcome', sa.String(16)))
        batch.add_column(sa.Column('finished_at', sa.DateTime(timezone=True)))
        batch.create_index('ix_processed_events_bay_uuid', ['bay_uuid'])


def downgrade():
    with op.batch_alter_table('processed_events') as batch:
        batch.drop_index('ix_processed_events_bay_uuid')
        batch.drop_column('finished_at')
        batch.drop_column('outcome')
        batch.drop_column('bay_uuid')
        batch.drop_column('event_type')
