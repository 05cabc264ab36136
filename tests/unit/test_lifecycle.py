"""The lifecycle table, pair by pair, and the rules around it, on a fake db."""

import datetime

import pytest

from bayflow import exceptions
from bayflow import lifecycle
from bayflow.persistence import exceptions as db_exc

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 1, 1, tzinfo=UTC)

CIP, CC, CF = 'CREATE_IN_PROGRESS', 'CREATE_COMPLETE', 'CREATE_FAILED'
UIP, UC, UF = 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE', 'UPDATE_FAILED'
DIP, DC, DF = 'DELETE_IN_PROGRESS', 'DELETE_COMPLETE', 'DELETE_FAILED'
RIP, RC, RF = 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_COMPLETE', 'ROLLBACK_FAILED'

# (status, the operation it belongs to) -> {trigger: new status}; every
# trigger not listed must be refused. Written out by hand, not derived.
EXPECTED = {
    (None, None): {'create': CIP},
    (CIP, 'create'): {'create_complete': CC, 'fail': CF, 'rollback': RIP,
                      'delete': DIP, 'resume': CIP},
    (CC, 'create'): {'update': UIP, 'delete': DIP},
    (CF, 'create'): {'delete': DIP},
    (UIP, 'update'): {'update_complete': UC, 'fail': UF, 'rollback': RIP,
                      'delete': DIP, 'resume': UIP},
    (UC, 'update'): {'update': UIP, 'delete': DIP},
    (UF, 'update'): {'delete': DIP},
    (DIP, 'delete'): {'delete': DIP, 'delete_complete': DC, 'fail': DF,
                      'resume': DIP},
    (DC, 'delete'): {'delete': DIP},
    (DF, 'delete'): {'delete': DIP},
    (RIP, 'create'): {'rollback_complete': RC, 'rollback_failed': RF,
                      'fail': RF, 'delete': DIP, 'resume': RIP},
    (RIP, 'update'): {'rollback_complete': RC, 'rollback_failed': RF,
                      'fail': RF, 'delete': DIP, 'resume': RIP},
    # A rolled-back create holds nothing in the cloud: nothing to update.
    (RC, 'create'): {'delete': DIP},
    (RC, 'update'): {'update': UIP, 'delete': DIP},
    (RF, 'create'): {'delete': DIP},
    (RF, 'update'): {'delete': DIP},
}

PAIRS = [(status, op, trigger) for (status, op) in EXPECTED
         for trigger in lifecycle.TRIGGERS]


def test_the_table_covers_every_status():
    assert {s for s, _ in EXPECTED} - {None} == set(lifecycle.STATUSES)
    assert len(lifecycle.STATUSES) == 12


class FakeDb:
    """Just enough of persistence.api.Database: its version rule, and a
    record of what lifecycle asks of the lease (whose SQL conditions are
    tested on real databases in tests/functional/test_lifecycle_db.py)."""

    def __init__(self, refuse=None):
        self.rows, self.writes, self.leases = {}, 0, []
        self.refuse = refuse           # a persistence error set_status raises

    def create_bay(self, values, owner=None, lease_seconds=None, book=None):
        row = dict(values, version=1)
        row.setdefault('uuid', 'uuid-1')
        row.setdefault('name', 'k8s')
        row.setdefault('owner', None)
        row.setdefault('lease_expires_at', None)
        row.setdefault('lease_operation', None)
        if owner:
            row.update(self._taken(owner, lease_seconds, row['operation']))
        self.rows[row['uuid']] = row
        self.writes += 1
        return dict(row)

    @staticmethod
    def _taken(owner, seconds, operation):
        return {'owner': owner, 'lease_operation': operation,
                'lease_expires_at': T0 + datetime.timedelta(seconds=seconds)}

    def get_bay(self, ident):
        for row in self.rows.values():
            if ident in (row['uuid'], row['name']):
                return dict(row)
        raise db_exc.NotFound('bay', ident)

    def _check(self, uuid, version):
        if uuid not in self.rows:
            raise db_exc.NotFound('bay', uuid)
        if self.rows[uuid]['version'] != version:
            raise db_exc.StaleObject('bay', uuid, version,
                                     self.rows[uuid]['version'])
        if self.refuse:
            raise self.refuse

    def set_status(self, uuid, version, status, reason, operation, extra=None,
                   **lease):
        self._check(uuid, version)
        self.leases.append(lease)
        row = self.rows[uuid]
        row.update(extra or {}, status=status, status_reason=reason,
                   operation=operation, version=version + 1)
        if lease.get('lease') == 'take':
            row.update(self._taken(lease['owner'], lease['lease_seconds'], operation))
        elif lease.get('lease') == 'release':
            row.update(owner=None, lease_expires_at=None, lease_operation=None)
        self.writes += 1
        return dict(row)

    def destroy_bay(self, uuid, version, owner=None):
        self._check(uuid, version)
        self.leases.append({'owner': owner})
        self.writes += 1
        return self.rows.pop(uuid)


