"""The simulator's admin endpoint (/_sim/): what exists, what was called,
fault injection and reset."""

import keystoneauth1.exceptions
import openstack
import pytest
import requests

from bayflow.cloudsim import server

LISTED = ('networks', 'subnets', 'routers', 'ports', 'floatingips', 'security_groups',
          'security_group_rules', 'servers', 'volumes', 'keypairs', 'images', 'flavors',
          'projects', 'users', 'roles', 'role_assignments', 'loadbalancers', 'listeners',
          'pools', 'members', 'healthmonitors')
# The fields each listed type must show (reference: the admin endpoint
# section, "where the type has them").
FIELDS = {
    'networks': ('id', 'project_id', 'name', 'description', 'tags', 'status'),
    'subnets': ('id', 'project_id', 'name', 'description', 'tags'),
    'routers': ('id', 'project_id', 'name', 'description', 'tags', 'status'),
    'ports': ('id', 'project_id', 'name', 'description', 'tags', 'status', 'device_id'),
    'floatingips': ('id', 'project_id', 'description', 'tags', 'status'),
    'security_groups': ('id', 'project_id', 'name', 'description', 'tags'),
    'security_group_rules': ('id', 'project_id', 'description'),
    'servers': ('id', 'project_id', 'name', 'description', 'tags', 'status'),
    'volumes': ('id', 'project_id', 'name', 'description', 'status'),
    'keypairs': ('name',),
    'images': ('id', 'project_id', 'name', 'tags', 'status'),
    'flavors': ('id', 'name', 'description'),
    'projects': ('id', 'name', 'domain_id', 'enabled'),
    'users': ('id', 'name', 'domain_id', 'enabled', 'default_project_id'),
    'roles': ('id', 'name'),
    'role_assignments': ('project_id', 'user_id', 'role_id'),
    'loadbalancers': ('id', 'project_id', 'name', 'provisioning_status', 'vip_port_id'),
    'listeners': ('id', 'project_id', 'name', 'provisioning_status', 'protocol_port'),
    'pools': ('id', 'project_id', 'name', 'provisioning_status'),
    'members': ('id', 'project_id', 'address', 'provisioning_status'),
    'healthmonitors': ('id', 'project_id', 'type', 'provisioning_status'),
}


def _vol_path(conn):
    return f'/volume/v3/{conn.current_project_id}/volumes'


def _faults(sim):
    return requests.get(f'{sim.url}/_sim/faults', timeout=10).json()['faults']


def _rule(sim, rule_id):
    (rule,) = [r for r in _faults(sim) if r['id'] == rule_id]
    return rule


def _api_calls(sim):
    """The call log without the admin API's own calls."""
    return [c for c in sim.calls.render()['recent'] if not c['path'].startswith('/_sim')]


def _ids(resources):
    return {kind: sorted(i.get('id') or i['name'] for i in items)
            for kind, items in resources.items()}


def _create_what_we_can(conn):
    """One of each resource the simulator's services serve."""
    conn.block_storage.create_volume(size=1, name='vol')
    try:
        net = conn.network.create_network(name='net')
        subnet = conn.network.create_subnet(network_id=net.id, cidr='10.1.0.0/24',
                                            ip_version=4, name='sub')
        conn.network.create_port(network_id=net.id, name='port')
        conn.network.create_security_group(name='sg')
        public = conn.network.find_network('public')
        router = conn.network.create_router(name='r', external_gateway_info={
            'network_id': public.id})
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
        conn.network.create_ip(floating_network_id=public.id)
    except openstack.exceptions.SDKException:
        pass        # Neutron not (fully) served by this build


def test_resources_lists_every_type_with_its_fields(sim, conn, sim_admin):
    _create_what_we_can(conn)
    resources = sim_admin.get('resources')
    assert set(resources) == set(LISTED)
    for kind, items in resources.items():
        for item in items:
            for field in FIELDS[kind]:
                assert field in item, (kind, field, item)
            assert not any(k.startswith('_') for k in item), (kind, item)
    assert {i['name'] for i in resources['images']} >= {
        'fedora-21-atomic-5', 'fedora-23-atomic', 'coreos', 'ubuntu-14.04',
        'cirros-0.6.2-x86_64-disk'}
    (volume,) = resources['volumes']
    assert volume['project_id'] == conn.current_project_id and volume['name'] == 'vol'


