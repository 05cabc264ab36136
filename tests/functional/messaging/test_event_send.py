"""``bayflow event-send`` publishes one event: to RabbitMQ, and to the embedded SQLite
transport with no server at all; bad input is one ERROR line and publishes nothing."""

import json
import socket
import uuid

import amqp.exceptions
import kombu
import pytest

from bayflow.messaging import events, topology
from tests.functional.messaging.helpers import run_bayflow, wait_for

# kombu's SQL transport uses a loader strategy SQLAlchemy 2.1 deprecates: not ours.
pytestmark = pytest.mark.filterwarnings('ignore:The ``noload`` loader strategy')

CREATE = {'name': 'k8s', 'baymodel': 'k8s-model', 'node_count': 2}


def one_error_line(result):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert lines[0].startswith('ERROR: ') and 'Traceback' not in result.stderr
    return lines[0]


def sent_id(result):
    assert result.returncode == 0, result.stderr
    assert result.stderr == ''     # no warnings either (eventlet, deprecations)
    return str(uuid.UUID(result.stdout.strip()))


def take(conn, queue, timeout=10):
    """The next message on ``queue``, undecoded (a poison body must not raise here)."""
    bound = queue.bind(conn.default_channel)
    return wait_for(lambda: bound.get(no_ack=True), timeout=timeout)


def write_config(path, url):
    path.write_text(f'[messaging]\ntransport_url = {url}\n')
    return path


# -- embedded: kombu's SQLAlchemy transport on SQLite, no server --------------------

def test_embedded_send_needs_no_server(bayflow_home):
    result = run_bayflow(bayflow_home, 'event-send', 'bay.create', '--payload',
                         json.dumps(CREATE), '--project-id', 'p1', '--request-id', 'req-9')
    event_id = sent_id(result)
    assert (bayflow_home / 'events.sqlite').exists()
    with kombu.Connection(f'sqla+sqlite:///{bayflow_home}/events.sqlite') as conn:
        message = take(conn, topology.events_queue())
        assert message is not None, 'nothing reached the bayflow.events queue'
        assert message.delivery_info['routing_key'] == 'bay.create'
        sent = events.parse(message.body)
        assert sent['id'] == event_id and sent['type'] == 'bay.create'
        assert sent['payload'] == CREATE
        assert sent['context'] == {'project_id': 'p1', 'user_id': None, 'request_id': 'req-9'}
        assert topology.events_queue().bind(conn.default_channel).get() is None


@pytest.mark.parametrize('args, words, code', [
    (['bay.create', '--payload', '{"baymodel": '], ['--payload', 'not valid JSON'], 2),
    (['bay.create', '--payload', '{"baymodel": "m", "node_count": 0}'],
     ['$.payload.node_count', '0', '>= 1'], 2),
    (['bay.explode', '--payload', '{}'], ['$.type', 'bay.explode', 'bay.delete'], 2),
    (['bay.delete'], ['--payload'], 2),
])
def test_bad_input_is_one_error_line_and_nothing_is_sent(bayflow_home, args, words, code):
    result = run_bayflow(bayflow_home, 'event-send', *args)
    line = one_error_line(result)
    assert result.returncode == code
    for word in words:
        assert word in line
    assert not (bayflow_home / 'events.sqlite').exists()


def test_an_unreachable_broker_is_one_error_line_without_the_password(bayflow_home, tmp_path):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    conf = write_config(tmp_path / 'down.conf', f'amqp://guest:s3cret@127.0.0.1:{port}//')
    result = run_bayflow(bayflow_home, 'event-send', 'bay.delete', '--payload',
                         '{"bay": "k8s"}', config_file=conf)
    line = one_error_line(result)
    assert result.returncode == 1
    assert f'127.0.0.1:{port}' in line and 's3cret' not in result.stderr


# -- RabbitMQ ---------------------------------------------------------------------

def test_rabbitmq_send_lands_persistent_on_the_durable_topology(
        bayflow_home, tmp_path, rabbit_vhost_url):
    conf = write_config(tmp_path / 'rabbit.conf', rabbit_vhost_url)
    with kombu.Connection(rabbit_vhost_url) as conn:
        # A queue of this test's own on the same binding: it sees every copy even if
        # another consumer shares the vhost (no rabbitmqctl).
        mine = kombu.Queue('bftest-' + uuid.uuid4().hex[:8], topology.events_exchange(),
                           routing_key=topology.EVENTS_BINDING, exclusive=True)
        mine.bind(conn.default_channel).declare()
        event_id = str(uuid.uuid4())
        for _ in range(2):   # one id sent twice: both go out; the daemon acts once
            sent_id(run_bayflow(bayflow_home, 'event-send', 'bay.delete', '--payload',
                                '{"bay": "k8s"}', '--id', event_id, '--user-id', 'u1',
                                config_file=conf))
        got = [take(conn, mine), take(conn, mine)]
        assert all(m is not None for m in got), 'the event did not reach the exchange'
        for message in got:
            assert message.properties['delivery_mode'] == 2
            assert message.content_type == 'application/json'
            assert message.delivery_info['routing_key'] == 'bay.delete'
            sent = events.parse(message.body)
            assert (sent['id'], sent['context']['user_id']) == (event_id, 'u1')
        _assert_declared_durable(conn)


def _assert_declared_durable(conn):
    """The broker holds bayflow.events (durable topic) and both durable queues:
    a passive declaration finds them, a non-durable one is refused."""
    channel = conn.channel()
    for queue in (topology.events_queue(), topology.dead_queue()):
        queue.bind(channel).queue_declare(passive=True)
    topology.events_exchange().bind(channel).declare(passive=True)
    with pytest.raises(amqp.exceptions.PreconditionFailed):
        kombu.Exchange(topology.EVENTS_EXCHANGE, 'topic', durable=False).bind(
            conn.channel()).declare()
    with pytest.raises(amqp.exceptions.PreconditionFailed):
        kombu.Queue(topology.EVENTS_QUEUE, durable=False).bind(conn.channel()).declare()


# -- the dead-letter queue, on both transports --------------------------------------

@pytest.mark.parametrize('transport', ['embedded', 'rabbitmq'])
def test_dead_letter_keeps_the_body_and_names_the_reason(transport, request, conf):
    if transport == 'rabbitmq':
        conf.set_override('transport_url', request.getfixturevalue('rabbit_vhost_url'),
                          'messaging')
    poison = b'{"version": "1.0", "id": '
    marker = uuid.uuid4().hex
    with topology.connection(conf) as conn:
        topology.dead_letter(conn, poison, {'x-test': marker},
                             '$: the body is not valid JSON\n(line 1)', routing_key='bay.create',
                             content_type='application/json')

        def mine():
            message = take(conn, topology.dead_queue(), timeout=0.5)
            return message if message is None or message.headers.get('x-test') == marker \
                else mine()
        message = wait_for(mine, timeout=10)
    assert message is not None, 'nothing reached bayflow.events.dead'
    # py-amqp hands a utf-8 body over as text, the SQL transport as bytes.
    assert (message.body if isinstance(message.body, bytes) else message.body.encode()) == poison
    assert message.headers[topology.REASON_HEADER] == '$: the body is not valid JSON (line 1)'
    assert message.headers[topology.ROUTING_KEY_HEADER] == 'bay.create'
    assert message.properties['delivery_mode'] == 2