def bay_in(db, status, operation, **extra):
    return db.create_bay(dict(status=status, operation=operation,
                              status_reason='seeded', **extra))


@pytest.mark.parametrize('status,operation,trigger', PAIRS)
def test_next_status_follows_the_table(status, operation, trigger):
    expected = EXPECTED[(status, operation)].get(trigger)
    assert lifecycle.next_status(status, operation, trigger) == expected


@pytest.mark.parametrize('status,operation', list(EXPECTED))
def test_allowed_operations_follow_the_table(status, operation):
    assert (set(lifecycle.allowed_operations(status, operation))
            == set(EXPECTED[(status, operation)]))


@pytest.mark.parametrize('status,operation,trigger',
                         [p for p in PAIRS if p[0] is not None])
def test_transition_persists_or_refuses(status, operation, trigger):
    db = FakeDb()
    bay = bay_in(db, status, operation)
    expected = EXPECTED[(status, operation)].get(trigger)
    if expected is None:
        with pytest.raises(exceptions.OperationNotAllowed) as err:
            lifecycle.transition(db, bay, trigger, owner='me')
        assert db.rows['uuid-1'] == bay and db.writes == 1
        message = str(err.value)
        assert "'k8s'" in message and status in message
        return
    new = lifecycle.transition(db, bay, trigger, owner='me')
    assert new['status'] == expected
    assert new['version'] == 2
    wanted_op = {'create': 'create', 'update': 'update',
                 'delete': 'delete'}.get(trigger, operation)
    assert new['operation'] == wanted_op
    if expected == DC:
        assert 'uuid-1' not in db.rows
    else:
        assert db.rows['uuid-1']['status'] == expected


def test_start_create_inserts_create_in_progress():
    db = FakeDb()
    bay = lifecycle.start_create(db, {'name': 'k8s', 'baymodel_id': 'bm'})
    assert (bay['status'], bay['operation']) == (CIP, 'create')
    assert bay['status_reason'] == 'Bay CREATE started'
    assert bay['owner'] is None


def test_start_create_with_owner_takes_the_lease():
    db = FakeDb()
    bay = lifecycle.start_create(db, {'baymodel_id': 'bm'}, owner='host-a',
                                 lease_seconds=30)
    assert (bay['owner'], bay['lease_operation']) == ('host-a', 'create')
    assert bay['lease_expires_at'] == T0 + datetime.timedelta(seconds=30)


def test_update_after_rolled_back_create_says_why_and_suggests_delete():
    db = FakeDb()
    bay = bay_in(db, RC, 'create')
    with pytest.raises(exceptions.OperationNotAllowed) as err:
        lifecycle.transition(db, bay, 'update')
    message = str(err.value)
    assert 'rolled-back create' in message
    assert 'nothing of it exists in the cloud' in message
    assert 'delete it' in message


def test_update_refusal_names_operation_status_and_allowed_statuses():
    db = FakeDb()
    bay = bay_in(db, CIP, 'create')
    with pytest.raises(exceptions.OperationNotAllowed) as err:
        lifecycle.transition(db, 'k8s', 'update')
    assert str(err.value) == (
        f"cannot update bay 'k8s' (uuid-1): its status is {CIP}, and update "
        "is allowed only from CREATE_COMPLETE, UPDATE_COMPLETE or "
        "ROLLBACK_COMPLETE (of an update)")
    assert db.rows[bay['uuid']]['version'] == 1


