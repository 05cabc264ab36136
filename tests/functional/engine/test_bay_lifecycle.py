"""The seed's commands end to end on the simulator, and how failures end."""

import json
import sqlite3

import yaml
from cryptography import x509

from tests.functional.engine.conftest import BAY, BAYMODEL, owned, refusals


def _by_bay(resources, bay_uuid):
    return owned(resources, bay_uuid)


def test_seed_commands_build_the_bay_and_delete_leaves_nothing(cli, sim, tmp_path):
    seed = sim.resources()
    cli.ok(*BAYMODEL)
    out = cli.ok(*BAY, '--wait')
    assert 'create-servers-master' in out  # the progress display showed the steps
    bay = cli.bay()
    assert bay['status'] == 'CREATE_COMPLETE', bay
    assert set(bay) == {'uuid', 'name', 'status', 'status_reason', 'baymodel_id',
                        'node_count', 'master_count', 'api_address', 'master_addresses',
                        'node_addresses', 'discovery_url', 'create_timeout', 'created_at',
                        'updated_at'}
    res = sim.resources()
    mine = _by_bay(res, bay['uuid'])
    public = next(n for n in res['networks'] if n['name'] == 'public')
    (net,) = mine['networks']
    (subnet,) = mine['subnets']
    assert subnet['cidr'] == '10.0.0.0/24' and subnet['dns_nameservers'] == ['8.8.8.8']
    assert subnet['network_id'] == net['id']
    (router,) = mine['routers']
    assert router['external_gateway_info']['network_id'] == public['id']
    interfaces = [p for p in res['ports'] if p['device_id'] == router['id']
                  and p['device_owner'] == 'network:router_interface']
    assert [ip['subnet_id'] for p in interfaces for ip in p['fixed_ips']] == [subnet['id']]
    assert len(mine['security_groups']) >= 2
    servers = mine['servers']
    assert len(servers) == 2
    image = next(i for i in res['images'] if i['name'] == 'fedora-21-atomic-5')
    flavor = next(f for f in res['flavors'] if f['name'] == 'm1.small')
    for server in servers:
        assert server['status'] == 'ACTIVE'
        assert server['key_name'] == 'testkey'
        assert server['image_id'] == image['id'] or server.get('image', {}).get('id') == image['id']
        assert flavor['id'] in json.dumps(server)
    bay_ports = [p for p in mine['ports'] if p['name'].endswith('-port')]
    assert len(bay_ports) == 2
    fips = [f for f in res['floatingips'] if f['port_id'] in {p['id'] for p in bay_ports}]
    assert len(fips) == 2
    assert sorted(bay['master_addresses'] + bay['node_addresses']) == \
        sorted(f['floating_ip_address'] for f in fips)
    assert bay['api_address'] == f"https://{bay['master_addresses'][0]}:6443"
    volumes = mine['volumes']
    assert len(volumes) == 2
    assert all(v['size'] == 5 and v['status'] == 'in-use' for v in volumes)

    _check_bay_config(cli, bay, tmp_path)
    _check_steps(cli)

    out = cli.ok('bay-delete', 'k8sbay', '--wait')
    assert 'deleted' in out
    code, _, err = cli.run('bay-show', 'k8sbay')
    assert code != 0 and 'not found' in err
    after = sim.resources()
    assert _by_bay(after, bay['uuid']) == {}
    assert _leftover(seed, after) == {}


def _check_steps(cli):
    """bay-show --steps: every step of the create, from the logbook, with its
    state, when it started and how long it took."""
    shown = json.loads(cli.ok('bay-show', 'k8sbay', '--steps', '-f', 'json'))
    steps = {s['step']: s for s in shown['steps']}
    for name in ('create-network', 'create-ca', 'create-servers-master',
                 'wait-servers-node', 'attach-volumes-node', 'finish-create'):
        step = steps[name]
        assert step['state'] == 'SUCCESS' and step['error'] is None, step
        assert step['started_at'] and step['duration'] >= 0, step
    starts = [s['started_at'] for s in shown['steps'] if s['step'] in steps]
    assert starts == sorted(starts)
    assert steps['create-servers-master']['started_at'] > steps['create-network']['started_at']
    text = cli.ok('bay-show', 'k8sbay', '--steps')
    assert 'attach-volumes-master' in text and 'SUCCESS' in text


def _leftover(seed, after):
    """What exists now that did not before, but for the project's default security
    group, which Neutron makes on the project's first network call."""
    default = {g['id'] for g in after['security_groups'] if g['name'] == 'default'}
    new = {}
    for kind, items in after.items():
        known = {json.dumps(i, sort_keys=True) for i in seed.get(kind, [])}
        extra = [i for i in items if json.dumps(i, sort_keys=True) not in known
                 and i.get('id') not in default and i.get('security_group_id') not in default]
        if extra and kind not in ('images', 'flavors', 'keypairs', 'users', 'projects'):
            new[kind] = extra
    return new


