"""Fixtures for the cloud driver's tests: one simulator for the session, reset
for each test, reached through the real openstacksdk from clouds.yaml."""

import uuid

import openstack
import pytest
import requests
import yaml

from bayflow.cloudsim import Simulator
from bayflow.drivers.cloud import Cloud, not_ready
from tests.functional.drivers.scenarios import RULES

BOOT_SECONDS = 0.1


@pytest.fixture(scope='session')
def sim_session():
    sim = Simulator(boot_seconds=BOOT_SECONDS).start()
    yield sim
    sim.stop()


@pytest.fixture(scope='session')
def clouds_file(sim_session, tmp_path_factory):
    path = tmp_path_factory.mktemp('clouds') / 'clouds.yaml'
    path.write_text(yaml.safe_dump(sim_session.clouds_yaml()))
    return str(path)


@pytest.fixture(scope='session')
def conn_session(sim_session):
    cfg = sim_session.clouds_yaml()['clouds']['sim']
    conn = openstack.connect(**cfg['auth'], region_name=cfg['region_name'])
    yield conn
    conn.close()


@pytest.fixture
def sim(sim_session):
    """The shared simulator at its seed data; a handler crash fails the test."""
    sim_session.reset()
    sim_session.latency = 0
    sim_session.state.boot_seconds = BOOT_SECONDS
    yield sim_session
    assert not sim_session.crashes, sim_session.crashes


def make_cloud(conn, retries=3):
    return Cloud(conn, retries=retries, backoff=0.001, backoff_max=0.01,
                 wait_interval=0.01, wait_timeout=20)


@pytest.fixture
def cloud(sim, conn_session):
    return make_cloud(conn_session)


@pytest.fixture
def admin_cloud(sim):
    cfg = sim.clouds_yaml()['clouds']['sim-admin']
    conn = openstack.connect(**cfg['auth'], region_name=cfg['region_name'])
    yield make_cloud(conn)
    conn.close()


class SimAdmin:
    """A tiny client for /_sim/."""

    def __init__(self, sim):
        self.url = sim.url + '/_sim/'

    def resources(self, table=None):
        found = requests.get(self.url + 'resources', timeout=10).json()
        return found[table] if table else found

    def named(self, table, name):
        return [r for r in self.resources(table) if r.get('name') == name]

    def fault(self, **rule):
        r = requests.post(self.url + 'faults', json=rule, timeout=10)
        r.raise_for_status()
        return r.json()['id']

    def fired(self, rule_id):
        faults = requests.get(self.url + 'faults', timeout=10).json()['faults']
        return next(f['fired'] for f in faults if f['id'] == rule_id)

    def calls(self):
        return requests.get(self.url + 'calls', timeout=10).json()['recent']

    def clear_faults(self):
        requests.delete(self.url + 'faults', timeout=10).raise_for_status()


@pytest.fixture
def sim_admin(sim):
    return SimAdmin(sim)


class BayParts:
    """Builds a bay's resources with the driver, each once, on demand."""

    def __init__(self, cloud, bay_uuid):
        self.cloud, self.uuid = cloud, bay_uuid
        self._done = {}

    def _once(self, key, fn):
        if key not in self._done:
            self._done[key] = fn()
        return self._done[key]

    def ext(self):
        return self._once('ext', lambda: self.cloud.check_external_network('public')['id'])

    def image(self):
        return self._once('image', lambda: self.cloud.check_image('fedora-23-atomic')['id'])

    def network(self):
        return self._once('network', lambda: self.cloud.ensure_network(self.uuid))

    def subnet(self):
        return self._once('subnet', lambda: self.cloud.ensure_subnet(
            self.uuid, self.network()['id'], '10.0.0.0/24', ['8.8.8.8']))

    def router(self):
        return self._once('router', lambda: self.cloud.ensure_router(self.uuid))

    def gateway(self):
        return self._once('gateway', lambda: self.cloud.ensure_router_gateway(
            self.router()['id'], self.ext()))

    def interface(self):
        return self._once('interface', lambda: self.cloud.ensure_router_interface(
            self.router()['id'], self.subnet()['id']))

    def groups(self):
        return self._once('groups', lambda: self.cloud.ensure_security_groups(
            self.uuid, RULES))

    def port(self, role='master', index=0):
        return self._once(('port', role, index), lambda: self.cloud.ensure_port(
            self.uuid, role, index, self.network()['id'], self.subnet()['id'],
            [self.groups()[role]['id']], allowed_address_pairs=['10.100.0.0/16']))

    def fip(self, role='master', index=0):
        self.gateway()
        self.interface()
        return self._once(('fip', role, index), lambda: self.cloud.ensure_floating_ip(
            self.uuid, self.port(role, index)['id'], self.ext()))

    def volume(self, role='master', index=0):
        return self._once(('volume', role, index), lambda: self.cloud.ensure_volume(
            self.uuid, role, index, 5))

    def server(self, role='master', index=0):
        return self._once(('server', role, index), lambda: self.cloud.ensure_server(
            self.uuid, role, index, self.image(), '2', 'testkey',
            self.port(role, index)['id'], user_data='#cloud-config\n'))

    def active_server(self, role='master', index=0):
        server = self.server(role, index)
        self.wait_ready('server', server)
        return server

    def wait_ready(self, kind, item):
        """Wait for one server or volume (with its id and name) as the flow's
        wait step judges it (drivers.cloud.not_ready)."""
        statuses = {'server': self.cloud.server_statuses,
                    'volume': self.cloud.volume_statuses}[kind]
        self.cloud._wait(kind, item['name'], lambda: not not_ready(
            kind, [item], statuses(ids={item['id']})))

    def attachment(self, role='master', index=0):
        return self._once(('attachment', role, index),
                          lambda: self.cloud.ensure_volume_attachment(
                              self.active_server(role, index)['id'],
                              self.volume(role, index)['id']))

    def full(self, masters=1, minions=1):
        """A whole bay, as the engine's create flow would leave it."""
        for role, count in (('master', masters), ('minion', minions)):
            for index in range(count):
                self.fip(role, index)
                self.attachment(role, index)
        return self


@pytest.fixture
def bay_uuid():
    return str(uuid.uuid4())


@pytest.fixture
def parts(cloud, bay_uuid):
    return BayParts(cloud, bay_uuid)