def test_refusal_on_a_failed_bay_points_at_delete():
    db = FakeDb()
    bay = bay_in(db, CF, 'create')
    with pytest.raises(exceptions.OperationNotAllowed,
                       match='a failed bay can still be deleted'):
        lifecycle.transition(db, bay, 'update')


def test_resume_of_a_finished_bay_has_nothing_to_resume():
    db = FakeDb()
    bay = bay_in(db, CC, 'create')
    with pytest.raises(exceptions.OperationNotAllowed,
                       match='^nothing to resume: bay .* is CREATE_COMPLETE'):
        lifecycle.transition(db, bay, 'resume', owner='me')


def test_resume_needs_an_owner():
    db = FakeDb()
    bay = bay_in(db, CIP, 'create')
    with pytest.raises(exceptions.OperationNotAllowed, match='owner'):
        lifecycle.transition(db, bay, 'resume')


def test_resume_keeps_status_bumps_version_and_takes_the_lease():
    db = FakeDb()
    bay = bay_in(db, UIP, 'update', owner='dead-host',
                 lease_expires_at=T0 - datetime.timedelta(seconds=1))
    new = lifecycle.transition(db, bay, 'resume', owner='host-b',
                               lease_seconds=10, steal_from='dead-host')
    assert (new['status'], new['operation']) == (UIP, 'update')
    assert new['version'] == 2
    assert (new['owner'], new['lease_operation']) == ('host-b', 'update')
    assert new['status_reason'] == 'Bay UPDATE resumed by host-b'
    # One conditional write: in progress, same version, lease free (or
    # held by the process proved dead).
    assert db.leases == [dict(owner='host-b', lease='take', lease_seconds=10,
                              steal_from='dead-host', only_from=lifecycle.IN_PROGRESS)]


def held(holder='host-a', holder_operation='create', status=CIP, operation='create'):
    return db_exc.LeaseHeld('uuid-1', holder, holder_operation,
                            T0 + datetime.timedelta(seconds=5), status, operation)


LOST = db_exc.LeaseLost('uuid-1', 'host-a', 'bay now DELETE_IN_PROGRESS because a '
                        'delete was requested', cancelled=True)
UNTIL = '(lease until 2024-01-01T00:00:05+00:00)'


@pytest.mark.parametrize('refuse, status, trigger, owner, message', [
    (held(), CIP, 'resume', 'host-b',
     f"cannot resume bay 'k8s' (uuid-1): 'host-a' is running its create flow {UNTIL}; "
     f"resume it after that lease expires, or sooner if that process is known dead"),
    # What the holder really runs, even after a delete was requested.
    (held(status=DIP, operation='delete'), DIP, 'fail', 'host-b',
     f"cannot mark as failed bay 'k8s' (uuid-1): 'host-a' is running its create flow, "
     f"stopping for the requested delete {UNTIL}; only that process may move it until "
     f"its lease ends"),
    (held(holder_operation='delete', status=DIP, operation='delete'), DIP, 'delete',
     'host-b', f"bay 'k8s' (uuid-1) is already being deleted: 'host-a' is running its "
               f"delete flow {UNTIL}; bay-show tells when it is done"),
    (LOST, DIP, 'fail', 'host-a',
     "cannot mark as failed bay 'k8s' (uuid-1): 'host-a' no longer runs it (bay now "
     "DELETE_IN_PROGRESS because a delete was requested); its flow stops here"),
])
def test_lease_refusals_name_the_holder_and_what_it_runs(refuse, status, trigger, owner,
                                                          message):
    db = FakeDb(refuse=refuse)
    bay = bay_in(db, status, 'delete' if status == DIP else 'create')
    with pytest.raises(exceptions.OperationNotAllowed) as err:
        lifecycle.transition(db, bay, trigger, owner=owner)
    assert str(err.value) == message
    assert err.value.__cause__ is refuse
    assert db.rows['uuid-1'] == bay