def test_permanent_failure_rolls_back_to_nothing(cli, sim):
    cli.ok(*BAYMODEL)
    sim.fault(method='POST', path=r'/servers$', status=400, times=None)
    code, out, err = cli.run(*BAY, '--wait')
    assert code != 0
    bay = cli.bay()
    assert bay['status'] == 'ROLLBACK_COMPLETE'
    assert 'create-servers' in bay['status_reason']
    assert 'server' in bay['status_reason'] and 'req-' in bay['status_reason']
    sim.clear_faults()
    assert _by_bay(sim.resources(), bay['uuid']) == {}


def test_disable_rollback_keeps_what_was_built_and_delete_finishes(cli, sim):
    cli.ok(*BAYMODEL)
    sim.fault(method='POST', path=r'/servers$', status=400, times=None)
    code, _, _ = cli.run(*BAY, '--wait', '--disable-rollback')
    assert code != 0
    bay = cli.bay()
    assert bay['status'] == 'CREATE_FAILED'
    assert _by_bay(sim.resources(), bay['uuid'])  # kept for troubleshooting
    sim.clear_faults()
    cli.ok('bay-delete', 'k8sbay', '--wait')
    assert _by_bay(sim.resources(), bay['uuid']) == {}


def test_bad_input_is_one_line_and_creates_nothing(cli, sim):
    cli.ok(*BAYMODEL)
    before = sim.resources()
    wrong = refusals(cli, (
        (['bay-create', '--baymodel', 'nope'], 'baymodel'),
        (['bay-create', '--baymodel', 'k8sbaymodel', '--node-count', '0'], 'node_count'),
        (['bay-create', '--baymodel', 'k8sbaymodel', '--timeout', 'x'], 'create_timeout'),
        (['bay-delete', 'nope'], 'nope'),
        (['bay-config', 'nope'], 'nope'),
        (['bay-show', 'nope'], 'nope')))
    assert not wrong, '\n'.join(wrong)
    assert sim.resources() == before
    assert json.loads(cli.ok('bay-list', '-f', 'json')) == []


def test_resume_with_nothing_to_do_exits_zero(cli, sim):
    out = cli.ok('resume')
    assert 'Nothing to resume' in out


def _check_bay_config(cli, bay, tmp_path):
    """bay-config writes what `magnum bay-config` did; the CA key is stored
    encrypted and no private key reaches a log."""
    target = tmp_path / 'k8sbay'
    out = cli.ok('bay-config', 'k8sbay', '--dir', str(target))
    assert f'export KUBECONFIG={target}/config' in out
    assert sorted(p.name for p in target.iterdir()) == ['ca.pem', 'cert.pem', 'config', 'key.pem']
    assert (target / 'key.pem').stat().st_mode & 0o077 == 0
    ca = x509.load_pem_x509_certificate((target / 'ca.pem').read_bytes())
    cert = x509.load_pem_x509_certificate((target / 'cert.pem').read_bytes())
    cert.verify_directly_issued_by(ca)
    kubeconfig = yaml.safe_load((target / 'config').read_text())
    assert kubeconfig['clusters'][0]['cluster']['server'] == bay['api_address']
    code, _, err = cli.run('bay-config', 'k8sbay', '--dir', str(target))
    assert code != 0 and '--force' in err  # never overwrites silently
    db = sqlite3.connect(cli.home / 'bayflow.sqlite')
    ca_key, ca_cert = db.execute('SELECT ca_key, ca_cert FROM bays').fetchone()
    db.close()
    assert ca_cert.startswith('-----BEGIN CERTIFICATE') and 'PRIVATE KEY' not in ca_key
    logs = ''.join(p.read_text() for p in (cli.home / 'logs').glob('*.log'))
    assert 'BEGIN PRIVATE KEY' not in logs and 'BEGIN RSA PRIVATE KEY' not in logs


def test_without_wait_a_detached_worker_runs_the_flow(cli, sim):
    cli.ok(*BAYMODEL)
    shown = cli.ok(*BAY, '-f', 'json')
    assert json.loads(shown)['status'] == 'CREATE_IN_PROGRESS'
    _until(lambda: cli.bay()['status'] == 'CREATE_COMPLETE', cli)
    uuid = cli.bay()['uuid']
    assert 'has been accepted' in cli.ok('bay-delete', 'k8sbay')
    _until(lambda: cli.run('bay-show', 'k8sbay')[0] != 0, cli)
    assert owned(sim.resources(), uuid) == {}


def _until(predicate, cli, seconds=90):
    import time
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            logs = ''.join(p.read_text()[-3000:] for p in (cli.home / 'logs').glob('worker-*'))
            raise AssertionError(f'the detached worker did not finish: {logs}')
        time.sleep(0.2)
