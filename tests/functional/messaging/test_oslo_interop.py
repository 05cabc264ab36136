"""A service using the real oslo.messaging, unchanged, drives bayflow and hears from it.

RPC in: oslo.messaging casts Magnum's bay_create/bay_update/bay_delete to exchange
bayflow; bayflow's kombu queues (declared as an oslo.messaging RPC server declares
them) receive them, and decode_rpc + from_rpc make the same events a publisher sends.
Notifications out: bayflow's Notifier publishes, an oslo.messaging notification
listener receives. oslo.messaging runs on the global cfg.CONF (a fresh ConfigOpts
lacks its tracing options); bayflow's own options live on a ConfigOpts of their own.
Each test uses topics of its own, so nothing crosses between tests or engineers.
"""

import json
import socket
import uuid

import kombu
import pytest
from oslo_config import cfg

from bayflow.messaging import events, notifications, oslo_wire, topology
from tests.functional.messaging.helpers import wait_for

pytestmark = [pytest.mark.filterwarnings(r'ignore:\s*Eventlet is deprecated'),
              pytest.mark.filterwarnings('ignore::DeprecationWarning')]

OSLO_URL = 'rabbit://guest:guest@127.0.0.1:5672/'
BAY = {'uuid': '0b5dc9a2-4d6c-4bd0-9c5f-2f3f0c8c7a11', 'name': 'k8s',
       'trustee_password': 'not-for-the-bus'}
CONTEXT = {'project_id': 'p1', 'user_id': 'u1', 'request_id': 'req-1',
           'auth_token': 'SECRET-TOKEN'}


def drain_until(conn, done, timeout=20):
    """Deliver messages to the consumers on ``conn`` until ``done()`` or the deadline."""
    def step():
        try:
            conn.drain_events(timeout=0.2)
        except socket.timeout:
            pass
        return done()
    return wait_for(step, timeout=timeout, interval=0)


def delete_queues(url, names):
    with kombu.Connection(url) as conn:
        for name in names:
            kombu.Queue(name).bind(conn.channel()).delete()


def test_oslo_casts_arrive_as_events(oslo_messaging, conf, rabbit_url):
    om = oslo_messaging
    topic = 'bftest_rpc_' + uuid.uuid4().hex[:8]
    conf.set_override('topic', topic, 'messaging')
    assert conf.messaging.exchange == 'bayflow'
    ours = topology.rpc_queues(conf, 'bayflow-1')
    transport = om.get_rpc_transport(cfg.CONF, url=OSLO_URL)
    received = []

    def on_message(message):
        received.append(message)
        if len(received) == 1 and message.delivery_info['routing_key'] == topic:
            message.requeue()    # the broker delivers it again: the same event
        else:
            message.ack()

    try:
        # A real oslo.messaging RPC server declares its queues first; ours must match
        # them exactly, or RabbitMQ refuses the redeclaration (PRECONDITION_FAILED).
        server = om.get_rpc_server(
            transport, om.Target(exchange='bayflow', topic=topic, server='oslo-server'),
            [_Endpoint()], executor='threading')
        server.start()
        server.stop()
        server.wait()
        with kombu.Connection(rabbit_url) as conn:
            kombu.Queue(f'{topic}.oslo-server').bind(conn.channel()).queue_declare(passive=True)
            with kombu.Consumer(conn.channel(), queues=ours, on_message=on_message):
                client = om.get_rpc_client(transport, om.Target(exchange='bayflow', topic=topic))
                client.cast(CONTEXT, 'bay_create', bay={
                    'name': 'k8s', 'baymodel_id': 'k8s-model', 'node_count': 2,
                    'master_count': 1, 'discovery_url': None, 'uuid': None},
                    bay_create_timeout=30)
                client.prepare(server='bayflow-1').cast(
                    CONTEXT, 'bay_update', bay=dict(BAY, node_count=3))
                client.prepare(fanout=True).cast(CONTEXT, 'bay_delete', uuid=BAY['uuid'])
                assert drain_until(conn, lambda: len(received) >= 4), \
                    [m.delivery_info for m in received]
    finally:
        transport.cleanup()
        delete_queues(rabbit_url, [topic, f'{topic}.oslo-server'] + [q.name for q in ours])

    by_queue = {}
    for message in received:
        method, kwargs, context, unique_id = oslo_wire.decode_rpc(message.body)
        event = events.from_rpc(method, kwargs, context, unique_id)
        assert 'SECRET-TOKEN' not in json.dumps([context, event])
        assert event['context'] == {'project_id': 'p1', 'user_id': 'u1', 'request_id': 'req-1'}
        by_queue.setdefault((message.delivery_info['exchange'],
                             message.delivery_info['routing_key']), []).append(event)
    (create, redelivered) = by_queue.pop(('bayflow', topic))
    assert create == redelivered     # same _unique_id, same event id
    assert (create['type'], create['payload']) == ('bay.create', {
        'name': 'k8s', 'baymodel': 'k8s-model', 'node_count': 2, 'master_count': 1,
        'create_timeout': 30})
    (update,) = by_queue.pop(('bayflow', f'{topic}.bayflow-1'))
    assert (update['type'], update['payload']) == ('bay.update',
                                                   {'bay': BAY['uuid'], 'node_count': 3})
    (delete,) = by_queue.pop((f'{topic}_fanout', ''))   # oslo fans out with no routing key
    assert (delete['type'], delete['payload']) == ('bay.delete', {'bay': BAY['uuid']})
    assert not by_queue


