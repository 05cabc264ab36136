"""Fixtures for the daemon's tests: real ``bayflow daemon`` processes on RabbitMQ
and PostgreSQL, each test on its own RabbitMQ virtual host (so no test, and
no other user of this broker, sees another's messages) and its own database."""

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import kombu
import pytest
from cryptography.fernet import Fernet

from bayflow import config as conf
from bayflow.messaging import topology
from bayflow import validation
from bayflow.persistence import api, migration
from tests.conftest import REQUIRE_SERVICES, need_service
from tests.functional.engine.conftest import (  # noqa: F401 - fixtures
    CONFIG, engine_sim, make_cli, sim)

# The engine tests' BAYMODEL command, as values.
BAYMODEL_VALUES = {'name': 'k8sbaymodel', 'image_id': 'fedora-21-atomic-5',
                   'keypair_id': 'testkey', 'external_network_id': 'public',
                   'dns_nameserver': '8.8.8.8', 'flavor_id': 'm1.small',
                   'docker_volume_size': 5, 'network_driver': 'flannel',
                   'coe': 'kubernetes'}

DEADLINE = 20


def until(predicate, deadline=DEADLINE, what='the condition'):
    """Poll ``predicate`` until it returns something true; -> that value."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f'timed out after {deadline} s waiting for {what}')
        time.sleep(0.05)


def rabbitmqctl(*args):
    subprocess.run(['rabbitmqctl', '-q', *args], check=True, capture_output=True,
                   timeout=60)


@pytest.fixture(scope='session')
def session_vhost():
    """A RabbitMQ virtual host of these tests' own; -> its amqp:// URL."""
    need_service('RabbitMQ', '127.0.0.1', 5672)
    name = 'bayflow-test-' + uuid.uuid4().hex[:10]
    try:
        rabbitmqctl('add_vhost', name)
        rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*')
    except (OSError, subprocess.CalledProcessError) as exc:
        msg = f'cannot make a RabbitMQ virtual host with rabbitmqctl: {exc}'
        if REQUIRE_SERVICES:
            pytest.fail(msg)
        pytest.skip(msg)
    yield f'amqp://guest:guest@127.0.0.1:5672/{name}'
    rabbitmqctl('delete_vhost', name)