@pytest.mark.parametrize('owner, lease', [(None, None), ('host-d', 'take')])
def test_delete_is_a_request_that_takes_only_a_free_lease(owner, lease):
    db = FakeDb()
    bay = bay_in(db, CIP, 'create', owner='host-a')
    lifecycle.transition(db, bay, 'delete', owner=owner, lease_seconds=9)
    assert db.leases == [dict(owner=owner, request=True, lease=lease, lease_seconds=9)]


def test_finishing_an_operation_frees_the_bay():
    db = FakeDb()
    bay = bay_in(db, CIP, 'create', owner='host-a',
                 lease_expires_at=T0 + datetime.timedelta(seconds=5))
    new = lifecycle.transition(db, bay, 'create_complete', owner='host-a')
    assert (new['owner'], new['lease_expires_at']) == (None, None)
    assert db.leases == [dict(owner='host-a', steal_from=None, lease='release')]


def test_moves_to_in_progress_take_the_lease_for_their_owner():
    db = FakeDb()
    bay = bay_in(db, CC, 'create')
    new = lifecycle.transition(db, bay, 'update', owner='host-a', lease_seconds=7)
    assert (new['owner'], new['lease_operation']) == ('host-a', 'update')
    new = lifecycle.transition(db, new, 'rollback')      # no owner: lease kept
    assert (new['owner'], db.leases[-1]) == ('host-a', {})


def test_extra_fields_are_written_with_the_status():
    db = FakeDb()
    bay = bay_in(db, CIP, 'create')
    new = lifecycle.transition(db, bay, 'create_complete',
                               extra={'api_address': 'https://10.0.0.5:6443'})
    assert new['api_address'] == 'https://10.0.0.5:6443'


def test_failure_reason_is_kept():
    db = FakeDb()
    bay = bay_in(db, CIP, 'create')
    new = lifecycle.transition(db, bay, 'fail',
                               reason='Resource CREATE failed: quota')
    assert new['status_reason'] == 'Resource CREATE failed: quota'


def test_stale_writer_gets_conflict_and_nothing_changes():
    db = FakeDb()
    bay = bay_in(db, CIP, 'create')
    lifecycle.transition(db, bay, 'create_complete')
    before = dict(db.rows['uuid-1'])
    with pytest.raises(exceptions.Conflict,
                       match='expected version 1, found 2'):
        lifecycle.transition(db, bay, 'fail')
    assert db.rows['uuid-1'] == before


def test_expected_version_is_checked_before_anything_is_written():
    db = FakeDb()
    bay_in(db, CIP, 'create')
    with pytest.raises(exceptions.Conflict, match='expected version 7'):
        lifecycle.transition(db, 'uuid-1', 'create_complete',
                             expected_version=7)
    assert db.writes == 1


def test_a_bay_deleted_meanwhile_is_a_conflict():
    db = FakeDb()
    bay = bay_in(db, DIP, 'delete')
    db.rows.clear()
    with pytest.raises(exceptions.Conflict, match='deleted by someone else'):
        lifecycle.transition(db, bay, 'fail')


def test_delete_complete_destroys_the_row_and_reports_delete_complete():
    db = FakeDb()
    bay = bay_in(db, DIP, 'delete')
    gone = lifecycle.transition(db, bay, 'delete_complete', owner='host-d')
    assert gone['status'] == DC
    assert gone['status_reason'] == 'Bay DELETE completed successfully'
    assert (gone['owner'], gone['lease_operation']) == (None, None)
    assert db.rows == {}
    assert db.leases == [{'owner': 'host-d'}]       # the lease holds there too


def test_unknown_trigger_is_a_programming_error():
    with pytest.raises(ValueError, match='unknown lifecycle trigger'):
        lifecycle.next_status(CC, 'create', 'scale')


def test_a_duplicate_event_is_reported_as_such_and_moves_nothing():
    db = FakeDb()
    bay = bay_in(db, CC, 'create')
    db.refuse = db_exc.DuplicateEvent('ev-1')   # the database found it recorded
    with pytest.raises(exceptions.DuplicateEvent) as caught:
        lifecycle.transition(db, bay, 'delete', event_id='ev-1')
    assert caught.value.event_id == 'ev-1'
    assert db.rows[bay['uuid']]['status'] == CC

