"""bay-update (scale) end to end on the simulator: what the cloud holds after a
scale-up and a scale-down, a no-op, refusals that change nothing, a failed
scale-up that removes only what it added, and processes SIGKILLed at step
boundaries of both directions finished by ``bayflow resume --wait``."""

import base64
import json
import signal

from tests.functional.engine.conftest import BAYMODEL, lift_quotas, owned, refusals
from tests.functional.engine.test_bay_lifecycle import _until
from tests.functional.engine.test_crash_resume import _each
from tests.functional.engine.test_races import _wait_for

# A few boundaries of each kind of step (the create's crash tests cover its
# steps at every boundary): a look-up, creates before and after their
# results are saved, the wait, removals, and the step that records the bay.
SCALE_UP_STEPS = ['find-coe-config:SUCCESS', 'create-ports-node:SUCCESS',
                  'create-servers-node:RUNNING', 'wait-servers-node:SUCCESS',
                  'attach-volumes-node:RUNNING', 'finish-update:RUNNING']
SCALE_DOWN_STEPS = ['remove-servers-node:RUNNING', 'remove-floating-ips-node:SUCCESS',
                    'remove-ports-node:RUNNING', 'finish-update:RUNNING']


def _create(cli, name='k8sbay', nodes=1):
    cli.ok('bay-create', '--name', name, '--baymodel', 'k8sbaymodel',
           '--node-count', str(nodes), '--wait')
    return cli.bay(name)


def _holding(sim, bay):
    """What the simulator holds of the bay, by kind and server name."""
    mine = owned(sim.resources(), bay['uuid'])
    ports = {p['name'][:-len('-port')]: p for p in mine.get('ports', ())
             if p['name'].endswith('-port')}
    fips = {f['port_id']: f for f in mine.get('floatingips', ())}
    servers = {s['name']: s for s in mine.get('servers', ())}
    volumes = {v['name'][:-len('-docker')]: v for v in mine.get('volumes', ())}
    return {'servers': servers, 'ports': ports, 'fips': fips, 'volumes': volumes,
            'networks': len(mine.get('networks', ())), 'routers': len(mine.get('routers', ()))}


def _check_bay(sim, bay, nodes):
    """Exactly one master and ``nodes`` nodes, each whole: ACTIVE server on its
    port, a floating IP bound to the port, its volume attached; node_addresses
    are the nodes' floating IPs by index."""
    held = _holding(sim, bay)
    prefix = f"bf-{bay['uuid']}-"
    names = [prefix + 'master-0'] + [f'{prefix}node-{i}' for i in range(nodes)]
    assert sorted(held['servers']) == sorted(names)
    assert sorted(held['ports']) == sorted(names) and sorted(held['volumes']) == sorted(names)
    assert len(held['fips']) == len(names) and held['networks'] == 1 and held['routers'] == 1
    for name in names:
        server, port, volume = held['servers'][name], held['ports'][name], held['volumes'][name]
        assert server['status'] == 'ACTIVE' and port['device_id'] == server['id'], name
        assert port['id'] in held['fips'], name
        assert volume['status'] == 'in-use', name
        assert [a['server_id'] for a in volume['attachments']] == [server['id']], name
    addresses = [held['fips'][held['ports'][f'{prefix}node-{i}']['id']]['floating_ip_address']
                 for i in range(nodes)]
    assert bay['node_addresses'] == addresses and bay['node_count'] == nodes
    return held


def _failing(cli, sim, path, *args):
    """``bayflow ARGS`` while every POST to ``path`` fails for good (400)."""
    sim.fault(method='POST', path=path, status=400, times=None)
    try:
        return cli.run(*args)
    finally:
        sim.clear_faults()


def _user_data(server):
    return base64.b64decode(server['user_data']).decode()


