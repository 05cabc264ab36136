"""Delete while creating, the create timeout, and two processes racing for one bay."""

import signal
import time

import requests

from tests.functional.engine.conftest import BAY, BAYMODEL, CONFIG, owned


def _wait_for(predicate, seconds=60, what='condition'):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f'timed out waiting for {what}'
        time.sleep(0.05)


def test_delete_while_creating_stops_the_create_then_deletes(cli, sim):
    cli.ok(*BAYMODEL)
    # Servers take 12 s to boot: the delete, sent as soon as the create has made
    # its network, arrives while the create is still running, even on a busy machine.
    sim.sim.state.boot_seconds = 12
    creator = cli.popen(*BAY, '--wait')
    _wait_for(lambda: owned(sim.resources(), cli.bay()['uuid']).get('networks')
              if cli.run('bay-show', 'k8sbay')[0] == 0 else False, what='network')
    uuid = cli.bay()['uuid']
    out = cli.ok('bay-delete', 'k8sbay', '--wait')
    assert 'deleted' in out
    code = creator.wait(timeout=60)
    stdout, stderr = creator.communicate()
    assert code != 0 and 'DELETE' in stderr, (stdout, stderr)
    assert owned(sim.resources(), uuid) == {}


def test_delete_waits_for_a_create_step_longer_than_the_lease(cli, sim):
    """The stopping create keeps its lease while its step runs: a delete that
    took over at the lease's expiry would list the bay's servers while the
    create was still making one, and leave it behind."""
    (cli.home / 'bayflow.conf').write_text(CONFIG.replace('lease_seconds = 15',
                                                          'lease_seconds = 2'))
    cli.ok(*BAYMODEL)
    # Nova takes 8 s (four leases) to make each server and answer.
    fault = sim.fault(method='POST', path=r'/compute/v2\.1/servers$', delay_ms=8000,
                      times=2)
    creator = cli.popen(*BAY, '--wait')
    _wait_for(lambda: _fired(sim, fault), what='the slow server create')
    uuid = cli.bay()['uuid']
    out = cli.ok('bay-delete', 'k8sbay', '--wait', timeout=180)
    assert 'deleted' in out
    code = creator.wait(timeout=60)
    assert code != 0
    assert owned(sim.resources(), uuid) == {}


def _fired(sim, fault_id):
    return any(rule['id'] == fault_id and rule['fired']
               for rule in requests.get(f'{sim.url}/_sim/faults', timeout=10).json()['faults'])


def test_create_timeout_rolls_the_bay_back(cli, sim):
    cli.ok(*BAYMODEL)
    # The cloud takes longer than the bay's minute (shortened to 3 s here) to
    # answer the first server create.
    sim.fault(method='POST', path=r'/compute/v2\.1/servers$', delay_ms=5000, times=1)
    code, out, err = cli.run(*BAY, '--timeout', '1', '--wait', timeout=240,
                             env={'BAYFLOW_TEST_MINUTE_SECONDS': '3'})
    assert code != 0
    bay = cli.bay()
    assert bay['status'] == 'ROLLBACK_COMPLETE', bay
    assert 'timed out' in bay['status_reason'] and '1 minute' in bay['status_reason']
    assert owned(sim.resources(), bay['uuid']) == {}


def test_two_resumes_racing_for_one_bay_run_it_once(cli, sim):
    cli.ok(*BAYMODEL)
    code, _, _ = cli.run(*BAY, '--wait', env={'BAYFLOW_CRASH_AT': 'create-ports-node:SUCCESS'})
    assert code == -signal.SIGKILL
    first, second = cli.popen('resume', '--wait'), cli.popen('resume', '--wait')
    outs = [p.communicate(timeout=120)[0] for p in (first, second)]
    assert sum('CREATE_COMPLETE' in out for out in outs) == 1, outs
    bay = cli.bay()
    assert bay['status'] == 'CREATE_COMPLETE'
    mine = owned(sim.resources(), bay['uuid'])
    assert len(mine['servers']) == 2 and len(mine['volumes']) == 2
    assert len(mine['networks']) == 1 and len(mine['routers']) == 1
