"""Baymodel updates racing each other and bay inserts, on SQLite and PostgreSQL.

Each interleaving is forced (a call held at a chosen point, a transaction
held open before its commit), not left to the scheduler.
"""

import threading
import time

import pytest
import sqlalchemy as sa
from oslo_config import cfg

from bayflow import config, exceptions, service, validation
from bayflow.persistence import exceptions as db_exc
from tests.functional.test_persistence import module_db_url  # noqa: F401 (fixture)
from tests.functional.test_persistence import clean_database

BASE = {'name': 'k8s', 'coe': 'kubernetes', 'image_id': 'fedora-23-atomic',
        'keypair_id': 'testkey', 'external_network_id': 'public'}
WAIT = 30


@pytest.fixture
def db(module_db_url):
    with clean_database(module_db_url) as database:
        yield database


@pytest.fixture
def services(module_db_url, db, cloud_env):
    """A factory of Services, each its own process-like engine on the db."""
    made = []

    def make():
        conf = cfg.ConfigOpts()
        config.register_opts(conf)
        conf.set_override('connection', module_db_url, group='database')
        made.append(service.Service(conf))
        made[-1].db  # connect and check the schema before any hook is set
        return made[-1]
    yield make
    for svc in made:
        svc.close()


def in_thread(target):
    box = {}

    def run():
        try:
            box['result'] = target()
        except Exception as e:  # collected for the assertion
            box['result'] = e
    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f'{what} did not happen'
        time.sleep(0.01)


def pause_first_call(obj, name, reached, release):
    """``obj.name``'s first call waits for ``release`` before it runs."""
    real = getattr(obj, name)
    calls = []

    def paused(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            reached.set()
            assert release.wait(WAIT)
        return real(*args, **kwargs)
    setattr(obj, name, paused)


def interleaved(services, first, second):
    """A reads the baymodel and checks ``first`` on it; before A writes, B
    applies ``second``. -> (what A's update returned or raised, the row)."""
    a, b = services(), services()
    a.create_baymodel(BASE)
    a_validated, b_done = threading.Event(), threading.Event()
    pause_first_call(a.db, 'update_baymodel', a_validated, b_done)
    thread, box = in_thread(lambda: a.update_baymodel('k8s', [first]))
    assert a_validated.wait(WAIT)
    b.update_baymodel('k8s', [second])
    b_done.set()
    thread.join(WAIT)
    return box['result'], b.get_baymodel('k8s')


def test_interleaved_valid_updates_cannot_store_an_invalid_baymodel(services):
    """Each update alone is valid; swarm with calico must never be stored."""
    result, stored = interleaved(services, ('replace', '/network_driver', 'calico'),
                                 ('replace', '/coe', 'swarm'))
    assert (stored['coe'], stored['network_driver']) == ('swarm', 'flannel')
    validation.validate_baymodel({k: stored[k] for k in validation.baymodel.ATTRIBUTES})
    # A's update was applied again to the new row, and refused there.
    assert isinstance(result, exceptions.InvalidParameter), result
    assert 'calico' in str(result) and 'swarm' in str(result)


def test_update_retries_on_a_newer_row_when_still_valid(services):
    (record, _), stored = interleaved(services, ('replace', '/docker_volume_size', '10'),
                                      ('replace', '/network_driver', 'calico'))
    assert (record['docker_volume_size'], record['network_driver'], record['version']) == \
        (10, 'calico', 3)
    assert stored == record


def _lock_waiters(db):
    with db.engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar()


def test_baymodel_update_waits_for_a_bay_insert_in_flight(db, services):
    """A bay insert for the baymodel is not committed yet when the update
    checks "no bay uses it": the update must see it, not pass."""
    inserter, updater = services(), services()
    baymodel, _ = inserter.create_baymodel(BASE)
    inserted, release = threading.Event(), threading.Event()

    @sa.event.listens_for(inserter.db.engine, 'commit')
    def hold_the_insert_open(conn):
        inserted.set()
        assert release.wait(WAIT)

    insert, bay = in_thread(lambda: inserter.db.create_bay(
        {'name': 'k8s-bay', 'baymodel_id': baymodel['uuid'],
         'status': 'CREATE_IN_PROGRESS', 'operation': 'create'}))
    assert inserted.wait(WAIT)
    waiting = threading.Event()
    sa.event.listen(updater.db.engine, 'checkout', lambda *args: waiting.set())
    update, box = in_thread(lambda: updater.update_baymodel(
        'k8s', [('replace', '/coe', 'swarm')]))
    if db.engine.dialect.name == 'postgresql':
        wait_until(lambda: not update.is_alive() or _lock_waiters(db),
                   'the update finishing or waiting for the insert')
    else:   # SQLite: any transaction waits for the open writer at BEGIN IMMEDIATE
        wait_until(lambda: not update.is_alive() or waiting.is_set(), 'a connection')
    release.set()
    insert.join(WAIT)
    update.join(WAIT)
    assert bay['result']['baymodel_id'] == baymodel['uuid']
    assert isinstance(box['result'], db_exc.InUse), box
    assert bay['result']['uuid'] in str(box['result'])
    assert updater.get_baymodel('k8s')['coe'] == 'kubernetes'
