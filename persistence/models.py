"""Tables of bay records. The alembic migrations must keep matching them."""

import datetime

import sqlalchemy as sa
from sqlalchemy import orm

UTC = datetime.timezone.utc


def utcnow():
    return datetime.datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes on every backend.

    SQLite has no time zone storage, so it keeps naive UTC text and we attach
    UTC on the way out; PostgreSQL keeps ``timestamptz``. Callers always see
    aware UTC values, and comparisons in SQL stay correct on both.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == 'sqlite' else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(orm.DeclarativeBase):
    type_annotation_map = {datetime.datetime: UTCDateTime}


class TimestampMixin:
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        UTCDateTime, default=utcnow, nullable=False)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        UTCDateTime, onupdate=utcnow)


def _str(length=255, **kw):
    return orm.mapped_column(sa.String(length), nullable=True, **kw)


def _flag(default):
    return orm.mapped_column(
        sa.Boolean, nullable=False, default=default,
        server_default=sa.true() if default else sa.false())


def _version():
    return orm.mapped_column(sa.Integer, nullable=False, default=1,
                             server_default='1')


class BayModel(TimestampMixin, Base):
    __tablename__ = 'baymodels'
    __table_args__ = (sa.UniqueConstraint('uuid', name='uniq_baymodels0uuid'),)

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), nullable=False)
    name: orm.Mapped[str | None] = _str()
    project_id: orm.Mapped[str | None] = _str()
    user_id: orm.Mapped[str | None] = _str()
    coe: orm.Mapped[str | None] = _str()
    image_id: orm.Mapped[str | None] = _str()
    keypair_id: orm.Mapped[str | None] = _str()
    external_network_id: orm.Mapped[str | None] = _str()
    fixed_network: orm.Mapped[str | None] = _str()
    fixed_subnet: orm.Mapped[str | None] = _str()
    dns_nameserver: orm.Mapped[str | None] = _str()
    flavor_id: orm.Mapped[str | None] = _str()
    master_flavor_id: orm.Mapped[str | None] = _str()
    docker_volume_size: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    network_driver: orm.Mapped[str | None] = _str()
    volume_driver: orm.Mapped[str | None] = _str()
    apiserver_port: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    http_proxy: orm.Mapped[str | None] = _str()
    https_proxy: orm.Mapped[str | None] = _str()
    no_proxy: orm.Mapped[str | None] = _str()
    labels: orm.Mapped[dict] = orm.mapped_column(
        sa.JSON, nullable=False, default=dict)
    tls_disabled: orm.Mapped[bool] = _flag(False)
    public: orm.Mapped[bool] = _flag(False)
    registry_enabled: orm.Mapped[bool] = _flag(False)
    master_lb_enabled: orm.Mapped[bool] = _flag(False)
    floating_ip_enabled: orm.Mapped[bool] = _flag(True)
    docker_storage_driver: orm.Mapped[str | None] = _str()
    server_type: orm.Mapped[str | None] = _str()
    cluster_distro: orm.Mapped[str | None] = _str()
    # Optimistic lock: an update validated against one version writes only
    # if the row still has it (two valid updates cannot combine into an
    # invalid baymodel).
    version: orm.Mapped[int] = _version()


class Bay(TimestampMixin, Base):
    __tablename__ = 'bays'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_bays0uuid'),
        sa.Index('ix_bays_status', 'status'),
        sa.Index('ix_bays_name', 'name'),
        sa.Index('ix_bays_baymodel_id', 'baymodel_id'),
    )

    id: orm.Mapped[int] = orm.mapped_column(sa.Integer, primary_key=True)
    uuid: orm.Mapped[str] = orm.mapped_column(sa.String(36), nullable=False)
    name: orm.Mapped[str | None] = _str()
    project_id: orm.Mapped[str | None] = _str()
    user_id: orm.Mapped[str | None] = _str()
    # RESTRICT: a baymodel cannot vanish under a bay, even by a raw DELETE.
    baymodel_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(36),
        sa.ForeignKey('baymodels.uuid', name='fk_bays_baymodel_id',
                      ondelete='RESTRICT'),
        nullable=False)
    node_count: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    master_count: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    status: orm.Mapped[str] = orm.mapped_column(sa.String(20), nullable=False)
    status_reason: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    # Which lifecycle operation the status belongs to: create/update/delete.
    operation: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    api_address: orm.Mapped[str | None] = _str()
    master_addresses: orm.Mapped[list] = orm.mapped_column(
        sa.JSON, nullable=False, default=list)
    node_addresses: orm.Mapped[list] = orm.mapped_column(
        sa.JSON, nullable=False, default=list)
    discovery_url: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    create_timeout: orm.Mapped[int | None] = orm.mapped_column(sa.Integer)
    flow_id: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    version: orm.Mapped[int] = _version()
    # The lease: who runs the bay's flow, until when (database clock), and
    # which operation that flow runs (it differs from ``operation`` while a
    # create stops for a requested delete).
    owner: orm.Mapped[str | None] = _str()
    lease_expires_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        UTCDateTime)
    lease_operation: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    # The bay's CA: certificate (PEM) and private key (encrypted by the
    # engine, never shown).
    ca_cert: orm.Mapped[str | None] = orm.mapped_column(sa.Text)
    ca_key: orm.Mapped[str | None] = orm.mapped_column(sa.Text)


class ProcessedEvent(Base):
    """An event whose effect is recorded (inserted in the effect's own
    transaction): what it was, on which bay, and how its operation ended."""

    __tablename__ = 'processed_events'
    __table_args__ = (sa.Index('ix_processed_events_bay_uuid', 'bay_uuid'),)

    event_id: orm.Mapped[str] = orm.mapped_column(
        sa.String(255), primary_key=True)
    processed_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        UTCDateTime, nullable=False, default=utcnow)
    # bay.create / bay.update / bay.delete; NULL for rows older than 0003.
    event_type: orm.Mapped[str | None] = orm.mapped_column(sa.String(32))
    bay_uuid: orm.Mapped[str | None] = orm.mapped_column(sa.String(36))
    # pending while its flow runs, then success or failure.
    outcome: orm.Mapped[str | None] = orm.mapped_column(sa.String(16))
    finished_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        UTCDateTime)


def as_dict(obj):
    """A detached plain copy: ORM objects never leave the repository.

    A bay's copy holds its CA key: never log one whole.
    """
    values = {}
    for attr in orm.class_mapper(type(obj)).column_attrs:
        value = getattr(obj, attr.key)
        values[attr.key] = (dict(value) if isinstance(value, dict)
                            else list(value) if isinstance(value, list)
                            else value)
    return values
