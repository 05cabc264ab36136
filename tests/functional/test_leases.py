"""Bay leases on SQLite and PostgreSQL: each one conditional UPDATE, on the
database's clock, never stolen."""

import datetime
import uuid

import pytest

from bayflow import lifecycle
from bayflow.persistence import api
from bayflow.persistence import exceptions as exc
from bayflow.persistence import models
from tests.functional.test_persistence import around_now, in_threads, lapse, new_bay
from tests.functional.test_persistence import baymodel, db  # noqa: F401 (fixtures)
from tests.functional.test_persistence import module_db_url  # noqa: F401


@pytest.fixture
def bay(db, baymodel):
    return new_bay(db, baymodel)


def test_acquire_renew_release(db, bay):
    with around_now(db, 30) as expected:
        assert db.acquire_lease(bay['uuid'], 'host-a', 30) is True
    held = db.get_bay(bay['uuid'])
    assert (held['owner'], held['lease_operation']) == ('host-a', 'create')
    assert held['lease_expires_at'] in expected
    assert held['version'] == bay['version']          # not a content change
    assert held['updated_at'] == bay['updated_at']
    assert db.acquire_lease(bay['uuid'], 'host-b', 30) is False
    assert db.acquire_lease(bay['uuid'], 'host-a', 30) is True   # ours
    with around_now(db, 90) as expected:
        assert db.renew_lease(bay['uuid'], 'host-a', 90, 'create') is True
    assert db.get_bay(bay['uuid'])['lease_expires_at'] in expected
    assert db.release_lease(bay['uuid'], 'host-b') is False
    assert db.release_lease(bay['uuid'], 'host-a') is True
    freed = db.get_bay(bay['uuid'])
    assert (freed['owner'], freed['lease_expires_at'],
            freed['lease_operation']) == (None, None, None)
    assert db.acquire_lease(bay['uuid'], 'host-c', 30) is True   # free


def test_an_expired_lease_is_taken_over_and_its_renew_says_so(db, bay):
    assert db.acquire_lease(bay['uuid'], 'host-a', 30)
    lapse(db, bay['uuid'])                                   # host-a died
    with pytest.raises(exc.LeaseLost, match=r"'host-a' lost the lease of bay "
                                            r".*: expired at ") as err:
        db.renew_lease(bay['uuid'], 'host-a', 30, 'create')
    assert not err.value.cancelled
    assert db.acquire_lease(bay['uuid'], 'host-b', 30) is True
    with pytest.raises(exc.LeaseLost, match="taken by 'host-b'") as err:
        db.renew_lease(bay['uuid'], 'host-a', 30, 'create')
    assert (err.value.uuid, err.value.owner) == (bay['uuid'], 'host-a')
    assert db.renew_lease(bay['uuid'], 'host-b', 30, 'create') is True


def test_a_lease_of_zero_seconds_is_already_over(db, bay):
    assert db.acquire_lease(bay['uuid'], 'host-a', 0)
    with pytest.raises(exc.LeaseLost, match='expired at'):
        db.renew_lease(bay['uuid'], 'host-a', 30, 'create')
    assert db.acquire_lease(bay['uuid'], 'host-b', 30) is True


def test_hosts_clocks_do_not_count(db, bay, monkeypatch):
    """Host B's clock runs an hour ahead, host A's an hour behind: neither
    matters, the database's clock decides."""
    assert db.acquire_lease(bay['uuid'], 'host-a', 30)
    ahead = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    monkeypatch.setattr(models, 'utcnow', lambda: ahead)
    host_b = api.Database(db.url)
    try:
        assert host_b.acquire_lease(bay['uuid'], 'host-b', 30) is False
        assert db.renew_lease(bay['uuid'], 'host-a', 30, 'create') is True
    finally:
        host_b.dispose()
    assert db.get_bay(bay['uuid'])['owner'] == 'host-a'


def test_steal_from_a_holder_proved_dead(db, bay):
    assert db.acquire_lease(bay['uuid'], 'host-a/1', 30)
    assert db.acquire_lease(bay['uuid'], 'host-b/2', 30, steal_from='host-c/3') is False
    assert db.acquire_lease(bay['uuid'], 'host-b/2', 30, steal_from='host-a/1') is True
    assert db.get_bay(bay['uuid'])['owner'] == 'host-b/2'


def test_a_delete_request_cancels_the_running_flow_at_its_renew(db, bay):
    assert db.acquire_lease(bay['uuid'], 'host-a', 30)
    lifecycle.transition(db, bay['uuid'], 'delete')
    with pytest.raises(exc.LeaseLost) as err:
        db.renew_lease(bay['uuid'], 'host-a', 30, 'create')
    assert err.value.cancelled is True
    assert str(err.value) == (
        f"'host-a' lost the lease of bay {bay['uuid']}: bay now "
        f"DELETE_IN_PROGRESS because a delete was requested")
    # Its lease is still its own, for the create it is stopping.
    assert db.lease_of(bay['uuid']) == {
        'owner': 'host-a', 'lease_operation': 'create', 'live': True,
        'lease_expires_at': db.get_bay(bay['uuid'])['lease_expires_at'],
        'status': 'DELETE_IN_PROGRESS', 'operation': 'delete'}
    assert db.release_lease(bay['uuid'], 'host-a', operation='delete') is False
    assert db.release_lease(bay['uuid'], 'host-a', operation='create') is True