def test_calls_counts_templates_and_keeps_a_bounded_log(sim, conn):
    image_id = conn.image.find_image('coreos').id
    for _ in range(3):
        conn.image.get_image(image_id)
    calls = requests.get(f'{sim.url}/_sim/calls', timeout=10).json()
    assert calls['counts']['GET /image/v2/images/{image_id}'] >= 4     # incl. find's try
    assert calls['total'] == sum(calls['counts'].values())
    last = calls['recent'][-1]
    assert last['method'] == 'GET' and last['path'] == f'/image/v2/images/{image_id}'
    assert last['template'] == '/image/v2/images/{image_id}' and last['status'] == 200
    assert last['request_id'].startswith('req-')
    size = sim.calls.recent.maxlen
    with requests.Session() as session:
        for _ in range(size + 10):
            session.get(f'{sim.url}/identity', timeout=10)
    calls = requests.get(f'{sim.url}/_sim/calls', timeout=10).json()
    assert len(calls['recent']) == size
    assert calls['counts']['GET /identity'] >= size + 10


def test_status_fault_uses_the_services_error_body(sim, conn, sim_admin):
    list(conn.block_storage.volumes())
    rule = sim_admin.fault(method='GET', path='/volumes/detail$', status=503)
    with pytest.raises(openstack.exceptions.HttpException) as err:
        list(conn.block_storage.volumes())
    assert err.value.status_code == 503
    assert 'Injected fault by the simulator.' in str(err.value)
    assert _rule(sim, rule)['fired'] == 1
    assert list(conn.block_storage.volumes()) == []     # times defaults to 1
    # raw bodies, each in its service's shape
    sim_admin.fault(path='/image/v2/images$', status=503, times=None)
    sim_admin.fault(path='/volumes$', status=409, times=None)
    r = requests.get(f'{sim.url}/image/v2/images', timeout=10,
                     headers={'X-Auth-Token': conn.auth_token})
    assert r.status_code == 503 and r.json()['title'] == 'Service Unavailable'
    r = requests.post(sim.url + _vol_path(conn), json={'volume': {'size': 1}}, timeout=10,
                      headers={'X-Auth-Token': conn.auth_token})
    assert r.json() == {'conflictingRequest': {
        'code': 409, 'message': 'Injected fault by the simulator.'}}
    assert r.headers['X-Openstack-Request-Id']


def test_image_503_is_retried_by_the_sdk(sim, conn, sim_admin):
    """openstacksdk retries 503 for the image service (image_status_code_retries)."""
    assert conn.image.find_image('coreos')
    rule = sim_admin.fault(method='GET', path='^/image/v2/images$', status=503)
    assert [i.name for i in conn.image.images(name='coreos')] == ['coreos']
    assert _rule(sim, rule)['fired'] == 1


def test_skip_and_times(sim, conn, sim_admin):
    list(conn.block_storage.volumes())
    rule = sim_admin.fault(method='GET', path='/volumes/detail', skip=1, times=2,
                           status=500)
    outcomes = []
    for _ in range(5):
        try:
            list(conn.block_storage.volumes())
            outcomes.append('ok')
        except openstack.exceptions.HttpException as exc:
            outcomes.append(exc.status_code)
    assert outcomes == ['ok', 500, 500, 'ok', 'ok']
    state = _rule(sim, rule)
    assert (state['seen'], state['fired'], state['skip'], state['times']) == (5, 2, 1, 2)


def test_times_null_fires_until_cleared(sim, conn, sim_admin):
    list(conn.block_storage.volumes())
    rule = sim_admin.fault(method='GET', path='/volumes/detail', times=None, status=503)
    for _ in range(4):
        with pytest.raises(openstack.exceptions.HttpException):
            list(conn.block_storage.volumes())
    assert _rule(sim, rule)['fired'] == 4 and _rule(sim, rule)['times'] is None
    r = requests.delete(f'{sim.url}/_sim/faults', timeout=10)
    assert r.status_code == 204 and _faults(sim) == []
    assert list(conn.block_storage.volumes()) == []


