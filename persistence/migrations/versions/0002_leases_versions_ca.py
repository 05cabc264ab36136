"""baymodels.version, bays.lease_operation, bays.ca_cert and bays.ca_key

Revision ID: 0002
Revises: 0001
Create Date: 2024-02-01 00:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('baymodels') as batch:
        batch.add_column(sa.Column('version', sa.Integer, nullable=False,
                                   server_default='1'))
    with op.batch_alter_table('bays') as batch:
        batch.add_column(sa.Column('lease_operation', sa.String(16)))
        batch.add_column(sa.Column('ca_cert', sa.Text))
        batch.add_column(sa.Column('ca_key', sa.Text))
    # A lease taken before this revision was for the operation then running.
    op.execute("UPDATE bays SET lease_operation = operation "
               "WHERE owner IS NOT NULL")


def downgrade():
    with op.batch_alter_table('bays') as batch:
        batch.drop_column('ca_key')
        batch.drop_column('ca_cert')
        batch.drop_column('lease_operation')
    with op.batch_alter_table('baymodels') as batch:
        batch.drop_column('version')
