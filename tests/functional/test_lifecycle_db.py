"""The lifecycle machine on a real database, SQLite and PostgreSQL."""

import datetime

import pytest

from bayflow import exceptions
from bayflow import lifecycle
from bayflow.persistence import exceptions as db_exc
from tests.functional.test_persistence import in_threads
from tests.functional.test_persistence import clock  # noqa: F401 (fixtures)
from tests.functional.test_persistence import db  # noqa: F401
from tests.functional.test_persistence import module_db_url  # noqa: F401


@pytest.fixture
def baymodel(db):
    return db.create_baymodel({'name': 'k8s-atomic', 'coe': 'kubernetes'})


@pytest.fixture
def bay(db, baymodel):
    return lifecycle.start_create(db, {'name': 'k8s', 'node_count': 1,
                                       'baymodel_id': baymodel['uuid']})


def test_create_update_delete_round_trip(db, bay):
    assert (bay['status'], bay['operation'], bay['version']) == \
        ('CREATE_IN_PROGRESS', 'create', 1)
    bay = lifecycle.transition(db, bay, 'create_complete', extra={
        'api_address': 'https://172.24.4.3:6443',
        'master_addresses': ['172.24.4.3']})
    assert bay['status'] == 'CREATE_COMPLETE'
    assert db.get_bay('k8s')['master_addresses'] == ['172.24.4.3']
    bay = lifecycle.transition(db, 'k8s', 'update')
    bay = db.update_bay(bay['uuid'], bay['version'], {'node_count': 3})
    bay = lifecycle.transition(db, bay, 'update_complete')
    assert (bay['status'], bay['operation'], bay['node_count']) == \
        ('UPDATE_COMPLETE', 'update', 3)
    bay = lifecycle.transition(db, bay, 'delete')
    assert (bay['status'], bay['operation']) == ('DELETE_IN_PROGRESS', 'delete')
    gone = lifecycle.transition(db, bay, 'delete_complete')
    assert gone['status'] == 'DELETE_COMPLETE'
    with pytest.raises(db_exc.NotFound):
        db.get_bay(bay['uuid'])


def test_second_writer_with_the_same_version_gets_conflict(db, bay):
    first = lifecycle.transition(db, bay, 'create_complete')
    with pytest.raises(exceptions.Conflict) as err:
        lifecycle.transition(db, bay, 'fail', reason='timeout')
    assert 'expected version 1, found 2' in str(err.value)
    assert db.get_bay(bay['uuid']) == first


def test_concurrent_writers_only_one_moves_the_bay(db, bay):
    triggers = ['create_complete', 'fail', 'rollback', 'delete', 'resume']
    results = in_threads(len(triggers), lambda i: lifecycle.transition(
        db, bay, triggers[i], owner=f'host-{i}'))
    winners = [r for r in results if isinstance(r, dict)]
    assert len(winners) == 1, results
    assert all(isinstance(r, exceptions.Conflict)
               for r in results if not isinstance(r, dict))
    stored = db.get_bay(bay['uuid'])
    assert stored == winners[0] and stored['version'] == 2


def test_delete_complete_is_version_checked(db, bay):
    deleting = lifecycle.transition(db, bay, 'delete')
    reissued = lifecycle.transition(db, deleting, 'delete')
    assert (reissued['status'], reissued['version']) == \
        ('DELETE_IN_PROGRESS', 3)
    with pytest.raises(exceptions.Conflict):
        lifecycle.transition(db, deleting, 'delete_complete')
    assert db.get_bay(bay['uuid']) == reissued
    lifecycle.transition(db, reissued, 'delete_complete')
    assert db.list_bays() == []


def test_rolled_back_create_cannot_be_updated_only_deleted(db, bay):
    bay = lifecycle.transition(db, bay, 'rollback', reason='Resource failed')
    assert (bay['status'], bay['operation']) == \
        ('ROLLBACK_IN_PROGRESS', 'create')
    bay = lifecycle.transition(db, bay, 'rollback_complete')
    with pytest.raises(exceptions.OperationNotAllowed,
                       match='rolled-back create'):
        lifecycle.transition(db, bay, 'update')
    assert db.get_bay(bay['uuid']) == bay
    bay = lifecycle.transition(db, bay, 'delete')
    assert (bay['status'], bay['operation']) == ('DELETE_IN_PROGRESS', 'delete')


def test_rolled_back_update_can_be_updated_again(db, bay):
    bay = lifecycle.transition(db, bay, 'create_complete')
    bay = lifecycle.transition(db, bay, 'update')
    bay = lifecycle.transition(db, bay, 'rollback')
    bay = lifecycle.transition(db, bay, 'rollback_complete')
    assert (bay['status'], bay['operation']) == ('ROLLBACK_COMPLETE', 'update')
    bay = lifecycle.transition(db, bay, 'update')
    assert bay['status'] == 'UPDATE_IN_PROGRESS'


def test_delete_while_creating(db, bay):
    bay = lifecycle.transition(db, bay, 'delete')
    assert (bay['status'], bay['operation']) == ('DELETE_IN_PROGRESS', 'delete')


def test_resume_waits_for_a_live_lease_then_takes_over(db, bay, clock):
    assert db.acquire_lease(bay['uuid'], 'host-a', 30)
    bay = db.get_bay(bay['uuid'])
    with pytest.raises(exceptions.OperationNotAllowed, match="'host-a'"):
        lifecycle.transition(db, bay, 'resume', owner='host-b')
    clock.advance(31)                                # host-a died
    resumed = lifecycle.transition(db, bay, 'resume', owner='host-b',
                                   lease_seconds=30)
    assert (resumed['status'], resumed['version']) == ('CREATE_IN_PROGRESS', 2)
    assert resumed['owner'] == 'host-b'
    assert resumed['lease_expires_at'] == clock() + datetime.timedelta(
        seconds=30)
    assert db.renew_lease(bay['uuid'], 'host-a', 30) is False
    assert db.acquire_lease(bay['uuid'], 'host-c', 30) is False
    done = lifecycle.transition(db, resumed, 'create_complete')
    assert (done['owner'], done['lease_expires_at']) == (None, None)


def test_start_create_with_an_unknown_baymodel_writes_nothing(db):
    with pytest.raises(db_exc.NotFound, match='baymodel'):
        lifecycle.start_create(db, {'name': 'k8s',
                                    'baymodel_id': 'no-such-baymodel'})
    assert db.list_bays() == []


def test_status_moves_only_through_the_machine(db, bay):
    with pytest.raises(db_exc.InvalidValues, match='bayflow.lifecycle'):
        db.update_bay(bay['uuid'], bay['version'],
                      {'status': 'CREATE_COMPLETE'})
    assert db.get_bay(bay['uuid']) == bay
