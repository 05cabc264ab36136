"""baymodels, bays and processed_events

Revision ID: 0001
Revises:
Create Date: 2024-01-01 00:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
            sa.Column('updated_at', sa.DateTime(timezone=True))]


def _strings(*names):
    return [sa.Column(n, sa.String(255)) for n in names]


def _flag(name, default):
    return sa.Column(name, sa.Boolean, nullable=False,
                     server_default=sa.true() if default else sa.false())


def upgrade():
    op.create_table(
        'baymodels',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        *_strings('name', 'project_id', 'user_id', 'coe', 'image_id',
                  'keypair_id', 'external_network_id', 'fixed_network',
                  'fixed_subnet', 'dns_nameserver', 'flavor_id',
                  'master_flavor_id'),
        sa.Column('docker_volume_size', sa.Integer),
        *_strings('network_driver', 'volume_driver'),
        sa.Column('apiserver_port', sa.Integer),
        *_strings('http_proxy', 'https_proxy', 'no_proxy'),
        sa.Column('labels', sa.JSON, nullable=False),
        _flag('tls_disabled', False),
        _flag('public', False),
        _flag('registry_enabled', False),
        _flag('master_lb_enabled', False),
        _flag('floating_ip_enabled', True),
        *_strings('docker_storage_driver', 'server_type', 'cluster_distro'),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_baymodels0uuid'),
    )
    op.create_table(
        'bays',
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        *_strings('name', 'project_id', 'user_id'),
        sa.Column('baymodel_id', sa.String(36), nullable=False),
        sa.Column('node_count', sa.Integer),
        sa.Column('master_count', sa.Integer),
        sa.Column('status', sa.String(20), nullable=False),
        sa.Column('status_reason', sa.Text),
        sa.Column('operation', sa.String(16)),
        sa.Column('api_address', sa.String(255)),
        sa.Column('master_addresses', sa.JSON, nullable=False),
        sa.Column('node_addresses', sa.JSON, nullable=False),
        sa.Column('discovery_url', sa.Text),
        sa.Column('create_timeout', sa.Integer),
        sa.Column('flow_id', sa.String(36)),
        sa.Column('version', sa.Integer, nullable=False, server_default='1'),
        sa.Column('owner', sa.String(255)),
        sa.Column('lease_expires_at', sa.DateTime(timezone=True)),
        *_timestamps(),
        sa.UniqueConstraint('uuid', name='uniq_bays0uuid'),
        sa.ForeignKeyConstraint(['baymodel_id'], ['baymodels.uuid'],
                                name='fk_bays_baymodel_id',
                                ondelete='RESTRICT'),
    )
    op.create_index('ix_bays_status', 'bays', ['status'])
    op.create_index('ix_bays_name', 'bays', ['name'])
    op.create_index('ix_bays_baymodel_id', 'bays', ['baymodel_id'])
    op.create_table(
        'processed_events',
        sa.Column('event_id', sa.String(255), primary_key=True),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table('processed_events')
    op.drop_table('bays')
    op.drop_table('baymodels')
