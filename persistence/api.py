"""Repository of bay records: plain dicts in, plain dicts out.

Every write that can race is one conditional statement (``WHERE version =``,
the lease condition of ``leases``, ``WHERE NOT EXISTS``, a primary key), so
correctness never depends on a read made earlier in Python. When such a
statement touches no row we look again, inside the same transaction, only to
say *why*. A bay dict holds the bay's encrypted CA key: never log one whole.
"""

import contextlib
import random
import sqlite3
import time
import uuid as uuidlib

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import orm

from bayflow.persistence import events
from bayflow.persistence import exceptions as exc
from bayflow.persistence import leases
from bayflow.persistence import liveness
from bayflow.persistence import models
from bayflow.persistence import taskflow_rows

BayModel, Bay = models.BayModel, models.Bay

# Seconds a SQLite writer waits for another one's lock before failing.
SQLITE_BUSY_TIMEOUT = 30

# Written only by the database itself.
_SYSTEM = frozenset({'id', 'version', 'created_at', 'updated_at'})
# Written only by set_status (i.e. by bayflow.lifecycle).
_STATUS = frozenset({'status', 'status_reason', 'operation'})
# Written only by the lease functions (and with a status, by set_status).
_LEASE = frozenset(leases.LEASE_COLUMNS)


# DBAPI used when a URL names none. SQLAlchemy 2.1 would pick psycopg (3),
# but bayflow depends on psycopg2.
DEFAULT_DRIVERS = {'postgresql': 'psycopg2'}


def normalize_url(url):
    """Pin the DBAPI we ship, and accept ``postgres://`` (SQLAlchemy won't)."""
    url = sa.engine.make_url(url)
    backend, _, driver = url.drivername.partition('+')
    if backend == 'postgres':
        backend = 'postgresql'
    driver = driver or DEFAULT_DRIVERS.get(backend)
    return url.set(drivername=backend + ('+' + driver if driver else ''))


def is_memory_sqlite(url):
    url = sa.engine.make_url(url)
    return (url.get_backend_name() == 'sqlite'
            and url.database in (None, '', ':memory:'))


def make_engine(url, pool=None):
    """An engine whose SQLite transactions behave like real ones; ``pool``:
    (size, overflow) of a server's connection pool, else SQLAlchemy's."""
    url = normalize_url(url)
    if url.get_backend_name() != 'sqlite':
        sizes = dict(zip(('pool_size', 'max_overflow'), pool or ()))
        if url.get_backend_name() == 'postgresql':
            return liveness.check_at_checkout(sa.create_engine(url, **sizes))
        return sa.create_engine(url, pool_pre_ping=True, **sizes)
    connect_args = {'timeout': SQLITE_BUSY_TIMEOUT}
    kwargs = {}
    if is_memory_sqlite(url):
        # One shared connection, or every checkout would see an empty db.
        connect_args['check_same_thread'] = False
        kwargs['poolclass'] = sa.pool.StaticPool
    return configure_sqlite(
        sa.create_engine(url, connect_args=connect_args, **kwargs))


def configure_sqlite(engine):
    """Foreign keys, busy wait, WAL and real transactions; before first use."""
    sa.event.listen(engine, 'connect', _sqlite_connect)
    sa.event.listen(engine, 'begin', _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_conn, _record):
    # pysqlite would defer BEGIN past our SELECTs; _sqlite_begin takes over.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute('PRAGMA foreign_keys = ON')
        cursor.execute(f'PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT * 1000}')
        _while_locked(lambda: _use_wal(cursor))
        # In WAL mode NORMAL syncs at checkpoints instead of at every commit: a
        # killed process loses nothing it committed (only a power cut can take
        # the last few commits back, never corrupting the file). A flow commits
        # a few times per step, and an fsync each cost more than the step.
        cursor.execute('PRAGMA synchronous = NORMAL')
    finally:
        cursor.close()


def _use_wal(cursor):
    # WAL is a property of the file: set it once, not on every connect.
    if cursor.execute('PRAGMA journal_mode').fetchone()[0].lower() != 'wal':
        cursor.execute('PRAGMA journal_mode = WAL')


