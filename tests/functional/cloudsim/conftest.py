"""Fixtures for the simulator's tests: a running simulator, SDK connections,
and the upstream api-ref samples, fetched from PyPI sdists at test time
(never committed)."""

import json
import os
import subprocess
import sys
import tarfile

import openstack
import pytest
import requests

from bayflow.cloudsim import Simulator

NEUTRON_LIB = 'neutron-lib==5.0.1'
NOVA = 'nova==34.0.0'
CACHE = os.environ.get('BAYFLOW_TEST_CACHE',
                       os.path.join(os.path.expanduser('~'), '.cache', 'bayflow-tests'))


@pytest.fixture(scope='session')
def sim_session():
    sim = Simulator(boot_seconds=0.2).start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(sim_session):
    """The shared simulator, reset to its seed data for each test.

    A handler exception (answered as a 500) fails the test that caused it.
    """
    sim_session.reset()
    sim_session.latency = 0
    sim_session.state.boot_seconds = 0.2
    yield sim_session
    assert not sim_session.crashes, sim_session.crashes


def connect(sim, cloud='sim'):
    cfg = sim.clouds_yaml()['clouds'][cloud]
    return openstack.connect(**cfg['auth'], region_name=cfg['region_name'])


@pytest.fixture
def conn(sim):
    c = connect(sim)
    yield c
    c.close()


@pytest.fixture
def admin_conn(sim):
    c = connect(sim, 'sim-admin')
    yield c
    c.close()


@pytest.fixture
def sim_admin(sim):
    """A tiny client for /_sim/."""
    class Admin:
        def get(self, what):
            return requests.get(f'{sim.url}/_sim/{what}', timeout=10).json()

        def fault(self, **rule):
            r = requests.post(f'{sim.url}/_sim/faults', json=rule, timeout=10)
            r.raise_for_status()
            return r.json()['id']
    return Admin()


class Raw:
    """Raw HTTP to one service of the simulator with an SDK connection's token,
    for what the SDK does not show: status codes, headers, error bodies.

    ``sim`` is the simulator or its URL; ``prefix`` the service's path
    (``/network/v2.0``); ``version`` an ``OpenStack-API-Version`` value
    (``compute 2.96``) sent on every call.
    """

    def __init__(self, sim, conn, prefix='', version=None):
        self.base = getattr(sim, 'url', sim) + prefix
        self.headers = {'X-Auth-Token': conn.session.get_token(),
                        'Accept': 'application/json'}
        if version:
            self.headers['OpenStack-API-Version'] = version

    def __call__(self, method, path, headers=None, **kwargs):
        return requests.request(method, self.base + path,
                                headers={**self.headers, **(headers or {})},
                                timeout=30, **kwargs)

    def _json(self, method, path, status, body=None):
        response = self(method, path, json=body)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    def get(self, path, status=200):
        return self._json('GET', path, status)

    def post(self, path, body, status=201):
        return self._json('POST', path, status, body)

    def put(self, path, body, status=200):
        return self._json('PUT', path, status, body)

    def delete(self, path, status=204):
        return self._json('DELETE', path, status)


def _sdist(requirement, member_filter, name):
    """Extract matching members of a PyPI sdist into the cache (once)."""
    target = os.path.join(CACHE, name)
    marker = os.path.join(target, '.complete')
    if os.path.exists(marker):
        return target
    os.makedirs(CACHE, exist_ok=True)
    dl = os.path.join(CACHE, 'downloads')
    subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', '--no-binary',
                    ':all:', '-q', '-d', dl, requirement], check=True,
                   stdout=subprocess.DEVNULL)
    stem = requirement.split('==')[0].replace('-', '_')
    archive = next(os.path.join(dl, f) for f in os.listdir(dl)
                   if f.replace('-', '_').lower().startswith(stem.lower())
                   and f.endswith('.tar.gz'))
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and member_filter(m.name)]
        for m in members:
            m.name = m.name.split('/', 1)[1]      # drop the top folder
        tar.extractall(target, members=members, filter='data')
    open(marker, 'w').close()
    return target


@pytest.fixture(scope='session')
def neutron_samples():
    """Path -> JSON of neutron-lib's api-ref samples (api-ref/source/v2/samples)."""
    root = _sdist(NEUTRON_LIB, lambda n: '/api-ref/source/v2/samples/' in n, 'neutron-lib')
    return _Samples(os.path.join(root, 'api-ref', 'source', 'v2', 'samples'))


@pytest.fixture(scope='session')
def nova_samples():
    """Path -> JSON of nova's doc/api_samples."""
    root = _sdist(NOVA, lambda n: '/doc/api_samples/' in n, 'nova')
    return _Samples(os.path.join(root, 'doc', 'api_samples'))


class _Samples:
    def __init__(self, root):
        self.root = root

    def __call__(self, relpath):
        with open(os.path.join(self.root, relpath)) as f:
            return json.load(f)


def shape_diff(sample, actual, path='', ignore=()):
    """Differences in key sets and value types between a sample and a response.

    Keys the sample has that the response lacks are reported; extra keys in
    the response are reported too unless listed in ``ignore`` (extension
    fields the simulator does not advertise). ``None`` matches any type.
    """
    problems = []
    if isinstance(sample, dict) and isinstance(actual, dict):
        for key in sample:
            if key in ignore:
                continue
            if key not in actual:
                problems.append(f'{path}/{key}: missing')
            else:
                problems += shape_diff(sample[key], actual[key], f'{path}/{key}', ignore)
        for key in actual:
            if key not in sample and key not in ignore:
                problems.append(f'{path}/{key}: not in the sample')
    elif isinstance(sample, list) and isinstance(actual, list):
        if sample and actual:
            problems += shape_diff(sample[0], actual[0], path + '[0]', ignore)
    elif sample is None or actual is None:
        pass
    elif _kind(sample) != _kind(actual):
        problems.append(f'{path}: sample is {_kind(sample)}, response is {_kind(actual)}')
    return problems


def _kind(value):
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    return type(value).__name__