def test_renew_of_a_gone_bay_and_lease_calls_on_a_missing_bay(db, bay):
    assert db.acquire_lease(bay['uuid'], 'host-a', 30)
    db.release_lease(bay['uuid'], 'host-a')
    with pytest.raises(exc.LeaseLost, match='released; bay now CREATE_IN_PROGRESS'):
        db.renew_lease(bay['uuid'], 'host-a', 30, 'create')
    db.destroy_bay(bay['uuid'], bay['version'])
    with pytest.raises(exc.LeaseLost, match='bay gone') as err:
        db.renew_lease(bay['uuid'], 'host-a', 30, 'create')
    assert not err.value.cancelled
    missing = str(uuid.uuid4())
    with pytest.raises(exc.NotFound):
        db.acquire_lease(missing, 'host-a', 30)
    with pytest.raises(exc.NotFound):
        db.lease_of(missing)
    assert db.release_lease(missing, 'host-a') is False


def test_only_one_of_many_takes_a_free_lease(db, bay):
    results = in_threads(6, lambda i: db.acquire_lease(bay['uuid'], f'host-{i}', 30))
    assert sorted(results) == [False] * 5 + [True]
    winner = f'host-{results.index(True)}'
    assert db.get_bay(bay['uuid'])['owner'] == winner


def test_only_one_of_many_takes_over_an_expired_lease(db, bay):
    assert db.acquire_lease(bay['uuid'], 'dead', 30)
    lapse(db, bay['uuid'])
    results = in_threads(6, lambda i: db.acquire_lease(bay['uuid'], f'host-{i}', 30))
    assert sorted(results) == [False] * 5 + [True]
    winner = f'host-{results.index(True)}'
    renewed = []
    for i in range(6):
        try:
            renewed.append(db.renew_lease(bay['uuid'], f'host-{i}', 30, 'create'))
        except exc.LeaseLost:
            renewed.append(False)
    assert renewed == [f'host-{i}' == winner for i in range(6)]


def test_record_writes_of_a_flow_respect_the_lease(db, bay):
    assert db.acquire_lease(bay['uuid'], 'host-a', 30)
    with pytest.raises(exc.LeaseHeld, match="'host-a' is running its create flow"):
        db.update_bay(bay['uuid'], bay['version'], {'node_count': 5}, owner='host-b')
    new = db.update_bay(bay['uuid'], bay['version'], {'node_count': 5}, owner='host-a')
    assert (new['node_count'], new['version'], new['owner']) == (5, 2, 'host-a')
    lapse(db, bay['uuid'])
    new = db.update_bay(bay['uuid'], 2, {'node_count': 6}, owner='host-b')
    assert new['node_count'] == 6
    with pytest.raises(exc.InvalidValues, match='cannot write lease_operation'):
        db.update_bay(bay['uuid'], 3, {'lease_operation': 'delete'})


def test_a_cancelled_flow_cannot_write_its_records(db, bay):
    assert db.acquire_lease(bay['uuid'], 'host-a', 30)
    deleting = lifecycle.transition(db, bay['uuid'], 'delete')
    with pytest.raises(exc.LeaseLost, match='a delete was requested') as err:
        db.update_bay(bay['uuid'], deleting['version'], {'node_count': 5},
                      owner='host-a')
    assert err.value.cancelled
    assert db.get_bay(bay['uuid']) == deleting


def test_destroy_respects_the_lease(db, bay):
    assert db.acquire_lease(bay['uuid'], 'host-a', 30)
    with pytest.raises(exc.LeaseHeld):
        db.destroy_bay(bay['uuid'], bay['version'], owner='host-b')
    with pytest.raises(exc.LeaseHeld):
        db.destroy_bay(bay['uuid'], bay['version'])
    assert db.destroy_bay(bay['uuid'], bay['version'], owner='host-a')['uuid'] == bay['uuid']


def test_leased_create(db, baymodel):
    with around_now(db, 30) as expected:
        bay = db.create_bay({'baymodel_id': baymodel['uuid'], 'operation': 'create',
                             'status': 'CREATE_IN_PROGRESS'}, owner='host-a',
                            lease_seconds=30)
    assert (bay['owner'], bay['lease_operation']) == ('host-a', 'create')
    assert bay['lease_expires_at'] in expected
    assert db.get_bay(bay['uuid']) == bay
    with pytest.raises(exc.InvalidValues, match='cannot write owner'):
        db.create_bay({'baymodel_id': baymodel['uuid'], 'operation': 'create',
                       'status': 'CREATE_IN_PROGRESS', 'owner': 'host-a'})


def test_database_time_is_aware_utc(db):
    now = db.now()
    assert now.utcoffset() == datetime.timedelta(0)
    assert abs(now - datetime.datetime.now(datetime.timezone.utc)) < \
        datetime.timedelta(minutes=5)
