"""Shared fixtures: real services on this machine, throwaway databases.

Tests that need PostgreSQL, RabbitMQ or Redis use the real servers. On a
machine without them they skip with the reason; with
``BAYFLOW_REQUIRE_SERVICES=1`` (CI) a missing service fails the test instead.
"""

import os
import socket
import uuid

import pytest

REQUIRE_SERVICES = os.environ.get('BAYFLOW_REQUIRE_SERVICES') == '1'
PG_URL = os.environ.get('BAYFLOW_TEST_PG', 'postgresql+psycopg2://postgres@127.0.0.1:5432')
RABBIT_URL = os.environ.get('BAYFLOW_TEST_RABBIT', 'amqp://guest:guest@127.0.0.1:5672//')
REDIS_HOST, REDIS_PORT = '127.0.0.1', 6379


def _reachable(host, port):
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def need_service(name, host, port):
    """Skip (or, in CI, fail) when a real service is not listening."""
    if _reachable(host, port):
        return
    msg = f'{name} is not reachable at {host}:{port}'
    if REQUIRE_SERVICES:
        pytest.fail(msg + ' and BAYFLOW_REQUIRE_SERVICES=1')
    pytest.skip(msg)


@pytest.fixture(scope='session')
def pg_server_url():
    need_service('PostgreSQL', '127.0.0.1', 5432)
    return PG_URL


@pytest.fixture
def pg_url(pg_server_url):
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    import sqlalchemy as sa
    name = 'bayflow_test_' + uuid.uuid4().hex[:12]
    admin = sa.create_engine(pg_server_url + '/postgres', isolation_level='AUTOCOMMIT')
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE {name}'))
    try:
        yield f'{pg_server_url}/{name}'
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(
                'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                'WHERE datname = :n AND pid <> pg_backend_pid()'), {'n': name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS {name}'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    return 'sqlite:///' + str(tmp_path / 'bayflow.sqlite')


@pytest.fixture(params=['sqlite', 'postgresql'])
def db_url(request):
    """Each persistence test runs on SQLite and on PostgreSQL."""
    if request.param == 'sqlite':
        return request.getfixturevalue('sqlite_url')
    return request.getfixturevalue('pg_url')


@pytest.fixture
def rabbit_url():
    need_service('RabbitMQ', '127.0.0.1', 5672)
    return RABBIT_URL


@pytest.fixture
def redis_server():
    need_service('Redis', REDIS_HOST, REDIS_PORT)
    return REDIS_HOST, REDIS_PORT


@pytest.fixture
def bayflow_home(tmp_path, monkeypatch):
    """An empty $BAYFLOW_HOME, so nothing a test writes lands in ~/.bayflow."""
    home = tmp_path / 'home'
    monkeypatch.setenv('BAYFLOW_HOME', str(home))
    return home


@pytest.fixture(scope='session')
def cloud_sim(tmp_path_factory):
    """One simulated cloud for tests that only need the cloud checks to pass."""
    import yaml
    from bayflow.cloudsim import Simulator
    sim = Simulator(boot_seconds=0.1).start()
    sim.clouds_path = tmp_path_factory.mktemp('cloud') / 'clouds.yaml'
    sim.clouds_path.write_text(yaml.safe_dump(sim.clouds_yaml()))
    yield sim
    sim.stop()


@pytest.fixture
def cloud_env(cloud_sim, monkeypatch):
    """OS_CLIENT_CONFIG_FILE and OS_CLOUD point at ``cloud_sim``, for this process
    and the ``bayflow`` processes a test starts."""
    from bayflow.drivers import cloud
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(cloud_sim.clouds_path))
    monkeypatch.setenv('OS_CLOUD', 'sim')
    cloud.set_provider(None)
    yield cloud_sim
    cloud.set_provider(None)
