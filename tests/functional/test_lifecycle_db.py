"""The lifecycle machine on a real database, SQLite and PostgreSQL."""

import threading
import time

import pytest

from bayflow import exceptions
from bayflow import lifecycle
from bayflow.persistence import exceptions as db_exc
from tests.functional.test_persistence import around_now, in_threads, lapse
from tests.functional.test_persistence import db  # noqa: F401 (fixtures)
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
    holder = winners[0]['owner']
    for loser in (r for r in results if not isinstance(r, dict)):
        # Stale, or (when the winner took the lease) refused naming it.
        assert isinstance(loser, exceptions.Conflict) or (
            isinstance(loser, exceptions.OperationNotAllowed)
            and f'{holder!r} is running its' in str(loser)), results
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


def test_resume_waits_for_a_live_lease_then_takes_over(db, bay):
    assert db.acquire_lease(bay['uuid'], 'host-a', 30)
    bay = db.get_bay(bay['uuid'])
    with pytest.raises(exceptions.OperationNotAllowed, match="'host-a'"):
        lifecycle.transition(db, bay, 'resume', owner='host-b')
    lapse(db, bay['uuid'])                               # host-a died
    with around_now(db, 30) as expected:
        resumed = lifecycle.transition(db, bay, 'resume', owner='host-b',
                                       lease_seconds=30)
    assert (resumed['status'], resumed['version']) == ('CREATE_IN_PROGRESS', 2)
    assert (resumed['owner'], resumed['lease_operation']) == ('host-b', 'create')
    assert resumed['lease_expires_at'] in expected
    with pytest.raises(db_exc.LeaseLost, match="taken by 'host-b'"):
        db.renew_lease(bay['uuid'], 'host-a', 30, 'create')
    assert db.acquire_lease(bay['uuid'], 'host-c', 30) is False
    done = lifecycle.transition(db, resumed, 'create_complete', owner='host-b')
    assert (done['owner'], done['lease_expires_at'], done['lease_operation']) == \
        (None, None, None)


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


# -- the lease holds under races (each test fails on the code before leases
#    were put in the WHERE of every status write) ------------------------------

@pytest.fixture
def running(db, baymodel):
    """A bay whose create flow runs in process 'host-a'."""
    return lifecycle.start_create(db, {'name': 'k8s', 'baymodel_id': baymodel['uuid']},
                                  owner='host-a', lease_seconds=30)


def test_resume_from_an_earlier_read_cannot_steal_a_lease_taken_since(db, bay):
    read_by_a = db.get_bay(bay['uuid'])
    assert db.acquire_lease(bay['uuid'], 'host-b', 30) is True
    with pytest.raises(exceptions.OperationNotAllowed) as err:
        lifecycle.transition(db, read_by_a, 'resume', owner='host-a')
    assert str(err.value).startswith(
        "cannot resume bay 'k8s' (%s): 'host-b' is running its create flow "
        "(lease until " % bay['uuid'])
    assert db.get_bay(bay['uuid'])['owner'] == 'host-b'
    assert db.renew_lease(bay['uuid'], 'host-b', 30, 'create') is True


@pytest.mark.parametrize('trigger, writer', [
    (trigger, writer) for trigger in ('create_complete', 'fail', 'rollback', 'resume')
    for writer in (None, 'host-c') if writer or trigger != 'resume'])
def test_status_writes_are_refused_while_another_process_runs_the_bay(
        db, running, trigger, writer):
    with pytest.raises(exceptions.OperationNotAllowed,
                       match="'host-a' is running its create flow"):
        lifecycle.transition(db, running, trigger, owner=writer)
    assert db.get_bay(running['uuid']) == running
    moved = lifecycle.transition(db, running, trigger, owner='host-a')
    assert moved['version'] == 2


def test_the_holder_wins_a_race_with_a_process_without_the_lease(db, running):
    results = in_threads(2, lambda i: lifecycle.transition(
        db, running, 'fail' if i else 'create_complete',
        owner='host-c' if i else 'host-a'))
    assert results[0]['status'] == 'CREATE_COMPLETE'
    assert isinstance(results[1], (exceptions.OperationNotAllowed, exceptions.Conflict))
    assert db.get_bay(running['uuid'])['status'] == 'CREATE_COMPLETE'


