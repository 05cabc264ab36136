"""Migrations, TaskFlow wiring and the repository, on SQLite and PostgreSQL."""

import contextlib
import datetime
import subprocess
import sys
import threading
import uuid

from alembic import command as alembic_command
import pytest
import sqlalchemy as sa
from taskflow.persistence import models as tf_models

from bayflow.persistence import api
from bayflow.persistence import exceptions as exc
from bayflow.persistence import leases
from bayflow.persistence import migration
from bayflow.persistence import models
from bayflow.persistence import taskflow_backend

UTC = datetime.timezone.utc
HEAD = migration.head()


def lapse(db, uuid, seconds_ago=1):
    """The lease holder died: its lease ended ``seconds_ago`` (database clock)."""
    with db.engine.begin() as conn:
        conn.execute(sa.update(models.Bay).where(models.Bay.uuid == uuid).values(
            lease_expires_at=leases.clock(db.dialect, -seconds_ago)))


def around_now(db, seconds):
    """Bounds of "database time now + seconds", read before and after a call."""
    class Bounds:
        def __enter__(self):
            self.low = db.now() + datetime.timedelta(seconds=seconds)
            return self

        def __exit__(self, *exc):
            self.high = db.now() + datetime.timedelta(seconds=seconds)

        def __contains__(self, moment):
            return self.low <= moment <= self.high
    return Bounds()