class _Endpoint:
    def bay_delete(self, ctxt, uuid):   # never called: the server stops at once
        raise AssertionError('the oslo server was not meant to consume')


def test_notifications_reach_an_oslo_listener(oslo_messaging, conf, rabbit_url):
    om = oslo_messaging
    topic = 'bftest_notify_' + uuid.uuid4().hex[:8]
    conf.set_override('transport_url', rabbit_url, 'messaging')
    conf.set_override('notification_topics', [topic], 'messaging')
    conf.set_override('host', 'node-7')
    notifier = notifications.Notifier(conf)
    got = []

    class Endpoint:
        def info(self, ctxt, publisher_id, event_type, payload, metadata):
            got.append(('info', ctxt, publisher_id, event_type, payload))

        def error(self, ctxt, publisher_id, event_type, payload, metadata):
            got.append(('error', ctxt, publisher_id, event_type, payload))

    transport = om.get_notification_transport(cfg.CONF, url=OSLO_URL)
    listener = om.get_notification_listener(
        transport, [om.Target(exchange='bayflow', topic=topic)], [Endpoint()],
        executor='threading')
    try:
        # Before any listener: it waits in the queue oslo's own notifier declares.
        notifier.notify('create', 'pending', BAY, CONTEXT)
        listener.start()
        notifier.notify('create', 'success', BAY, CONTEXT)
        notifier.notify('delete', 'failure', BAY, CONTEXT)
        assert wait_for(lambda: len(got) >= 3), got
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()
        notifier.close()
        delete_queues(rabbit_url, [f'{topic}.info', f'{topic}.error'])

    assert 'SECRET-TOKEN' not in repr(got) and 'not-for-the-bus' not in repr(got)
    seen = sorted((p['eventTime'], prio, etype, p['action'], p['outcome'])
                  for prio, _, _, etype, p in got)
    assert [s[1:] for s in seen] == [
        ('info', 'bayflow.bay.create', 'create', 'pending'),
        ('info', 'bayflow.bay.create', 'create', 'success'),
        ('error', 'bayflow.bay.delete', 'delete', 'failure')]
    for _, ctxt, publisher_id, _, payload in got:
        assert publisher_id == 'bayflow.node-7'
        assert ctxt['project_id'] == 'p1' and ctxt['request_id'] == 'req-1'
        assert payload['typeURI'] == 'http://schemas.dmtf.org/cloud/audit/1.0/event'
        assert payload['eventType'] == 'activity'
        assert payload['initiator']['user_id'] == 'u1'
        assert payload['initiator']['project_id'] == 'p1'
        assert payload['target'] == {'typeURI': 'service/bayflow/bay', 'id': BAY['uuid'],
                                     'name': 'k8s'}
        assert payload['observer']['typeURI'] == 'service/bayflow/bay'
