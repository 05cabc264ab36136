"""Bay events end to end: a real daemon on RabbitMQ and PostgreSQL, the simulator."""

import uuid as uuidlib

from tests.functional.daemon.conftest import until
from tests.functional.engine.conftest import lift_quotas, owned

CREATE = {'baymodel': 'k8sbaymodel', 'node_count': 1}


def _counted(daemon, name, value):
    until(lambda: daemon.metrics().get(name) == value, what=f'{name} == {value}')


def test_create_and_delete_by_event(daemon, sim):
    daemon.start(env={'PYTHONWARNINGS': ''})  # as a user's console shows them
    created = daemon.send('bay.create', dict(CREATE, name='ev1'))
    until(lambda: daemon.status('ev1') == 'CREATE_COMPLETE', what='CREATE_COMPLETE')
    bay = daemon.bay('ev1')
    assert len(owned(sim.resources(), bay['uuid'])['servers']) == 2
    deleted = daemon.send('bay.delete', {'bay': 'ev1'})
    until(lambda: daemon.status('ev1') is None, what='the bay gone')
    assert owned(sim.resources(), bay['uuid']) == {}
    _counted(daemon, 'bayflow_flows_completed_total', 2)
    metrics = daemon.metrics()
    assert metrics['bayflow_events_accepted_total'] == 2
    assert metrics['bayflow_events_consumed_total{source="events"}'] == 2
    assert metrics['bayflow_step_duration_seconds_count{task="create-network"}'] == 1
    assert metrics['bayflow_flows_running'] == 0
    uuid = bay['uuid']
    until(lambda: len(daemon.notifications_seen()) == 4, what='four notifications')
    assert daemon.seen == [
        ('bayflow.bay.create', 'pending', uuid, 'req-test'),
        ('bayflow.bay.create', 'success', uuid, 'req-test'),
        ('bayflow.bay.delete', 'pending', uuid, 'req-test'),
        ('bayflow.bay.delete', 'success', uuid, 'req-test')]
    for event_id, event_type in ((created, 'bay.create'), (deleted, 'bay.delete')):
        record = daemon.db.get_event(event_id)
        assert (record['event_type'], record['bay_uuid'], record['outcome']) == \
            (event_type, uuid, 'success')
    assert daemon.stop() == 0
    assert 'Warning' not in daemon.output()  # not the daemon's, nor its flow workers'


def test_duplicate_delivery_has_one_effect(daemon, sim):
    daemon.start()
    event_id = str(uuidlib.uuid4())
    for _ in range(3):  # two race in the ingest workers, one is seen as recorded
        daemon.send('bay.create', dict(CREATE, name='dup'), event_id=event_id)
    until(lambda: daemon.status('dup') == 'CREATE_COMPLETE', what='CREATE_COMPLETE')
    _counted(daemon, 'bayflow_events_duplicate_total', 2)
    daemon.send('bay.create', dict(CREATE, name='dup'), event_id=event_id)
    _counted(daemon, 'bayflow_events_duplicate_total', 3)
    assert len(daemon.db.list_bays()) == 1
    bay = daemon.bay('dup')
    assert len(owned(sim.resources(), bay['uuid'])['networks']) == 1
    assert daemon.metrics()['bayflow_events_accepted_total'] == 1
    assert daemon.dead() == []


def test_a_burst_of_creates_is_recorded_in_batches_and_every_bay_built(daemon, sim):
    """Published before the daemon starts, the burst arrives at once: workers
    take several messages each and record their creates together, a
    duplicate and a refused event among them settled one by one."""
    lift_quotas(sim.sim)
    names = [f'burst-{i}' for i in range(8)]
    ids = [daemon.send('bay.create', dict(CREATE, name=name)) for name in names]
    daemon.send('bay.create', dict(CREATE, name=names[3]), event_id=ids[3])
    daemon.send('bay.create', {'name': 'orphan', 'baymodel': 'no-such-baymodel'})
    daemon.start()
    _counted(daemon, 'bayflow_events_accepted_total', 8)
    _counted(daemon, 'bayflow_events_duplicate_total', 1)
    _counted(daemon, 'bayflow_events_rejected_total', 1)
    metrics = daemon.metrics()
    assert metrics['bayflow_ingest_batch_messages_sum'] == 10
    assert metrics['bayflow_ingest_batch_messages_count'] < 10   # some were taken together
    until(lambda: all(daemon.status(n) == 'CREATE_COMPLETE' for n in names),
          deadline=120, what='every bay of the burst CREATE_COMPLETE')
    assert sorted(b['name'] for b in daemon.db.list_bays()) == sorted(names)
    for name in names:
        assert len(owned(sim.resources(), daemon.bay(name)['uuid'])['servers']) == 2
    (reason,) = [reason for _, reason in daemon.dead()]
    assert reason.startswith("baymodel 'no-such-baymodel' not found"), reason


def test_poison_messages_are_dead_lettered_and_consuming_goes_on(daemon):
    daemon.start()
    daemon.send('bay.create', None, raw=b'{"version": "1.0", "id": ')
    daemon.send('bay.create', {'name': 'nobm'})                 # schema: no baymodel
    daemon.send('bay.frobnicate', {'bay': 'x'})                 # unknown type
    daemon.send('bay.create', {'baymodel': 'no-such-baymodel'})
    daemon.send('bay.delete', {'bay': 'no-such-bay'})
    daemon.send('bay.create', dict(CREATE, name='good'))
    until(lambda: daemon.status('good') == 'CREATE_COMPLETE', what='the good bay')
    _counted(daemon, 'bayflow_events_rejected_total', 5)
    reasons = [reason for _, reason in daemon.dead()]
    assert len(reasons) == 5, reasons
    # The ingest workers take messages in parallel: any order.
    for expected in ('not valid JSON', '$.payload.baymodel: missing',
                     'unknown event type "bay.frobnicate"',
                     "baymodel 'no-such-baymodel' not found", "bay 'no-such-bay' not found"):
        assert sum(expected in r for r in reasons) == 1, (expected, reasons)
    assert daemon.proc.poll() is None
    assert [b['name'] for b in daemon.db.list_bays()] == ['good']


def test_update_by_event_scales_the_nodes(daemon, sim):
    daemon.start()
    daemon.send('bay.create', dict(CREATE, name='up'))
    until(lambda: daemon.status('up') == 'CREATE_COMPLETE', what='CREATE_COMPLETE')
    daemon.send('bay.update', {'bay': 'up', 'node_count': 2})
    until(lambda: daemon.status('up') == 'UPDATE_COMPLETE', what='UPDATE_COMPLETE')
    bay = daemon.bay('up')
    assert bay['node_count'] == 2
    assert len(owned(sim.resources(), bay['uuid'])['servers']) == 3
    until(lambda: ('bayflow.bay.update', 'success', bay['uuid'], 'req-test')
          in daemon.notifications_seen(), what='the update success notification')
