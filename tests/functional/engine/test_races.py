"""Delete while creating, the create timeout, and two processes racing for one bay."""

import signal
import time

from tests.functional.engine.conftest import BAY, BAYMODEL, owned


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


def test_create_timeout_rolls_the_bay_back(cli, sim):
    cli.ok(*BAYMODEL)
    # The cloud takes longer than the bay's minute to answer the first server create.
    sim.fault(method='POST', path=r'/compute/v2\.1/servers$', delay_ms=62000, times=1)
    code, out, err = cli.run(*BAY, '--timeout', '1', '--wait', timeout=240)
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