@contextlib.contextmanager
def migrated_database(request, backend):
    """One migrated database per module and backend: fresh ones cost ~1 s.

    Migration tests use conftest's per-test ``db_url`` instead.
    """
    if backend == 'sqlite':
        path = request.getfixturevalue('tmp_path_factory').mktemp('db')
        url = f'sqlite:///{path}/bayflow.sqlite'
        migration.upgrade(url)
        yield url
        return
    server = request.getfixturevalue('pg_server_url')
    name = 'bayflow_test_' + uuid.uuid4().hex[:12]
    admin = sa.create_engine(server + '/postgres', isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE {name}'))
    try:
        migration.upgrade(f'{server}/{name}')
        yield f'{server}/{name}'
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS {name} WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def clean_database(url):
    """A Database on the module's database, emptied after the test."""
    database = api.Database(url)
    try:
        yield database
    finally:
        with database.engine.begin() as conn:
            for table in ('bays', 'baymodels', 'processed_events', 'logbooks'):
                conn.execute(sa.text(f'DELETE FROM {table}'))
        database.dispose()


@pytest.fixture(scope='module', params=['sqlite', 'postgresql'])
def module_db_url(request):
    with migrated_database(request, request.param) as url:
        yield url


@pytest.fixture
def db(module_db_url):
    with clean_database(module_db_url) as database:
        yield database


@pytest.fixture
def baymodel(db):
    return db.create_baymodel({'name': 'k8s-atomic', 'coe': 'kubernetes',
                               'image_id': 'fedora-23-atomic',
                               'keypair_id': 'testkey',
                               'labels': {'flannel_backend': 'vxlan'}})


def new_bay(db, baymodel, **values):
    values.setdefault('name', 'k8s')
    return db.create_bay(dict(values, baymodel_id=baymodel['uuid'],
                              status='CREATE_IN_PROGRESS',
                              operation='create'))


def tables(url):
    engine = sa.create_engine(api.normalize_url(url))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def in_threads(count, target):
    """Run ``target`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as e:  # collected for the assertion
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# -- migrations and TaskFlow ---------------------------------------------------

def test_upgrade_creates_both_schemas_and_is_idempotent(db_url):
    assert migration.current(db_url) is None
    migration.upgrade(db_url)
    migration.upgrade(db_url)
    assert migration.current(db_url) == HEAD
    assert {'baymodels', 'bays', 'processed_events', 'bayflow_alembic_version',
            'logbooks', 'flowdetails', 'atomdetails'} <= tables(db_url)


def test_upgrade_from_0001_keeps_rows_and_records_lease_operations(db_url):
    migration.upgrade(db_url, '0001')
    engine = sa.create_engine(api.normalize_url(db_url))
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO baymodels (uuid, name, labels, created_at) "
            "VALUES ('bm-1', 'k8s', '{}', CURRENT_TIMESTAMP)"))
        for name, owner in (('run', 'host-a'), ('idle', None)):
            conn.execute(sa.text(
                "INSERT INTO bays (uuid, name, baymodel_id, status, operation, "
                "master_addresses, node_addresses, owner, created_at) VALUES "
                "(:u, :u, 'bm-1', 'UPDATE_IN_PROGRESS', 'update', '[]', '[]', "
                ":o, CURRENT_TIMESTAMP)"), {'u': name, 'o': owner})
    engine.dispose()
    migration.upgrade(db_url)
    assert migration.current(db_url) == HEAD
    db = api.Database(db_url)
    try:
        assert db.get_baymodel('bm-1')['version'] == 1
        assert db.get_bay('run')['lease_operation'] == 'update'
        assert db.get_bay('idle')['lease_operation'] is None
        assert db.get_bay('run')['ca_key'] is None
    finally:
        db.dispose()
    downgrade(db_url, '0001')     # and back down
    assert migration.current(db_url) == '0001'


def downgrade(db_url, revision):
    engine = sa.create_engine(api.normalize_url(db_url))
    try:
        with engine.connect() as conn:
            alembic_command.downgrade(migration.alembic_config_for(conn), revision)
            conn.commit()
        return {t: {c['name'] for c in sa.inspect(engine).get_columns(t)}
                for t in sa.inspect(engine).get_table_names()}
    finally:
        engine.dispose()


def test_upgrade_from_0002_keeps_processed_events_and_downgrades(db_url):
    migration.upgrade(db_url, '0002')
    engine = sa.create_engine(api.normalize_url(db_url))
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO processed_events (event_id, processed_at) "
                             "VALUES ('old-event', CURRENT_TIMESTAMP)"))
    engine.dispose()
    migration.upgrade(db_url)
    assert migration.current(db_url) == HEAD
    db = api.Database(db_url)
    try:
        old = db.get_event('old-event')
        assert old['event_type'] is None and old['bay_uuid'] is None
        assert old['outcome'] is None and old['processed_at'] is not None
        assert db.mark_event_processed('old-event') is False
    finally:
        db.dispose()
    columns = downgrade(db_url, '0002')     # and back down
    assert migration.current(db_url) == '0002'
    assert columns['processed_events'] == {'event_id', 'processed_at'}


def test_models_match_the_migrated_schema(db_url):
    migration.upgrade(db_url)
    assert migration.schema_diff(db_url) == []


def test_schema_diff_sees_a_drift(db_url):
    migration.upgrade(db_url)
    engine = sa.create_engine(api.normalize_url(db_url))
    with engine.begin() as conn:
        conn.execute(sa.text('DROP INDEX ix_bays_name'))
    engine.dispose()
    diff = migration.schema_diff(db_url)
    assert [d[0] for d in diff] == ['add_index']


def test_two_alembic_histories_do_not_overwrite_each_other(pg_url):
    migration.upgrade(pg_url)
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        ours = conn.execute(sa.text(
            'SELECT version_num FROM bayflow_alembic_version')).scalars().all()
        theirs = conn.execute(sa.text(
            'SELECT version_num FROM alembic_version')).scalars().all()
    engine.dispose()
    assert ours == [HEAD]
    assert len(theirs) == 1 and theirs != ours


def test_concurrent_upgrades_are_serialised(db_url):
    """Daemon, CLI and conductor may all start at once on a fresh database."""
    code = 'import sys; from bayflow.persistence import migration; ' \
           'migration.upgrade(sys.argv[1])'
    procs = [subprocess.Popen([sys.executable, '-c', code, db_url],
                              stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert migration.current(db_url) == HEAD
    assert in_threads(3, lambda i: migration.upgrade(db_url)) == [None] * 3


def _save_and_read_logbook(backend):
    book = tf_models.LogBook('bay-create')
    flow = tf_models.FlowDetail('create-bay', uuid=str(uuid.uuid4()))
    atom = tf_models.TaskDetail('ensure-network', uuid=str(uuid.uuid4()))
    flow.add(atom)
    book.add(flow)
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
        got = conn.get_logbook(book.uuid)
        assert got.name == 'bay-create'
        assert got.find(flow.uuid).find(atom.uuid).name == 'ensure-network'
        conn.destroy_logbook(book.uuid)


def test_taskflow_logbook_round_trip(db_url):
    migration.upgrade(db_url)
    backend = taskflow_backend.get_backend(db_url)
    try:
        _save_and_read_logbook(backend)
    finally:
        backend.close()
    # Destroying a logbook cascades to its details (SQLite: foreign keys on).
    engine = sa.create_engine(api.normalize_url(db_url))
    with engine.connect() as conn:
        for table in ('flowdetails', 'atomdetails'):
            count = conn.execute(sa.text(f'SELECT count(*) FROM {table}'))
            assert count.scalar() == 0
    engine.dispose()


def test_taskflow_backend_accepts_postgres_url_spellings(pg_url):
    rest = pg_url.split('://', 1)[1]
    migration.upgrade('postgres://' + rest)
    for scheme in ('postgresql', 'postgres', 'postgresql+psycopg2'):
        backend = taskflow_backend.get_backend(f'{scheme}://{rest}')
        try:
            _save_and_read_logbook(backend)
        finally:
            backend.close()


def test_taskflow_updates_write_what_changed(db):
    """A flow's state change writes the flow's row and the atoms the database
    lacks, not every atom again; an atom's update is its one UPDATE."""
    from taskflow import exceptions as tf_exc
    conn = taskflow_backend.get_backend(db).get_connection()
    book = _book(str(uuid.uuid4()))
    (fd,) = book
    for i in range(20):
        fd.add(tf_models.TaskDetail(f'step-{i}', str(uuid.uuid4())))
    conn.save_logbook(book)
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        if not statement.startswith('BEGIN'):   # SQLite's own BEGIN IMMEDIATE
            statements.append(statement.split()[0])

    sa.event.listen(db.engine, 'before_cursor_execute', seen)
    try:
        clone = fd.copy()
        clone.state = 'RUNNING'
        new = tf_models.TaskDetail('step-new', str(uuid.uuid4()))
        clone.add(new)
        assert conn.update_flow_details(clone) is clone
        assert (statements.count('UPDATE'), statements.count('INSERT')) == (1, 1)
        del statements[:]
        new.state, new.results = 'SUCCESS', {'network': 'n-1'}
        conn.update_atom_details(new)
        assert statements == ['UPDATE']
    finally:
        sa.event.remove(db.engine, 'before_cursor_execute', seen)
    got = conn.get_flow_details(fd.uuid)
    assert got.state == 'RUNNING' and len(got) == 22
    assert got.find(new.uuid).results == {'network': 'n-1'}
    with pytest.raises(tf_exc.NotFound):
        conn.update_atom_details(tf_models.TaskDetail('gone', str(uuid.uuid4())))


def test_in_memory_sqlite_holds_both_when_sharing_a_database():
    db = api.Database('sqlite://')
    try:
        migration.upgrade(db)
        assert migration.schema_diff(db) == []
        backend = taskflow_backend.get_backend(db)
        _save_and_read_logbook(backend)
        backend.close()
        assert db.list_bays() == []
    finally:
        db.dispose()


def test_sqlite_connections_enforce_foreign_keys(sqlite_url):
    db = api.Database(sqlite_url)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql('PRAGMA foreign_keys').scalar() == 1
        assert conn.exec_driver_sql('PRAGMA busy_timeout').scalar() > 0
    db.dispose()


# -- baymodels -------------------------------------------------------------------

def test_create_baymodel_generates_uuid_and_defaults(baymodel):
    assert uuid.UUID(baymodel['uuid'])
    assert baymodel['labels'] == {'flannel_backend': 'vxlan'}
    assert baymodel['floating_ip_enabled'] is True
    assert baymodel['tls_disabled'] is False
    assert baymodel['created_at'].tzinfo is not None
    assert baymodel['created_at'].utcoffset() == datetime.timedelta(0)


def test_get_baymodel_by_uuid_or_name(db, baymodel):
    assert db.get_baymodel(baymodel['uuid']) == baymodel
    assert db.get_baymodel('k8s-atomic') == baymodel


def test_ambiguous_name_lists_the_candidates(db, baymodel):
    twin = db.create_baymodel({'name': 'k8s-atomic'})
    with pytest.raises(exc.Ambiguous) as err:
        db.get_baymodel('k8s-atomic')
    assert baymodel['uuid'] in str(err.value)
    assert twin['uuid'] in str(err.value)
    assert db.get_baymodel(twin['uuid']) == twin


def test_missing_baymodel_names_kind_and_ident(db):
    with pytest.raises(exc.NotFound, match="baymodel 'nope' not found"):
        db.get_baymodel('nope')


def test_list_baymodels_sorts_and_limits(db):
    for name in ('b', 'c', 'a'):
        db.create_baymodel({'name': name})
    names = [m['name'] for m in db.list_baymodels(sort_key='name')]
    assert names == ['a', 'b', 'c']
    names = [m['name'] for m in db.list_baymodels(limit=2, sort_key='name',
                                                  sort_dir='desc')]
    assert names == ['c', 'b']
    assert [m['name'] for m in db.list_baymodels()] == ['b', 'c', 'a']


@pytest.mark.parametrize('kwargs,field', [
    ({'sort_key': 'labels'}, "sort key 'labels'"),
    ({'sort_key': 'nope'}, "sort key 'nope'"),
    ({'sort_dir': 'up'}, "sort direction 'up'"),
    ({'limit': 0}, 'limit 0'),
])
def test_bad_listing_query_names_field_value_and_allowed(db, kwargs, field):
    with pytest.raises(exc.InvalidQuery) as err:
        db.list_baymodels(**kwargs)
    assert isinstance(err.value, ValueError)
    assert str(err.value).startswith(f'invalid {field}: allowed values are ')


def test_update_baymodel_when_unused(db, baymodel):
    assert baymodel['version'] == 1
    new = db.update_baymodel(baymodel['uuid'], 1, {'coe': 'swarm'})
    assert (new['coe'], new['version']) == ('swarm', 2)
    assert new['updated_at'] is not None


def test_update_baymodel_is_version_checked(db, baymodel):
    db.update_baymodel(baymodel['uuid'], 1, {'coe': 'swarm'})
    with pytest.raises(exc.StaleObject, match='expected version 1, found 2'):
        db.update_baymodel(baymodel['uuid'], 1, {'network_driver': 'calico'})
    stored = db.get_baymodel(baymodel['uuid'])
    assert (stored['coe'], stored['network_driver'], stored['version']) == \
        ('swarm', None, 2)
    with pytest.raises(exc.NotFound):
        db.update_baymodel(str(uuid.uuid4()), 1, {'coe': 'swarm'})
    with pytest.raises(exc.InvalidValues, match='cannot write version'):
        db.update_baymodel(baymodel['uuid'], 2, {'version': 7})


def test_baymodel_in_use_cannot_change_or_go(db, baymodel):
    bay = new_bay(db, baymodel)
    with pytest.raises(exc.InUse, match="cannot update baymodel 'k8s-atomic'"):
        db.update_baymodel(baymodel['uuid'], 1, {'coe': 'swarm'})
    with pytest.raises(exc.InUse) as err:
        db.delete_baymodel(baymodel['uuid'])
    assert bay['uuid'] in str(err.value) and 'delete those bays' in str(err.value)
    # Nothing half-written: both rows exactly as they were.
    assert db.get_baymodel(baymodel['uuid']) == baymodel
    assert db.get_bay(bay['uuid']) == bay
    assert [b['uuid'] for b in db.bays_using_baymodel(baymodel['uuid'])] \
        == [bay['uuid']]
    db.destroy_bay(bay['uuid'], bay['version'])
    db.delete_baymodel(baymodel['uuid'])
    with pytest.raises(exc.NotFound):
        db.get_baymodel(baymodel['uuid'])


def test_foreign_key_restricts_even_a_raw_delete(db, baymodel):
    new_bay(db, baymodel)
    with pytest.raises(sa.exc.IntegrityError):
        with db.engine.begin() as conn:
            conn.execute(sa.text('DELETE FROM baymodels'))


def test_delete_missing_baymodel(db):
    with pytest.raises(exc.NotFound):
        db.delete_baymodel(str(uuid.uuid4()))


# -- bays ---------------------------------------------------------------------------

def test_create_bay_round_trips_json_and_starts_at_version_1(db, baymodel):
    bay = new_bay(db, baymodel, master_addresses=['172.24.4.3'])
    assert bay['version'] == 1
    assert bay['master_addresses'] == ['172.24.4.3']
    assert bay['node_addresses'] == []
    assert db.get_bay('k8s') == bay


def test_create_bay_needs_an_existing_baymodel(db):
    with pytest.raises(exc.NotFound, match='baymodel'):
        db.create_bay({'baymodel_id': str(uuid.uuid4()),
                       'status': 'CREATE_IN_PROGRESS', 'operation': 'create'})
    assert db.list_bays() == []


def test_create_bay_needs_its_initial_status(db, baymodel):
    with pytest.raises(exc.InvalidValues, match='operation, status'):
        db.create_bay({'baymodel_id': baymodel['uuid']})


def test_duplicate_bay_uuid(db, baymodel):
    bay = new_bay(db, baymodel)
    with pytest.raises(exc.Duplicate):
        new_bay(db, baymodel, uuid=bay['uuid'])


def test_list_bays_filters(db, baymodel):
    new_bay(db, baymodel, name='a')
    new_bay(db, baymodel, name='b')
    assert [b['name'] for b in db.list_bays(filters={'name': 'b'})] == ['b']
    with pytest.raises(exc.InvalidQuery, match="filter 'master_addresses'"):
        db.list_bays(filters={'master_addresses': []})


def test_update_bay_bumps_version(db, baymodel):
    bay = new_bay(db, baymodel)
    new = db.update_bay(bay['uuid'], 1, {'node_count': 3})
    assert (new['node_count'], new['version']) == (3, 2)


@pytest.mark.parametrize('field', ['status', 'status_reason', 'operation',
                                   'version', 'owner', 'uuid'])
def test_update_bay_refuses_fields_it_does_not_own(db, baymodel, field):
    bay = new_bay(db, baymodel)
    with pytest.raises(exc.InvalidValues, match=f'cannot write {field}'):
        db.update_bay(bay['uuid'], 1, {field: 'x', 'node_count': 2})
    assert db.get_bay(bay['uuid']) == bay


def test_update_bay_refuses_unknown_fields(db, baymodel):
    bay = new_bay(db, baymodel)
    with pytest.raises(exc.InvalidValues, match='no field stack_id'):
        db.update_bay(bay['uuid'], 1, {'stack_id': 'x'})


def test_stale_update_and_missing_bay(db, baymodel):
    bay = new_bay(db, baymodel)
    db.update_bay(bay['uuid'], 1, {'node_count': 2})
    with pytest.raises(exc.StaleObject) as err:
        db.update_bay(bay['uuid'], 1, {'node_count': 5})
    assert str(err.value) == (
        f"bay {bay['uuid']!r} was changed by someone else (expected version "
        "1, found 2); reload and retry")
    assert db.get_bay(bay['uuid'])['node_count'] == 2
    with pytest.raises(exc.NotFound):
        db.update_bay(str(uuid.uuid4()), 1, {'node_count': 5})


def test_set_status_is_version_checked(db, baymodel):
    bay = new_bay(db, baymodel)
    new = db.set_status(bay['uuid'], 1, 'CREATE_COMPLETE', 'done', 'create',
                        {'api_address': 'https://172.24.4.3:6443'})
    assert (new['status'], new['version']) == ('CREATE_COMPLETE', 2)
    assert new['api_address'] == 'https://172.24.4.3:6443'
    with pytest.raises(exc.StaleObject):
        db.set_status(bay['uuid'], 1, 'CREATE_FAILED', 'x', 'create')
    with pytest.raises(exc.NotFound):
        db.set_status(str(uuid.uuid4()), 1, 'CREATE_FAILED', 'x', 'create')
    with pytest.raises(exc.InvalidValues):
        db.set_status(bay['uuid'], 2, 'CREATE_FAILED', 'x', 'create',
                      {'status': 'UPDATE_FAILED'})
    assert db.get_bay(bay['uuid']) == new


def test_destroy_bay_is_version_checked(db, baymodel):
    bay = new_bay(db, baymodel)
    with pytest.raises(exc.StaleObject):
        db.destroy_bay(bay['uuid'], 5)
    assert db.destroy_bay(bay['uuid'], 1)['uuid'] == bay['uuid']
    with pytest.raises(exc.NotFound):
        db.destroy_bay(bay['uuid'], 1)


# -- events -------------------------------------------------------------------------

def test_mark_event_processed_dedupes(db):
    assert db.mark_event_processed('req-1') is True
    assert db.mark_event_processed('req-1') is False
    assert db.mark_event_processed('req-2') is True


def test_mark_event_processed_is_race_safe(db):
    results = in_threads(8, lambda i: db.mark_event_processed('req-race'))
    assert sorted(results) == [False] * 7 + [True]


def event_bay(db, baymodel, name, event_id):
    return db.create_bay({'name': name, 'baymodel_id': baymodel['uuid'],
                          'status': 'CREATE_IN_PROGRESS', 'operation': 'create'},
                         event_id=event_id)


def test_create_bay_records_its_event_once(db, baymodel):
    bay = event_bay(db, baymodel, 'k8s', 'ev-create')
    event = db.get_event('ev-create')
    assert (event['event_type'], event['bay_uuid'], event['outcome']) == \
        ('bay.create', bay['uuid'], 'pending')
    with pytest.raises(exc.DuplicateEvent):
        event_bay(db, baymodel, 'second', 'ev-create')
    assert [b['name'] for b in db.list_bays()] == ['k8s']  # rolled back whole


def test_set_status_records_its_event_in_the_same_transaction(db, baymodel):
    bay = new_bay(db, baymodel)
    moved = db.set_status(bay['uuid'], bay['version'], 'DELETE_IN_PROGRESS', 'asked',
                          'delete', event_id='ev-delete')
    assert db.get_event('ev-delete')['event_type'] == 'bay.delete'
    with pytest.raises(exc.DuplicateEvent):
        db.set_status(bay['uuid'], moved['version'], 'DELETE_IN_PROGRESS', 'again',
                      'delete', event_id='ev-delete')
    assert db.get_bay(bay['uuid'])['version'] == moved['version']
    # A refused move records nothing: the event may come again and succeed.
    with pytest.raises(exc.StaleObject):
        db.set_status(bay['uuid'], 99, 'DELETE_IN_PROGRESS', 'x', 'delete',
                      event_id='ev-stale')
    assert db.get_event('ev-stale') is None
    assert db.finish_events(bay['uuid'], 'delete', 'success') == 1
    assert db.get_event('ev-delete')['outcome'] == 'success'


def _book(bay_uuid):
    """A bay's logbook with one flow and its store, as bayflow.engine.books makes it."""
    fd = tf_models.FlowDetail(f'create:{bay_uuid}', str(uuid.uuid4()))
    store = tf_models.TaskDetail('_TaskFlow_INJECTOR', str(uuid.uuid4()))
    store.results, store.state = {'bay': {'uuid': bay_uuid}}, 'SUCCESS'
    fd.add(store)
    book = tf_models.LogBook(f'bay-{bay_uuid}', uuid=bay_uuid)
    book.add(fd)
    return book


def _books(db):
    backend = taskflow_backend.get_backend(db)
    conn = backend.get_connection()
    return {book.uuid: [[ad.results for ad in fd] for fd in book]
            for book in conn.get_logbooks()}


def test_create_bays_inserts_the_bays_events_and_flows_together(db, baymodel):
    items = []
    for i in range(3):
        bay_uuid = str(uuid.uuid4())
        items.append(({'uuid': bay_uuid, 'name': f'b{i}', 'baymodel_id': baymodel['uuid'],
                       'status': 'CREATE_IN_PROGRESS', 'operation': 'create'},
                      f'ev-{i}', _book(bay_uuid)))
    bays = db.create_bays(items)
    assert [b['name'] for b in bays] == ['b0', 'b1', 'b2']   # in order
    assert all(b['version'] == 1 and b['id'] for b in bays)
    assert [db.get_event(f'ev-{i}')['bay_uuid'] for i in range(3)] == \
        [b['uuid'] for b in bays]
    assert _books(db) == {b['uuid']: [[{'bay': {'uuid': b['uuid']}}]] for b in bays}
    # All or nothing: one event seen before fails the whole batch.
    again = [({'name': 'b3', 'baymodel_id': baymodel['uuid'],
               'status': 'CREATE_IN_PROGRESS', 'operation': 'create'}, 'ev-3', None),
             ({'name': 'b4', 'baymodel_id': baymodel['uuid'],
               'status': 'CREATE_IN_PROGRESS', 'operation': 'create'}, 'ev-1', None)]
    with pytest.raises(sa.exc.IntegrityError):
        db.create_bays(again)
    assert len(db.list_bays()) == 3 and db.get_event('ev-3') is None
    with pytest.raises(exc.NotFound):
        db.create_bays([({'name': 'b5', 'baymodel_id': 'no-such-baymodel',
                          'status': 'CREATE_IN_PROGRESS', 'operation': 'create'},
                         'ev-5', None)])
    assert len(db.list_bays()) == 3 and db.get_event('ev-5') is None


def test_a_duplicate_create_event_leaves_no_flow_behind(db, baymodel):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    event_bay(db, baymodel, 'k8s', 'ev-once')
    db.create_bay({'uuid': first, 'name': 'a', 'baymodel_id': baymodel['uuid'],
                   'status': 'CREATE_IN_PROGRESS', 'operation': 'create'},
                  event_id='ev-flow', book=_book(first))
    with pytest.raises(exc.DuplicateEvent):
        db.create_bay({'uuid': second, 'name': 'b', 'baymodel_id': baymodel['uuid'],
                       'status': 'CREATE_IN_PROGRESS', 'operation': 'create'},
                      event_id='ev-flow', book=_book(second))
    assert list(_books(db)) == [first]


def test_one_event_applied_from_many_threads_takes_effect_once(db, baymodel):
    def create(i):
        try:
            return event_bay(db, baymodel, f'race-{i}', 'ev-race')
        except exc.DuplicateEvent:
            return 'duplicate'
    results = in_threads(6, create)
    assert sorted(r if r == 'duplicate' else 'bay' for r in results) == \
        ['bay'] + ['duplicate'] * 5
    assert len(db.list_bays()) == 1