def test_delete_of_a_running_bay_hands_over_cleanly(db, running):
    uuid = running['uuid']
    deleting = lifecycle.transition(db, uuid, 'delete', owner='host-d')
    assert (deleting['status'], deleting['operation']) == ('DELETE_IN_PROGRESS', 'delete')
    # The create flow keeps its lease until it stops: nobody else runs yet.
    assert deleting['owner'] == 'host-a'
    assert deleting['lease_operation'] == 'create'
    assert db.acquire_lease(uuid, 'host-d', 30) is False
    with pytest.raises(exceptions.OperationNotAllowed) as err:
        lifecycle.transition(db, uuid, 'resume', owner='host-d')
    assert ("'host-a' is running its create flow, stopping for the requested delete"
            in str(err.value))
    # At its next step boundary the create flow learns why, and stops.
    with pytest.raises(db_exc.LeaseLost) as lost:
        db.renew_lease(uuid, 'host-a', 30, 'create')
    assert lost.value.cancelled
    assert 'bay now DELETE_IN_PROGRESS because a delete was requested' in str(lost.value)
    with pytest.raises(exceptions.OperationNotAllowed, match="'host-a' no longer runs it"):
        lifecycle.transition(db, uuid, 'fail', owner='host-a')
    assert db.release_lease(uuid, 'host-a') is True
    # The delete takes over.
    assert db.acquire_lease(uuid, 'host-d', 30) is True
    assert db.lease_of(uuid)['lease_operation'] == 'delete'
    assert db.renew_lease(uuid, 'host-d', 30, 'delete') is True
    with pytest.raises(exceptions.OperationNotAllowed,
                       match="'host-d' is running its delete flow"):
        lifecycle.transition(db, uuid, 'fail', owner='host-a')
    gone = lifecycle.transition(db, uuid, 'delete_complete', owner='host-d')
    assert gone['status'] == 'DELETE_COMPLETE' and db.list_bays() == []


def test_delete_hand_over_with_a_heartbeat_running(db, running):
    """The create flow heartbeats in its thread while a delete is asked for
    and its runner waits for the lease (both bounded by the lease)."""
    uuid = running['uuid']
    stopped = []
    beat = threading.Event()           # never set: its wait is the beat interval

    def heartbeat():
        while not beat.wait(0.01):
            try:
                db.renew_lease(uuid, 'host-a', 30, 'create')
            except db_exc.LeaseLost as e:
                stopped.append(e)
                db.release_lease(uuid, 'host-a', operation='create')
                return 'stopped'

    def delete_runner():
        lifecycle.transition(db, uuid, 'delete', owner='host-d')
        deadline = time.monotonic() + 30
        while not db.acquire_lease(uuid, 'host-d', 30):
            assert time.monotonic() < deadline, 'the create flow never let go'
            beat.wait(0.01)
        return 'running'

    assert in_threads(2, lambda i: delete_runner() if i else heartbeat()) == \
        ['stopped', 'running']
    assert stopped[0].cancelled
    lease = db.lease_of(uuid)
    assert (lease['owner'], lease['lease_operation'], lease['live']) == \
        ('host-d', 'delete', True)


def test_delete_of_an_idle_bay_takes_the_lease_at_once(db, bay):
    done = lifecycle.transition(db, bay, 'create_complete')
    deleting = lifecycle.transition(db, done, 'delete', owner='host-d')
    assert (deleting['owner'], deleting['lease_operation']) == ('host-d', 'delete')


def test_delete_takes_over_an_expired_lease_at_once(db, running):
    lapse(db, running['uuid'])
    deleting = lifecycle.transition(db, running, 'delete', owner='host-d')
    assert (deleting['owner'], deleting['lease_operation']) == ('host-d', 'delete')


def test_a_second_delete_while_one_runs_is_refused(db, bay):
    deleting = lifecycle.transition(db, bay, 'delete', owner='host-d')
    with pytest.raises(exceptions.OperationNotAllowed) as err:
        lifecycle.transition(db, deleting, 'delete', owner='host-e')
    assert str(err.value).startswith(
        f"bay 'k8s' ({bay['uuid']}) is already being deleted: 'host-d' is running "
        f"its delete flow (lease until ")
    assert db.get_bay(bay['uuid']) == deleting
    again = lifecycle.transition(db, deleting, 'delete', owner='host-d')
    assert (again['owner'], again['version']) == ('host-d', deleting['version'] + 1)


def test_resume_takes_over_from_a_holder_proved_dead(db, running):
    with pytest.raises(exceptions.OperationNotAllowed):
        lifecycle.transition(db, running, 'resume', owner='host-b', steal_from='host-x')
    resumed = lifecycle.transition(db, running, 'resume', owner='host-b',
                                   steal_from='host-a')
    assert (resumed['owner'], resumed['status_reason']) == \
        ('host-b', 'Bay CREATE resumed by host-b')


def test_one_process_running_create_then_delete_under_one_owner_name(db, running):
    """A daemon runs both flows under its one owner name: its delete waits
    for its own create flow to stop, like anyone else's would."""
    lifecycle.transition(db, running, 'delete')
    with pytest.raises(exceptions.OperationNotAllowed,
                       match="'host-a' is running its create flow, stopping for the "
                             "requested delete"):
        lifecycle.transition(db, running['uuid'], 'resume', owner='host-a')
    assert db.acquire_lease(running['uuid'], 'host-a', 30) is False
    with pytest.raises(db_exc.LeaseLost):
        db.renew_lease(running['uuid'], 'host-a', 30, 'create')
    assert db.release_lease(running['uuid'], 'host-a', operation='create')
    taken = lifecycle.transition(db, running['uuid'], 'resume', owner='host-a')
    assert (taken['owner'], taken['lease_operation']) == ('host-a', 'delete')
    assert db.release_lease(running['uuid'], 'host-a', operation='create') is False
