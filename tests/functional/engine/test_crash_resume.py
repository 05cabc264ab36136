"""Processes SIGKILLed at every step boundary and in the middle of a cloud call;
``bayflow resume --wait`` in a fresh process finishes with nothing duplicated or
orphaned. Scenarios run a few at a time (each is its own bay) to keep the
matrix inside the suite's time budget."""

import concurrent.futures
import signal
import time

import pytest

from tests.functional.engine.conftest import BAY, BAYMODEL, lift_quotas, owned

CREATE_STEPS = ['create-network', 'create-subnet', 'create-router', 'set-router-gateway',
                'add-router-interface', 'create-security-groups',
                'configure-container-network', 'configure-coe']
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


def _scenario(cli, sim, crash_at, phase, name):
    """One bay (``name``) killed at ``crash_at``, then resumed by a fresh process."""
    env = {'BAYFLOW_CRASH_AT': crash_at}
    create = ['bay-create', '--name', name, '--baymodel', 'k8sbaymodel', '--wait']
    if phase == 'create':
        code, out, err = cli.run(*create, env=env)
    else:
        uuid = _uuid_of(cli.ok(*create))
        code, out, err = cli.run('bay-delete', name, '--wait', env=env)
    assert code == -signal.SIGKILL, f'{crash_at}: {code}\n{out}\n{err}'
    code, out, err = cli.run('resume', name, '--wait')
    if phase == 'delete' and code and 'not found' in err:
        out = f'bay {uuid} ({name}): DELETE_COMPLETE'  # killed after its last step
    assert code in (0, 1), (crash_at, out, err)
    uuid = out.split('bay ', 1)[1].split()[0]
    if phase == 'create':
        assert 'CREATE_COMPLETE' in out, (crash_at, out)
        assert _counts(sim.resources(), uuid) == dict(
            EXPECTED, bay_ports=2, floatingips=2), crash_at
    else:
        assert 'DELETE_COMPLETE' in out, (crash_at, out)
        assert owned(sim.resources(), uuid) == {}, crash_at


def _uuid_of(show_output):
    return next(line.split('|')[2].strip() for line in show_output.splitlines()
                if line.startswith('| uuid '))


def _run_all(cli, sim, boundaries, phase):
    """Scenarios a few at a time, each its own bay in one $BAYFLOW_HOME."""
    lift_quotas(sim.sim)
    cli.ok(*BAYMODEL)
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(_scenario, cli, sim, b, phase, f'bay{i}')
                   for i, b in enumerate(boundaries)]
        errors = []
        for future in concurrent.futures.as_completed(futures):
            try:
                future.result()
            except AssertionError as exc:
                errors.append(str(exc))
    assert not errors, '\n\n'.join(errors)


@pytest.mark.parametrize('state', ['RUNNING', 'SUCCESS'])
def test_create_killed_at_every_step_boundary_resumes(cli, sim, state):
    _run_all(cli, sim, [f'{s}:{state}' for s in CREATE_STEPS], 'create')


@pytest.mark.parametrize('state', ['RUNNING', 'SUCCESS'])
def test_delete_killed_at_every_step_boundary_resumes(cli, sim, state):
    _run_all(cli, sim, [f'{s}:{state}' for s in DELETE_STEPS], 'delete')


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