def test_method_filter(sim, conn, sim_admin):
    sim_admin.fault(method='DELETE', path='/volumes/', status=503, times=None)
    volume = conn.block_storage.create_volume(size=1)        # POST: not matched
    assert conn.block_storage.get_volume(volume).id == volume.id
    with pytest.raises(openstack.exceptions.HttpException):
        conn.block_storage.delete_volume(volume)


def test_delay_still_answers(sim, conn, sim_admin):
    list(conn.block_storage.volumes())
    rule = sim_admin.fault(method='GET', path='/volumes/detail', delay_ms=150)
    assert list(conn.block_storage.volumes()) == []
    assert _rule(sim, rule)['fired'] == 1 and _rule(sim, rule)['delay_ms'] == 150


def test_drop_closes_the_connection_without_effect(sim, conn, sim_admin):
    list(conn.block_storage.volumes())
    rule = sim_admin.fault(method='POST', path='/volumes$', drop=True)
    with pytest.raises(keystoneauth1.exceptions.ConnectionError):
        conn.block_storage.create_volume(size=1, name='lost')
    assert sim_admin.get('resources')['volumes'] == []
    assert _rule(sim, rule)['fired'] == 1
    assert _api_calls(sim)[-1]['status'] == 'dropped'
    assert conn.block_storage.create_volume(size=1, name='kept').name == 'kept'


def test_drop_after_effect_leaves_the_effect(sim, conn, sim_admin):
    list(conn.block_storage.volumes())
    sim_admin.fault(method='POST', path='/volumes$', drop=True, after_effect=True)
    with pytest.raises(keystoneauth1.exceptions.ConnectionError):
        conn.block_storage.create_volume(size=1, name='orphan')
    (volume,) = sim_admin.get('resources')['volumes']
    assert volume['name'] == 'orphan'
    assert _api_calls(sim)[-1]['template'] == '/volume/v3/{project_id}/volumes'
    assert [v.name for v in conn.block_storage.volumes()] == ['orphan']


def test_status_after_effect(sim, conn, sim_admin):
    list(conn.block_storage.volumes())
    sim_admin.fault(method='POST', path='/volumes$', status=503, after_effect=True)
    with pytest.raises(openstack.exceptions.HttpException):
        conn.block_storage.create_volume(size=1, name='done-anyway')
    assert [v['name'] for v in sim_admin.get('resources')['volumes']] == ['done-anyway']


def test_bad_fault_rules_are_400(sim):
    for rule in ({}, {'path': '(', 'status': 503}, {'status': 200},
                 {'status': 503, 'times': 'x'}, []):
        r = requests.post(f'{sim.url}/_sim/faults', json=rule, timeout=10)
        assert r.status_code == 400, rule
        assert r.json()['error']['code'] == 400


def test_faults_are_not_applied_to_the_admin_api(sim, sim_admin):
    sim_admin.fault(path='.*', status=503, times=None)
    assert requests.get(f'{sim.url}/_sim/resources', timeout=10).status_code == 200
    assert requests.get(f'{sim.url}/identity', timeout=10).status_code == 503


def test_reset_restores_the_seed(sim, conn, sim_admin):
    seeded = sim_admin.get('resources')
    conn.block_storage.create_volume(size=1)
    image = conn.image.create_image('extra', disk_format='qcow2', container_format='bare',
                                    allow_duplicates=True)
    sim_admin.fault(path='/nothing', status=503)
    r = requests.post(f'{sim.url}/_sim/reset', timeout=10)
    assert r.status_code == 204
    after = sim_admin.get('resources')
    assert _ids(after) == _ids(seeded)
    assert image.id not in {i['id'] for i in after['images']}
    assert _faults(sim) == []
    counts = sim.calls.render()['counts']       # counters restart at the reset
    assert 'POST /volume/v3/{project_id}/volumes' not in counts
    assert counts['POST /_sim/reset'] == 1


def test_admin_api_is_loopback_only():
    assert server._is_loopback('127.0.0.1')
    assert server._is_loopback('127.5.6.7')
    assert server._is_loopback('::1')
    assert server._is_loopback('::ffff:127.0.0.1')
    assert not server._is_loopback('10.0.0.5')
    assert not server._is_loopback('192.168.1.2')
    assert not server._is_loopback('::ffff:10.0.0.5')
    assert not server._is_loopback('2001:db8::1')
    assert not server._is_loopback('not-an-address')
    assert not server._is_loopback('')