def test_scale_up_then_down_holds_exactly_the_nodes_and_delete_leaves_nothing(cli, sim):
    cli.ok(*BAYMODEL)
    created = _create(cli)
    before = _check_bay(sim, created, 1)

    out = cli.ok('bay-update', 'k8sbay', 'replace', 'node_count=3', '--wait')
    assert 'create-servers-node' in out  # the progress display showed the steps
    bay = cli.bay()
    assert bay['status'] == 'UPDATE_COMPLETE', bay
    assert (bay['master_addresses'], bay['api_address']) == \
        (created['master_addresses'], created['api_address'])
    held = _check_bay(sim, bay, 3)
    for name, server in before['servers'].items():  # the bay's own servers untouched
        assert held['servers'][name]['id'] == server['id']
    master = held['ports'][f"bf-{bay['uuid']}-master-0"]['fixed_ips'][0]['ip_address']
    added = held['servers'][f"bf-{bay['uuid']}-node-2"]
    assert master in _user_data(added)  # the new node joins the bay's master

    # The same count again: nothing to do, nothing changes.
    again = json.loads(cli.ok('bay-update', 'k8sbay', 'replace', 'node_count=3', '--wait',
                              '-f', 'json'))
    assert again == cli.bay() == bay

    cli.ok('bay-update', 'k8sbay', 'remove', 'node_count', '--wait')  # back to 1
    bay = cli.bay()
    assert bay['status'] == 'UPDATE_COMPLETE'
    held = _check_bay(sim, bay, 1)
    assert {n: s['id'] for n, s in held['servers'].items()} == \
        {n: s['id'] for n, s in before['servers'].items()}

    cli.ok('bay-delete', 'k8sbay', '--wait')
    assert owned(sim.resources(), bay['uuid']) == {}


def test_bad_update_is_one_line_and_changes_nothing(cli, sim):
    cli.ok(*BAYMODEL)
    bay = _create(cli)
    # A bay that is not *_COMPLETE: a create that failed and kept what it built.
    _failing(cli, sim, r'/servers$', 'bay-create', '--name', 'broken', '--baymodel',
             'k8sbaymodel', '--wait', '--disable-rollback')
    assert cli.bay('broken')['status'] == 'CREATE_FAILED'
    before, bays = sim.resources(), cli.ok('bay-list', '-f', 'json')

    wrong = refusals(cli, [(['bay-update', *args, '--wait'], words) for args, words in (
        (['k8sbay', 'replace', 'name=other'], 'only node_count may change'),
        (['k8sbay', 'replace', 'master_count=2'], 'master_count'),
        (['k8sbay', 'move', 'node_count=2'], 'op'),
        (['k8sbay', 'replace', 'node_count=0'], 'node_count'),
        (['k8sbay', 'replace', 'node_count=many'], "'many'"),
        (['k8sbay', 'replace', 'node_count'], 'ATTRIBUTE=VALUE'),
        (['nope', 'replace', 'node_count=2'], 'nope'),
        (['broken', 'replace', 'node_count=2'], 'CREATE_FAILED'))])
    assert not wrong, '\n'.join(wrong)
    assert sim.resources() == before
    assert cli.ok('bay-list', '-f', 'json') == bays
    assert cli.bay() == bay


def test_a_permanent_fault_in_a_scale_up_removes_only_what_it_added(cli, sim):
    cli.ok(*BAYMODEL)
    bay = _create(cli)
    before = _holding(sim, bay)
    code, _, err = _failing(cli, sim, r'/servers$',
                            'bay-update', 'k8sbay', 'replace', 'node_count=3', '--wait')
    assert code != 0 and 'UPDATE_FAILED' in err
    failed = cli.bay()
    assert failed['status'] == 'UPDATE_FAILED', failed
    reason = failed['status_reason']
    assert 'create-servers-node' in reason and 'req-' in reason and 'removed' in reason
    assert failed['node_count'] == 1 and failed['node_addresses'] == bay['node_addresses']
    assert _holding(sim, bay) == before  # the nodes it added are gone, the bay's intact

    # An UPDATE_FAILED bay is not updated again (Magnum: only from *_COMPLETE) ...
    code, _, err = cli.run('bay-update', 'k8sbay', 'replace', 'node_count=2')
    assert code != 0 and 'UPDATE_FAILED' in err and 'deleted' in err
    # ... and bay-delete removes it.
    cli.ok('bay-delete', 'k8sbay', '--wait')
    assert owned(sim.resources(), bay['uuid']) == {}