def _while_locked(action, timeout=SQLITE_BUSY_TIMEOUT):
    """Retry ``action`` while SQLite says the file is locked.

    Switching a fresh file to WAL needs it to itself, and SQLite reports
    that contention at once, without its busy handler: several processes
    opening a new database together would otherwise fail at random.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            return action()
        except sqlite3.OperationalError as e:
            if 'locked' not in str(e) and 'busy' not in str(e):
                raise
            if time.monotonic() + delay > deadline:
                raise
        time.sleep(delay * random.uniform(0.5, 1.5))
        delay = min(delay * 2, 0.2)


def _sqlite_begin(conn):
    # IMMEDIATE takes the write lock up front (waiting up to busy_timeout),
    # so a read-then-write transaction can never fail half-way with BUSY.
    conn.exec_driver_sql('BEGIN IMMEDIATE')


def _new_uuid():
    return str(uuidlib.uuid4())


def _columns(model):
    return {c.key for c in orm.class_mapper(model).column_attrs}


def _sortable(model):
    """JSON columns cannot be ordered or compared on PostgreSQL."""
    return sorted(c.key for c in model.__table__.columns
                  if not isinstance(c.type, sa.JSON))


def _check_values(kind, model, values, forbidden, why):
    unknown = sorted(set(values) - _columns(model))
    if unknown:
        raise exc.InvalidValues(
            unknown, f"a {kind} has no field {', '.join(unknown)}")
    refused = sorted(set(values) & forbidden)
    if refused:
        raise exc.InvalidValues(
            refused, f"cannot write {', '.join(refused)} of a {kind} here: "
                     f"{why}")


def _label(row):
    return f"{row.name!r} ({row.uuid})" if row.name else repr(row.uuid)


class Database(leases.LeaseMixin, events.EventMixin):
    """One database: bays, baymodels, processed events (and TaskFlow's).

    Every time it writes or compares (leases, events) is the database's
    clock, never this host's (see bayflow.persistence.leases).
    """

    def __init__(self, url, pool=None):
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, pool)
        self.dialect = self.engine.dialect.name
        self._sessions = orm.sessionmaker(self.engine, expire_on_commit=False)

    def dispose(self):
        self.engine.dispose()

    @contextlib.contextmanager
    def _txn(self):
        with self._sessions.begin() as session:
            yield session

    # -- lookups shared by bays and baymodels --------------------------------

    @staticmethod
    def _lookup(session, model, kind, ident):
        """A uuid wins over a name; a name must match exactly one row."""
        rows = session.scalars(
            sa.select(model)
            .where(sa.or_(model.uuid == ident, model.name == ident))
            .order_by(model.id)).all()
        for row in rows:
            if row.uuid == ident:
                return row
        if len(rows) > 1:
            raise exc.Ambiguous(kind, ident, [r.uuid for r in rows])
        if not rows:
            raise exc.NotFound(kind, ident)
        return rows[0]

    def _list(self, model, limit, sort_key, sort_dir, filters):
        allowed = _sortable(model)
        if sort_key not in allowed:
            raise exc.InvalidQuery('sort key', sort_key, allowed)
        if sort_dir not in ('asc', 'desc'):
            raise exc.InvalidQuery('sort direction', sort_dir, ['asc', 'desc'])
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise exc.InvalidQuery('limit', limit,
                                   ['a positive integer', 'None'])
        query = sa.select(model)
        for key, value in (filters or {}).items():
            if key not in allowed:
                raise exc.InvalidQuery('filter', key, allowed)
            query = query.where(getattr(model, key) == value)
        column = getattr(model, sort_key)
        order = column.asc() if sort_dir == 'asc' else column.desc()
        query = query.order_by(order, model.id.asc()).limit(limit)
        with self._txn() as session:
            return [models.as_dict(r) for r in session.scalars(query)]

    # -- baymodels -----------------------------------------------------------

    def create_baymodel(self, values):
        values = dict(values)
        values.setdefault('uuid', _new_uuid())
        _check_values('baymodel', BayModel, values, _SYSTEM,
                      'the database sets them')
        try:
            with self._txn() as session:
                row = BayModel(**values)
                session.add(row)
                session.flush()
                return models.as_dict(row)
        except sa_exc.IntegrityError:
            with self._txn() as session:
                if session.scalar(sa.select(BayModel.id)
                                  .where(BayModel.uuid == values['uuid'])):
                    raise exc.Duplicate('baymodel', 'uuid',
                                        values['uuid']) from None
            raise

    def get_baymodel(self, ident):
        with self._txn() as session:
            return models.as_dict(
                self._lookup(session, BayModel, 'baymodel', ident))

    def list_baymodels(self, limit=None, sort_key='id', sort_dir='asc',
                       filters=None):
        return self._list(BayModel, limit, sort_key, sort_dir, filters)

    def bays_using_baymodel(self, uuid):
        with self._txn() as session:
            return [models.as_dict(b) for b in self._users(session, uuid)]

    @staticmethod
    def _users(session, uuid):
        return session.scalars(sa.select(Bay).where(Bay.baymodel_id == uuid)
                               .order_by(Bay.id)).all()

    @staticmethod
    def _unreferenced(uuid):
        return ~sa.exists().where(Bay.baymodel_id == uuid)

    @staticmethod
    def _lock_baymodel(session, uuid):
        """Row lock taken by both sides of "no bay uses this baymodel".

        On PostgreSQL (READ COMMITTED) a bay insert not yet committed is
        invisible to the guard, and the foreign key's KEY SHARE lock does
        not block updates of other columns: so a bay insert holds SHARE on
        its baymodel (_insert_bays), a change takes UPDATE here, and the
        change's next statement sees every bay committed before it got the
        lock. SQLite's BEGIN IMMEDIATE serialises writers already.
        """
        return session.scalar(sa.select(BayModel.id)
                              .where(BayModel.uuid == uuid)
                              .with_for_update())

    def update_baymodel(self, uuid, expected_version, values):
        """Write values validated against ``expected_version`` of the row.

        Refused (StaleObject) if anyone wrote it since that version, so two
        valid updates cannot combine into an invalid baymodel; refused
        (InUse) while bays use it: they were built from its old values.
        """
        _check_values('baymodel', BayModel, values, _SYSTEM | {'uuid'},
                      'the database sets them')
        with self._txn() as session:
            self._lock_baymodel(session, uuid)
            stmt = (sa.update(BayModel)
                    .where(BayModel.uuid == uuid,
                           BayModel.version == expected_version,
                           self._unreferenced(uuid))
                    .values(version=BayModel.version + 1, **values)
                    .execution_options(synchronize_session=False))
            if session.execute(stmt).rowcount == 0:
                self._refuse_baymodel_change(session, uuid, 'update',
                                             expected_version)
            return models.as_dict(session.scalars(
                sa.select(BayModel).where(BayModel.uuid == uuid)).one())

    def delete_baymodel(self, uuid):
        try:
            with self._txn() as session:
                self._lock_baymodel(session, uuid)
                stmt = (sa.delete(BayModel)
                        .where(BayModel.uuid == uuid, self._unreferenced(uuid))
                        .execution_options(synchronize_session=False))
                if session.execute(stmt).rowcount == 1:
                    return
        except sa_exc.IntegrityError:
            pass  # a bay referencing it was committed meanwhile: say who
        with self._txn() as session:
            self._refuse_baymodel_change(session, uuid, 'delete')

    def _refuse_baymodel_change(self, session, uuid, action,
                                expected_version=None):
        row = session.scalars(
            sa.select(BayModel).where(BayModel.uuid == uuid)).one_or_none()
        if row is None:
            raise exc.NotFound('baymodel', uuid)
        users = [_label(b) for b in self._users(session, uuid)]
        if not users and expected_version not in (None, row.version):
            raise exc.StaleObject('baymodel', uuid, expected_version,
                                  row.version)
        raise exc.InUse('baymodel', _label(row), action, users)

    # -- bays ----------------------------------------------------------------

    def create_bay(self, values, owner=None, lease_seconds=None,
                   event_id=None, book=None):
        """Insert a bay; its initial status comes from bayflow.lifecycle.

        With ``owner`` the bay starts leased to it for ``lease_seconds``
        (database clock), for the bay's operation. With ``event_id`` the
        event is recorded in the same transaction; an event recorded before
        raises DuplicateEvent and nothing is inserted. ``book``, a new
        TaskFlow logbook (the bay's flow), goes in the same transaction.
        """
        values = self._bay_row(values)
        if owner is not None:
            values.update(leases.taken(self.dialect, owner, lease_seconds,
                                       values['operation']))
        try:
            return self._insert_bays([(values, event_id, book)])[0]
        except sa_exc.IntegrityError:
            self._explain_event(event_id)
            self._explain_bay_insert(values)
            raise

    def create_bays(self, items):
        """Insert many bays in one transaction (the daemon's batch of create
        events): ``items`` are (values, event_id, book) as create_bay takes
        them, without leases. All or nothing; -> the bays, in order.

        A duplicate event raises IntegrityError here: the caller tells which
        by inserting them one at a time.
        """
        return self._insert_bays([(self._bay_row(values), event_id, book)
                                  for values, event_id, book in items])

    @staticmethod
    def _bay_row(values):
        values = dict(values)
        values.setdefault('uuid', _new_uuid())
        _check_values('bay', Bay, values, _SYSTEM | _LEASE,
                      'the database sets id, version, created_at and '
                      'updated_at, and the lease comes from owner= and '
                      'lease_seconds=')
        missing = sorted({'status', 'operation', 'baymodel_id'} - set(values))
        if missing:
            raise exc.InvalidValues(
                missing, f"a bay needs {', '.join(missing)} to be inserted: "
                         f"its baymodel, and the initial status and "
                         f"operation that bayflow.lifecycle.start_create sets")
        return values

    def _insert_bays(self, items):
        baymodels = sorted({values['baymodel_id'] for values, _, _ in items})
        with self._txn() as session:
            # Row locks in one order, so two batches never wait on each other.
            locked = set(session.scalars(
                sa.select(BayModel.uuid).where(BayModel.uuid.in_(baymodels))
                .order_by(BayModel.uuid).with_for_update(read=True)))
            for uuid in baymodels:
                if uuid not in locked:
                    raise exc.NotFound('baymodel', uuid)
            event_rows = [self._event_row(event_id, values['operation'], values['uuid'])
                          for values, event_id, _ in items if event_id is not None]
            if event_rows:
                session.execute(self._insert_event(), event_rows)
            rows = self._insert_bay_rows(session, [values for values, _, _ in items])
            taskflow_rows.insert_books(session.connection(),
                                       [book for _, _, book in items if book])
            return [models.as_dict(row) for row in rows]

    @staticmethod
    def _insert_bay_rows(session, rows):
        """One INSERT for all the rows (their order kept), unless a row holds
        SQL expressions (a lease's database-clock expiry): those go alone."""
        if any(isinstance(value, sa.sql.ClauseElement)
               for row in rows for value in row.values()):
            return [session.scalars(sa.insert(Bay).values(**row).returning(Bay)).one()
                    for row in rows]
        return session.scalars(
            sa.insert(Bay).returning(Bay, sort_by_parameter_order=True), rows).all()

    def _explain_bay_insert(self, values):
        with self._txn() as session:
            if session.scalar(sa.select(Bay.id)
                              .where(Bay.uuid == values['uuid'])):
                raise exc.Duplicate('bay', 'uuid', values['uuid']) from None
            if not session.scalar(sa.select(BayModel.id).where(
                    BayModel.uuid == values['baymodel_id'])):
                raise exc.NotFound('baymodel', values['baymodel_id']) from None

    def get_bay(self, ident):
        with self._txn() as session:
            return models.as_dict(self._lookup(session, Bay, 'bay', ident))

    def list_bays(self, limit=None, sort_key='id', sort_dir='asc',
                  filters=None):
        return self._list(Bay, limit, sort_key, sort_dir, filters)

    def update_bay(self, uuid, expected_version, values, owner=None):
        """Change a bay's data; never its status, which has its own door.

        With ``owner`` (a flow's record write) it is refused while another
        live process holds the lease (LeaseHeld), or once a delete request
        cancelled ``owner``'s operation (LeaseLost).
        """
        _check_values(
            'bay', Bay, values, _SYSTEM | _STATUS | _LEASE | {'uuid'},
            'status, status_reason and operation change only through '
            'bayflow.lifecycle (set_status), owner, lease_expires_at and '
            'lease_operation only through the lease functions, and the '
            'database sets id, uuid, version, created_at and updated_at')
        where = []
        if owner is not None:
            where.append(leases.writable(owner, leases.clock(self.dialect)))
        return self._conditional_update(uuid, expected_version, where, values,
                                        owner)

    def set_status(self, uuid, expected_version, status, reason, operation,
                   extra=None, owner=None, lease=None, lease_seconds=None,
                   steal_from=None, request=False, only_from=None,
                   event_id=None):
        """The one place a bay's status is written (by bayflow.lifecycle).

        One UPDATE whose WHERE holds ``expected_version`` and the lease:
        refused while another live process holds it (it may go on with
        ``steal_from``, a holder the caller proved dead). A ``request``
        (a delete anyone may ask for) passes a live holder running another
        operation; that holder learns of it at its next renew.

        lease: None leaves the lease as it is; 'take' makes ``owner`` the
        holder for ``lease_seconds`` (a request takes it only if nobody
        runs the bay); 'release' frees the bay. only_from: statuses the
        row must be in. event_id: recorded in the same transaction (an
        event recorded before raises DuplicateEvent, nothing written).
        """
        extra = dict(extra or {})
        _check_values('bay', Bay, extra, _SYSTEM | _STATUS | _LEASE | {'uuid'},
                      'set_status writes status, reason, operation and the '
                      'lease itself and the database sets the rest')
        if lease not in (None, 'take', 'release'):
            raise ValueError(f"lease must be None, 'take' or 'release', "
                             f"not {lease!r}")
        if lease == 'take' and not (owner and lease_seconds):
            raise ValueError("lease='take' needs an owner and lease_seconds")
        now = leases.clock(self.dialect)
        where = [leases.not_running(operation, owner, now) if request
                 else leases.writable(owner, now, steal_from)]
        if only_from:
            where.append(Bay.status.in_(only_from))
        values = dict(extra, status=status, status_reason=reason,
                      operation=operation)
        if lease == 'release':
            values.update(leases.RELEASED)
        elif lease == 'take':
            take = leases.taken(self.dialect, owner, lease_seconds, operation)
            if request:
                free = leases.free_for_request(owner, operation, now)
                take = {key: sa.case((free, value), else_=getattr(Bay, key))
                        for key, value in take.items()}
            values.update(take)
        return self._conditional_update(uuid, expected_version, where, values,
                                        owner, operation, request,
                                        taking=lease == 'take',
                                        event_id=event_id)

    def _conditional_update(self, uuid, expected_version, where, values,
                            owner, operation=None, request=False, taking=False,
                            event_id=None):
        try:
            with self._txn() as session:
                self._record_event(session, event_id, operation, uuid)
                return self._update_row(session, uuid, expected_version, where,
                                        values, owner, operation, request,
                                        taking)
        except sa_exc.IntegrityError:
            self._explain_event(event_id)
            raise

    def _update_row(self, session, uuid, expected_version, where, values,
                    owner, operation, request, taking):
        stmt = (sa.update(Bay)
                .where(Bay.uuid == uuid, Bay.version == expected_version,
                       *where)
                .values(version=Bay.version + 1, **values)
                .execution_options(synchronize_session=False))
        if session.execute(stmt).rowcount == 0:
            raise leases.refusal(
                uuid, leases.state(session, self.dialect, uuid), owner,
                expected_version, operation, request, taking)
        return models.as_dict(session.scalars(
            sa.select(Bay).where(Bay.uuid == uuid)).one())

    def destroy_bay(self, uuid, expected_version, owner=None):
        """Delete the row if nobody changed it and no other live process
        holds its lease; returns what was deleted."""
        with self._txn() as session:
            row = session.scalars(sa.select(Bay).where(Bay.uuid == uuid)
                                  .with_for_update()).one_or_none()
            gone = row and models.as_dict(row)
            stmt = (sa.delete(Bay)
                    .where(Bay.uuid == uuid, Bay.version == expected_version,
                           leases.writable(owner, leases.clock(self.dialect)))
                    .execution_options(synchronize_session=False))
            if session.execute(stmt).rowcount == 0:
                raise leases.refusal(
                    uuid, leases.state(session, self.dialect, uuid), owner,
                    expected_version)
            return gone
