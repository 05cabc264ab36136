"""Processes SIGKILLed at every step boundary and in the middle of a cloud call;
``bayflow resume --wait`` in a fresh process finishes with nothing duplicated or
orphaned. Scenarios run a few at a time (each is its own bay) to keep the
matrix inside the suite's time budget."""

import concurrent.futures
import json
import sqlite3
import signal
import time

import pytest

from tests.functional.engine.conftest import BAY, BAYMODEL, lift_quotas, owned

CREATE_STEPS = ['create-network', 'create-subnet', 'create-router', 'set-router-gateway',
                'add-router-interface', 'create-security-groups', 'create-security-group-rules',
                'configure-container-network', 'create-ca', 'configure-coe']
for _role in ('master', 'node'):
    CREATE_STEPS += [f'{s}-{_role}' for s in (
        'create-ports', 'create-floating-ips', 'create-volumes', 'create-servers',
        'wait-servers', 'attach-volumes')]
CREATE_STEPS.append('finish-create')
DELETE_STEPS = ['remove-servers', 'remove-floating-ips', 'remove-volumes', 'remove-routers',
                'remove-ports', 'remove-subnets', 'remove-networks',
                'remove-security-groups', 'finish-delete']
EXPECTED = {'networks': 1, 'subnets': 1, 'routers': 1, 'servers': 2, 'volumes': 2}


def _counts(resources, bay_uuid):
    mine = owned(resources, bay_uuid)
    counts = {k: len(v) for k, v in mine.items() if k in EXPECTED}
    counts['bay_ports'] = len([p for p in mine.get('ports', ())
                               if p['name'].endswith('-port')])
    counts['floatingips'] = len(mine.get('floatingips', ()))
    return counts


def _uuid_of(show_output):
    return next(line.split('|')[2].strip() for line in show_output.splitlines()
                if line.startswith('| uuid '))


def _each(fn, items, workers=3):
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def _crash_then_resume(cli, sim, boundaries, phase):
    """One bay per boundary, each killed there by its own process (a few at a
    time); then one fresh ``bayflow resume --wait`` takes over all of them."""
    lift_quotas(sim.sim)
    cli.ok(*BAYMODEL)
    names = {f'bay{i}': b for i, b in enumerate(boundaries)}
    uuids = {}
    if phase == 'delete':
        def create(name):
            uuids[name] = _uuid_of(cli.ok('bay-create', '--name', name, '--baymodel',
                                          'k8sbaymodel', '--wait'))
        _each(create, names)

    def kill(name):
        env = {'BAYFLOW_CRASH_AT': names[name]}
        if phase == 'create':
            args = ['bay-create', '--name', name, '--baymodel', 'k8sbaymodel', '--wait']
        else:
            args = ['bay-delete', name, '--wait']
        code, out, err = cli.run(*args, env=env)
        return None if code == -signal.SIGKILL else f'{names[name]}: exit {code}\n{err}'
    errors = [e for e in _each(kill, names) if e]
    assert not errors, '\n'.join(errors)

    out = cli.ok('resume', '--wait', timeout=600)
    bays = {b['name']: b for b in json.loads(cli.ok('bay-list', '-f', 'json'))}
    resources = sim.resources()
    for name, boundary in names.items():
        if phase == 'create':
            # (one killed after its last step was complete already: not resumed)
            assert bays[name]['status'] == 'CREATE_COMPLETE', (boundary, bays[name], out)
            assert _counts(resources, bays[name]['uuid']) == dict(
                EXPECTED, bay_ports=2, floatingips=2), boundary
        else:
            assert name not in bays, (boundary, out)
            assert owned(resources, uuids[name]) == {}, (boundary, out)
    if phase == 'delete':  # no flow of a deleted bay is left behind either
        db = sqlite3.connect(cli.home / 'bayflow.sqlite')
        assert db.execute('SELECT count(*) FROM logbooks').fetchone()[0] == 0
        db.close()


@pytest.mark.parametrize('state', ['RUNNING', 'SUCCESS'])
def test_create_killed_at_every_step_boundary_resumes(cli, sim, state):
    _crash_then_resume(cli, sim, [f'{s}:{state}' for s in CREATE_STEPS], 'create')


@pytest.mark.parametrize('state', ['RUNNING', 'SUCCESS'])
def test_delete_killed_at_every_step_boundary_resumes(cli, sim, state):
    _crash_then_resume(cli, sim, [f'{s}:{state}' for s in DELETE_STEPS], 'delete')


@pytest.mark.parametrize('call', [('POST', '/servers'), ('POST', '/v2.0/ports'),
                                  ('POST', '/v2.0/floatingips')])
def test_create_killed_in_the_middle_of_a_cloud_call_resumes(cli, sim, call):
    """The simulator applies a call, then holds its answer for its latency: the
    kill lands after the cloud did the work and before the flow heard of it."""
    method, path = call
    cli.ok(*BAYMODEL)
    sim.sim.latency = 0.25
    proc = cli.popen(*BAY, '--wait')
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if any(c['method'] == method and c['path'].endswith(path)
               for c in sim.calls()['recent']):
            break
        time.sleep(0.02)
    else:
        proc.kill()
        pytest.fail(f'{method} {path} never reached the cloud')
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    sim.sim.latency = 0
    cli.ok('resume', '--wait')
    bay = cli.bay()
    assert bay['status'] == 'CREATE_COMPLETE', bay
    assert _counts(sim.resources(), bay['uuid']) == dict(EXPECTED, bay_ports=2,
                                                         floatingips=2)