def test_disable_rollback_keeps_the_nodes_built_and_delete_finishes(cli, sim):
    cli.ok(*BAYMODEL)
    bay = _create(cli)
    code, _, _ = _failing(cli, sim, r'/os-volume_attachments$', 'bay-update', 'k8sbay',
                          'replace', 'node_count=2', '--wait', '--disable-rollback')
    failed = cli.bay()
    assert code != 0 and failed['status'] == 'UPDATE_FAILED'
    assert 'rollback disabled' in failed['status_reason'] and failed['node_count'] == 1
    assert f"bf-{bay['uuid']}-node-1" in _holding(sim, bay)['servers']  # kept
    cli.ok('bay-delete', 'k8sbay', '--wait')
    assert owned(sim.resources(), bay['uuid']) == {}


def _crash_then_resume(cli, sim, boundaries, nodes, target):
    """One bay per boundary, its update killed there; one ``resume --wait`` then."""
    lift_quotas(sim.sim)
    cli.ok(*BAYMODEL)
    names = {f'bay{i}': b for i, b in enumerate(boundaries)}
    _each(lambda name: _create(cli, name, nodes), names)

    def kill(name):
        code, _, err = cli.run('bay-update', name, 'replace', f'node_count={target}',
                               '--wait', env={'BAYFLOW_CRASH_AT': names[name]})
        return None if code == -signal.SIGKILL else f'{names[name]}: exit {code}\n{err}'
    errors = [e for e in _each(kill, names) if e]
    assert not errors, '\n'.join(errors)

    out = cli.ok('resume', '--wait', timeout=600)
    for name, boundary in names.items():
        bay = cli.bay(name)
        assert bay['status'] == 'UPDATE_COMPLETE', (boundary, bay, out)
        _check_bay(sim, bay, target)


def test_scale_up_killed_at_step_boundaries_resumes(cli, sim):
    _crash_then_resume(cli, sim, SCALE_UP_STEPS, 1, 2)


def test_scale_down_killed_at_step_boundaries_resumes(cli, sim):
    _crash_then_resume(cli, sim, SCALE_DOWN_STEPS, 3, 1)


def test_without_wait_a_detached_worker_scales_the_bay(cli, sim):
    cli.ok(*BAYMODEL)
    _create(cli)
    shown = json.loads(cli.ok('bay-update', 'k8sbay', 'replace', 'node_count=2', '-f', 'json'))
    assert shown['status'] == 'UPDATE_IN_PROGRESS' and shown['node_count'] == 1
    _until(lambda: cli.bay()['status'] == 'UPDATE_COMPLETE', cli)
    _check_bay(sim, cli.bay(), 2)


def test_delete_while_updating_stops_the_update_then_deletes(cli, sim):
    cli.ok(*BAYMODEL)
    bay = _create(cli)
    # New servers take 12 s to boot: the delete, sent once the update has made
    # its first new server, lands while the update still waits for it.
    sim.sim.state.boot_seconds = 12
    updater = cli.popen('bay-update', 'k8sbay', 'replace', 'node_count=2', '--wait')
    _wait_for(lambda: f"bf-{bay['uuid']}-node-1" in _holding(sim, bay)['servers'],
              what='the new server')
    assert 'deleted' in cli.ok('bay-delete', 'k8sbay', '--wait')
    code = updater.wait(timeout=60)
    stdout, stderr = updater.communicate()
    assert code != 0 and 'DELETE' in stderr, (stdout, stderr)
    assert owned(sim.resources(), bay['uuid']) == {}


def test_scale_up_killed_in_the_middle_of_a_server_create_resumes(cli, sim):
    """The cloud made the new server, then the process died before hearing of
    it: the resumed step finds it rather than booting a second one."""
    cli.ok(*BAYMODEL)
    bay = _create(cli)

    def server_posts():
        return sum(n for call, n in sim.calls()['counts'].items()
                   if call.startswith('POST') and call.endswith('/servers'))
    before = server_posts()
    sim.sim.latency = 0.25
    proc = cli.popen('bay-update', 'k8sbay', 'replace', 'node_count=2', '--wait')
    _wait_for(lambda: server_posts() > before or proc.poll() is not None,
              seconds=90, what='the new server create')
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    sim.sim.latency = 0
    assert f"bf-{bay['uuid']}-node-1" in _holding(sim, bay)['servers']  # made, unheard of
    cli.ok('resume', '--wait')
    bay = cli.bay()
    assert bay['status'] == 'UPDATE_COMPLETE', bay
    _check_bay(sim, bay, 2)
