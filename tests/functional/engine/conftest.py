"""Fixtures for the bay engine's tests: a simulator over HTTP and the real ``bayflow``
CLI in subprocesses, each test with its own $BAYFLOW_HOME and config."""

import concurrent.futures
import json
import os
import subprocess
import sys

import pytest
import requests
import yaml

from bayflow.cloudsim import Simulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BAYMODEL = ['baymodel-create', '--name', 'k8sbaymodel', '--image-id', 'fedora-21-atomic-5',
            '--keypair-id', 'testkey', '--external-network-id', 'public',
            '--dns-nameserver', '8.8.8.8', '--flavor-id', 'm1.small',
            '--docker-volume-size', '5', '--network-driver', 'flannel', '--coe', 'kubernetes']
BAY = ['bay-create', '--name', 'k8sbay', '--baymodel', 'k8sbaymodel', '--node-count', '1']
# Fast settings: short waits and backoffs, a short lease.
CONFIG = """[cloud]
wait_interval = 0.05
retry_backoff = 0.02
retry_backoff_max = 0.2
api_retries = 4
[bay]
lease_seconds = 15
"""


@pytest.fixture(scope='session')
def engine_sim():
    sim = Simulator(boot_seconds=0.1).start()
    yield sim
    sim.stop()


def lift_quotas(sim):
    """Many bays at once in the demo project (the crash matrix runs several)."""
    import openstack
    cfg = sim.clouds_yaml()['clouds']
    admin = openstack.connect(**cfg['sim-admin']['auth'],
                              region_name=cfg['sim-admin']['region_name'])
    project_id = admin.identity.find_project('demo').id
    admin.network.update_quota(project_id, security_groups=-1, security_group_rules=-1,
                               routers=-1, floating_ips=-1, networks=-1, ports=-1,
                               subnets=-1)
    admin.compute.update_quota_set(project_id, instances=-1, cores=-1, ram=-1)
    admin.block_storage.update_quota_set(project_id, volumes=-1, gigabytes=-1)
    admin.close()


class Sim:
    def __init__(self, sim):
        self.sim, self.url = sim, sim.url

    def resources(self):
        return requests.get(f'{self.url}/_sim/resources', timeout=10).json()

    def fault(self, **rule):
        r = requests.post(f'{self.url}/_sim/faults', json=rule, timeout=10)
        r.raise_for_status()
        return r.json()['id']

    def clear_faults(self):
        requests.delete(f'{self.url}/_sim/faults', timeout=10)

    def calls(self):
        return requests.get(f'{self.url}/_sim/calls', timeout=10).json()


@pytest.fixture
def sim(engine_sim):
    engine_sim.reset()
    engine_sim.latency = 0
    engine_sim.state.boot_seconds = 0.1
    yield Sim(engine_sim)
    assert not engine_sim.crashes, engine_sim.crashes


class Cli:
    """The real ``bayflow`` command, as a user runs it."""

    def __init__(self, home, env):
        self.home, self.env = home, env

    def popen(self, *args, env=None):
        return subprocess.Popen(
            [sys.executable, '-m', 'bayflow.cli.main', '--config-file',
             str(self.home / 'bayflow.conf'), *args],
            cwd=ROOT, env=dict(self.env, **(env or {})), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)

    def run(self, *args, env=None, timeout=120):
        proc = self.popen(*args, env=env)
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err

    def ok(self, *args, **kwargs):
        code, out, err = self.run(*args, **kwargs)
        assert code == 0, f'bayflow {" ".join(args)} -> {code}\n{out}\n{err}'
        return out

    def bay(self, ident='k8sbay'):
        return json.loads(self.ok('bay-show', ident, '-f', 'json'))


@pytest.fixture
def cli(sim, tmp_path):
    return make_cli(sim, tmp_path)


def make_cli(sim, tmp_path):
    """A user's environment: own $BAYFLOW_HOME, config and clouds.yaml."""
    home = tmp_path / 'home'
    home.mkdir()
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(yaml.safe_dump(sim.sim.clouds_yaml()))
    (home / 'bayflow.conf').write_text(CONFIG)
    env = dict(os.environ, BAYFLOW_HOME=str(home), OS_CLIENT_CONFIG_FILE=str(clouds),
               OS_CLOUD='sim', PYTHONWARNINGS='ignore')
    env.pop('BAYFLOW_CRASH_AT', None)
    return Cli(home, env)


def owned(resources, bay_uuid):
    """Every simulated resource that names or tags the bay."""
    found = {}
    for kind, items in resources.items():
        hits = [i for i in items if bay_uuid in json.dumps(i)]
        if hits:
            found[kind] = hits
    return found


def refusals(cli, cases, workers=3):
    """Run ``bayflow ARGS`` for each ``(args, words)`` a few at a time; -> the
    cases not refused as they must be: non-zero exit and one ``ERROR:`` line
    naming ``words``, no traceback."""
    def wrong(case):
        args, words = case
        code, _, err = cli.run(*args)
        lines = err.strip().splitlines()
        if code != 0 and len(lines) == 1 and lines[0].startswith('ERROR:') \
                and words in lines[0] and 'Traceback' not in err:
            return None
        return f'{args}: exit {code}\n{err}'
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return [w for w in pool.map(wrong, cases) if w]