@pytest.fixture
def vhost(session_vhost):
    """The tests' virtual host, emptied of what an earlier test left (no other
    user of this broker, and no other test, sees these messages)."""
    with kombu.Connection(session_vhost, connect_timeout=5) as conn:
        for name in (topology.EVENTS_QUEUE, topology.DEAD_QUEUE, 'notifications.info',
                     'notifications.error', 'bayflow', f'bayflow.{socket.gethostname()}'):
            with conn.channel() as channel:
                try:
                    channel.queue_delete(name)
                except conn.channel_errors:
                    pass
    return session_vhost


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Daemon:
    """A ``bayflow daemon`` process, its broker and its health endpoint."""

    def __init__(self, cli, transport_url, port, db_url):
        self.cli, self.transport_url, self.port = cli, transport_url, port
        self.db = api.Database(db_url)
        self.proc = None
        self.seen = []

    def bay(self, name):
        """The bay named ``name`` as stored, or None."""
        found = self.db.list_bays(filters={'name': name})
        return found[0] if found else None

    def status(self, name):
        bay = self.bay(name)
        return bay and bay['status']

    def start(self, env=None):
        self.proc = self.cli.popen('-v', 'daemon', '--health-port', str(self.port), env=env)
        until(lambda: self.health()[0] == 200 or self.proc.poll() is not None,
              what='the daemon to consume')
        assert self.proc.poll() is None, self.output()
        return self

    def health(self):
        return self.get('/healthz')

    def metrics(self):
        """{name: value} of the unlabelled samples and source/task totals."""
        status, text = self.get('/metrics')
        assert status == 200, text
        values = {}
        for line in text.splitlines():
            if line and not line.startswith('#'):
                name, _, value = line.rpartition(' ')
                values[name] = float(value)
        return values

    def get(self, path):
        try:
            with urllib.request.urlopen(f'http://127.0.0.1:{self.port}{path}',
                                        timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError as e:
            return None, str(e)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc and self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError('the daemon did not stop in time\n' + self.output())

    def output(self):
        if self.proc.poll() is None:
            return '(still running)'
        return self.proc.stdout.read() + self.proc.stderr.read()

    # -- the broker -------------------------------------------------------------
    def connection(self):
        return kombu.Connection(self.transport_url, connect_timeout=5)

    def send(self, event_type, payload, event_id=None, raw=None):
        """Publish an event (or ``raw`` bytes, as a producer with a bug would)."""
        event = {'version': '1.0', 'id': event_id or str(uuid.uuid4()),
                 'type': event_type, 'context': {'request_id': 'req-test'},
                 'payload': payload}
        with self.connection() as conn:
            if raw is not None:
                conn.Producer().publish(
                    raw, exchange=topology.events_exchange(), routing_key=event_type,
                    content_type='application/json', content_encoding='utf-8',
                    declare=[topology.events_exchange(), topology.events_queue()])
            else:
                topology.publish_event(conn, event)
        return event['id']

    def notifications_seen(self):
        """All notifications read so far (reading consumes them from the queues)."""
        self.seen.extend(self.notifications())
        return self.seen

    def notifications(self):
        """[(event_type, outcome, bay uuid, request_id)] sent since the last look."""
        out = []
        with self.connection() as conn:
            for priority in ('info', 'error'):
                queue = topology.notification_queue(conf.CONF, f'notifications.{priority}')
                queue = queue(conn.default_channel)
                queue.declare()
                while (message := queue.get(no_ack=True)) is not None:
                    body = json.loads(message.body)
                    inner = json.loads(body['oslo.message'])
                    out.append((inner['timestamp'], inner['event_type'],
                                inner['payload']['outcome'],
                                inner['payload']['target']['id'],
                                inner.get('_context_request_id')))
        return [item[1:] for item in sorted(out)]

    def dead(self):
        """Everything in the dead-letter queue: [(body, reason)]."""
        out = []
        with self.connection() as conn:
            queue = topology.dead_queue()(conn.default_channel)
            queue.declare()
            while True:
                message = queue.get(no_ack=True)
                if message is None:
                    return out
                out.append((message.body, message.headers.get(topology.REASON_HEADER)))


def write_config(cli, transport_url, extra=''):
    """The daemon's config: PostgreSQL, ``transport_url``, fast engine settings."""
    (cli.home / 'bayflow.conf').write_text(CONFIG + f"""
[database]
connection = {cli.pg_url}
[messaging]
transport_url = {transport_url}
[certificates]
ca_key_encryption_key = {cli.key}
[daemon]
max_concurrent_flows = 4
flow_processes = 2
""" + extra)


@pytest.fixture
def daemon_env(sim, tmp_path, pg_url, vhost):
    """A user's environment for the daemon: PostgreSQL, its own vhost, the
    simulator, the engine tests' fast settings; the baymodel made."""
    cli = make_cli(sim, tmp_path)
    cli.key, cli.pg_url = Fernet.generate_key().decode(), pg_url
    write_config(cli, vhost)
    migration.upgrade(pg_url)  # what `bayflow db upgrade` and `baymodel-create` do,
    db = api.Database(pg_url)  # in this process (each command costs a second of CPU)
    try:
        db.create_baymodel(dict(validation.validate_baymodel(BAYMODEL_VALUES)[0],
                                cluster_distro='fedora-atomic'))
    finally:
        db.dispose()
    return cli


@pytest.fixture
def daemon(daemon_env, vhost, pg_url):
    d = Daemon(daemon_env, vhost, free_port(), pg_url)
    yield d
    d.stop(signal.SIGKILL)
    if d.proc is not None:
        print(d.output())  # shown when the test failed
    d.db.dispose()
