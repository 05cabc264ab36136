"""oslo.messaging's envelope, read and written by bayflow; notifications' payload and
their behaviour with no broker."""

import datetime
import json
import socket
import subprocess
import sys

import pytest

from bayflow.messaging import events, notifications, oslo_wire

BAY = {'uuid': '0b5dc9a2-4d6c-4bd0-9c5f-2f3f0c8c7a11', 'name': 'k8s',
       'trustee_password': 'not-for-the-bus'}


def cast(message, version='2.0'):
    """A cast's body as oslo.messaging's rabbit driver publishes it."""
    return json.dumps({'oslo.version': version, 'oslo.message': json.dumps(message)})


def test_bayflow_messaging_needs_neither_oslo_messaging_nor_eventlet():
    """Speaking the wire format ourselves keeps eventlet (and its warnings) away."""
    code = ('import sys; import bayflow.messaging.events, bayflow.messaging.topology, '
            'bayflow.messaging.oslo_wire, bayflow.messaging.notifications; '
            'print(sorted(m for m in sys.modules if m.split(".")[0] in '
            '("oslo_messaging", "eventlet")))')
    result = subprocess.run([sys.executable, '-W', 'error', '-c', code], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (result.stdout.strip(), result.stderr) == ('[]', '')


def test_decode_rpc_reads_method_args_context_and_unique_id():
    body = cast({'method': 'bay_delete', 'args': {'uuid': 'k8s'}, '_unique_id': 'f' * 32,
                 '_context_project_id': 'p1', '_context_request_id': 'req-1',
                 '_context_auth_token': 'SECRET', '_context_roles': ['admin']})
    for form in (body, body.encode(), json.loads(body)):
        method, kwargs, context, unique_id = oslo_wire.decode_rpc(form)
        assert (method, kwargs, unique_id) == ('bay_delete', {'uuid': 'k8s'}, 'f' * 32)
        assert context == {'project_id': 'p1', 'request_id': 'req-1', 'roles': ['admin']}


@pytest.mark.parametrize('body, field, words', [
    ('not json', '$', ['JSON']),
    (json.dumps({'method': 'bay_delete'}), '$["oslo.version"]', ['envelope']),
    (cast({'method': 'bay_delete'}, version='3.0'), '$["oslo.version"]', ['"3.0"']),
    (json.dumps({'oslo.version': '2.0', 'oslo.message': '{bad'}), '$["oslo.message"]',
     ['not valid JSON']),
    (cast({'args': {}}), '$.method', ['missing']),
    (cast({'method': 'bay_delete', 'args': [1]}), '$.args', ['object']),
    (cast({'method': 'bay_create', 'args': {}, '_msg_id': 'abc', '_reply_q': 'reply_x'}),
     '$._msg_id', ['"abc"', 'casts only']),
])
def test_a_bad_envelope_is_refused_naming_the_field(body, field, words):
    with pytest.raises(events.EventRefused) as info:
        oslo_wire.decode_rpc(body)
    assert info.value.field == field and info.value.reason.startswith(field)
    for word in words:
        assert word in info.value.reason


def test_encode_notification_is_oslo_messaging_v2():
    body = oslo_wire.encode_notification('bayflow.h1', 'bayflow.bay.create', 'info',
                                         {'a': 1}, {'project_id': 'p1', 'auth_token': 'X'})
    assert set(body) == {'oslo.version', 'oslo.message'} and body['oslo.version'] == '2.0'
    message = json.loads(body['oslo.message'])
    assert message['priority'] == 'INFO' and message['event_type'] == 'bayflow.bay.create'
    assert message['publisher_id'] == 'bayflow.h1' and message['payload'] == {'a': 1}
    assert message['_context_project_id'] == 'p1' and '_context_auth_token' not in message
    # oslo's str(timeutils.utcnow()): naive UTC, a space between date and time.
    stamp = datetime.datetime.strptime(message['timestamp'], '%Y-%m-%d %H:%M:%S.%f')
    assert abs(stamp - datetime.datetime.utcnow()) < datetime.timedelta(seconds=60)
    with pytest.raises(ValueError, match='priority'):
        oslo_wire.encode_notification('p', 'e', 'loud', {})


@pytest.mark.parametrize('outcome, priority', [
    ('pending', 'info'), ('success', 'info'), ('failure', 'error')])
def test_cadf_payload_and_priority(outcome, priority):
    payload = notifications.cadf_payload('delete', outcome, BAY,
                                         {'user_id': 'u1', 'project_id': 'p1'})
    assert notifications.priority_of(outcome) == priority
    assert payload['typeURI'] == 'http://schemas.dmtf.org/cloud/audit/1.0/event'
    assert (payload['eventType'], payload['action'], payload['outcome']) == \
        ('activity', 'delete', outcome)
    assert payload['initiator'] == {'typeURI': 'service/security/account/user', 'id': 'u1',
                                    'user_id': 'u1', 'project_id': 'p1'}
    for role in ('target', 'observer'):
        assert payload[role] == {'typeURI': 'service/bayflow/bay', 'id': BAY['uuid'],
                                 'name': 'k8s'}
    datetime.datetime.strptime(payload['eventTime'], '%Y-%m-%dT%H:%M:%S.%f+0000')
    assert 'not-for-the-bus' not in json.dumps(payload)


def _closed_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_notifier_never_raises_on_a_broker_error(conf, caplog):
    conf.set_override('transport_url', f'amqp://guest:pw@127.0.0.1:{_closed_port()}//',
                      'messaging')
    conf.set_override('host', 'h1')
    notifier = notifications.Notifier(conf)
    assert notifier.publisher_id == 'bayflow.h1'
    with caplog.at_level('WARNING'):
        notifier.notify('create', 'pending', BAY)
        notifier.notify('create', 'failure', BAY)   # reconnects, fails again, still quiet
    lines = [r for r in caplog.records if 'notification not sent' in r.getMessage()]
    assert len(lines) == 2, caplog.text
    assert 'bayflow.bay.create' in lines[0].getMessage()
    notifier.close()
    with pytest.raises(ValueError):
        notifier.notify('explode', 'pending', BAY)


def test_notifier_sends_nothing_on_the_embedded_transport(conf, bayflow_home):
    """Only oslo.messaging peers listen, over AMQP: no queue fills up in SQLite."""
    notifier = notifications.Notifier(conf)
    notifier.notify('create', 'pending', BAY)
    assert not (bayflow_home / 'events.sqlite').exists()
    notifier.close()
    assert notifier._conn is None
