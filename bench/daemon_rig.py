"""What the daemon benchmarks share: PostgreSQL, a RabbitMQ virtual host, a
``bayflow daemon`` process on them and the simulator, and its /metrics.

Request loops are bounded: every wait polls with a deadline.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import bays  # noqa: F401 - sets sys.path and silences warnings first

import psutil  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from bayflow import validation  # noqa: E402
from bayflow.persistence import api, migration  # noqa: E402

PG = os.environ.get('BAYFLOW_BENCH_PG', 'postgresql+psycopg2://postgres@127.0.0.1:5432')
RABBIT = os.environ.get('BAYFLOW_BENCH_RABBIT', 'amqp://guest:guest@127.0.0.1:5672')
BAYMODEL = {'name': 'k8s', 'image_id': 'fedora-21-atomic-5', 'keypair_id': 'testkey',
            'external_network_id': 'public', 'dns_nameserver': '8.8.8.8',
            'flavor_id': 'm1.small', 'docker_volume_size': 5, 'network_driver': 'flannel',
            'coe': 'kubernetes'}
DEADLINE = 900


@contextlib.contextmanager
def database():
    name = 'bayflow_bench_' + uuid.uuid4().hex[:10]
    admin = sa.create_engine(PG + '/postgres', isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE {name}'))
    try:
        url = f'{PG}/{name}'
        migration.upgrade(url)
        db = api.Database(url)
        db.create_baymodel(dict(validation.validate_baymodel(BAYMODEL)[0],
                                cluster_distro='fedora-atomic'))
        db.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text('SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                                 'WHERE datname = :n AND pid <> pg_backend_pid()'), {'n': name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS {name}'))
        admin.dispose()


def _rabbitmqctl(*args):
    subprocess.run(['rabbitmqctl', '-q', *args], check=True, capture_output=True, timeout=60)


@contextlib.contextmanager
def vhost():
    """A virtual host of the bench's own (the broker's other users see nothing)."""
    if shutil.which('rabbitmqctl') is None:
        sys.exit('bench needs rabbitmqctl to make a RabbitMQ virtual host of its own')
    name = 'bayflow-bench-' + uuid.uuid4().hex[:10]
    _rabbitmqctl('add_vhost', name)
    try:
        _rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*')
        yield f'{RABBIT}/{name}'
    finally:
        _rabbitmqctl('delete_vhost', name)


class DaemonProcess:
    def __init__(self, sim, db_url, transport_url, max_flows, wait_interval=bays.POLL,
                 flow_processes=0):
        self.home = tempfile.mkdtemp(prefix='daemon-', dir=sim.home)
        self.config = os.path.join(self.home, 'bayflow.conf')
        with open(self.config, 'w') as out:
            out.write(f"""[cloud]
wait_interval = {wait_interval}
[database]
connection = {db_url}
[messaging]
transport_url = {transport_url}
[certificates]
ca_key_encryption_key = {Fernet.generate_key().decode()}
[daemon]
max_concurrent_flows = {max_flows}
flow_processes = {flow_processes}
""")
        self.port = _free_port()
        self.proc = None

    def start(self):
        env = dict(os.environ, BAYFLOW_HOME=self.home, PYTHONWARNINGS='ignore')
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'bayflow.cli.main', '--config-file', self.config,
             'daemon', '--health-port', str(self.port)],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.home, 'daemon.err'), 'w'))
        until(lambda: self.get('/healthz')[0] == 200, 'the daemon to consume')
        self.ps = psutil.Process(self.proc.pid)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cpu(self):
        """CPU seconds of the daemon and its flow workers."""
        return cpu_of(self.proc.pid)

    def metric(self, name):
        status, text = self.get('/metrics')
        for line in text.splitlines():
            if line.startswith(name + ' '):
                return float(line.rsplit(' ', 1)[1])
        return 0.0

    def get(self, path):
        if self.proc.poll() is not None:
            raise RuntimeError(f'the daemon exited ({self.proc.returncode}); see '
                               f'{self.home}/daemon.err')
        try:
            with urllib.request.urlopen(f'http://127.0.0.1:{self.port}{path}', timeout=5) as r:
                return r.status, r.read().decode()
        except OSError as e:
            return None, str(e)


def cpu_of(pid):
    """CPU seconds of process ``pid`` and its children."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def until(predicate, what, interval=0.05):
    deadline = time.monotonic() + DEADLINE
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f'gave up waiting for {what}')
        time.sleep(interval)


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
