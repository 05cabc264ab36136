"""Fixtures for the messaging tests: a private RabbitMQ vhost, bayflow's own options,
oslo.messaging imported without its eventlet warning."""

import shutil
import subprocess
import uuid
import warnings

import pytest

from tests.conftest import RABBIT_URL, need_service
from tests.unit.messaging.conftest import conf  # noqa: F401 - the same fixture here

RABBIT_HOST, RABBIT_PORT = '127.0.0.1', 5672


def _rabbitmqctl(*args):
    return subprocess.run(['rabbitmqctl', '-q', *args], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope='module')
def rabbit_vhost_url():
    """An amqp:// URL on a vhost of its own, so bayflow.events here is this module's
    alone (other tests run daemons on the same broker). Without rabbitmqctl (a broker
    in a container) it is the shared default vhost: tests read from queues of their own."""
    need_service('RabbitMQ', RABBIT_HOST, RABBIT_PORT)
    vhost = 'bayflow-test-' + uuid.uuid4().hex[:10]
    if shutil.which('rabbitmqctl') is None or _rabbitmqctl('add_vhost', vhost).returncode:
        yield RABBIT_URL
        return
    try:
        _rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*')
        yield RABBIT_URL.rstrip('/') + '/' + vhost
    finally:
        _rabbitmqctl('delete_vhost', vhost)


@pytest.fixture(scope='session')
def oslo_messaging():
    """The real library, imported once; eventlet's import-time warning is not ours."""
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
        warnings.simplefilter('ignore', DeprecationWarning)
        import oslo_messaging
    return oslo_messaging
