"""Nova v2.1 in the simulator, through openstacksdk (and raw HTTP only for
headers, microversions and error bodies the SDK cannot show).

Covers every Nova rule of spec/openstack-api-reference.md section 5 and the
requests of section 2.3.
"""

import base64
import time

import pytest
import requests
from openstack import exceptions

from tests.functional.cloudsim.conftest import Raw

CIRROS = 'cirros-0.6.2-x86_64-disk'


# -- helpers -------------------------------------------------------------------
def raw(sim, conn, method, path, version=None, headers=None, **kwargs):
    """A direct compute call: ``path`` is relative to /compute/v2.1."""
    client = Raw(sim, conn, '/compute/v2.1', version and f'compute {version}')
    return client(method, path, headers=headers, **kwargs)


def fault(response):
    """The (name, body) of a Nova error response."""
    body = response.json()
    assert len(body) == 1, body
    (name, inner), = body.items()
    assert set(inner) == {'code', 'message'}, inner
    assert inner['code'] == response.status_code
    return name, inner['message']


def boot(conn, image, network=None, name='vm1', wait=True, flavor='1', **attrs):
    attrs.setdefault('networks', [{'uuid': network.id}] if network is not None else 'none')
    server = conn.compute.create_server(name=name, image_id=image.id, flavor_id=flavor,
                                        **attrs)
    if wait:
        server = conn.compute.wait_for_server(server, interval=0.05, wait=15)
    return server


def gone(conn, server):
    conn.compute.wait_for_delete(server, interval=0.05, wait=15)


def until(predicate, timeout=10.0):
    """Poll ``predicate`` (bounded): its first truthy value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError('condition not reached in time')


def ports_of(conn, server_id):
    return list(conn.network.ports(device_id=server_id))


@pytest.fixture
def image(conn):
    return conn.image.find_image(CIRROS, ignore_missing=False)


def make_network(conn, name='private', cidr='10.0.0.0/24'):
    net = conn.network.create_network(name=name)
    conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4,
                               name=f'{name}-subnet')
    return conn.network.get_network(net.id)


@pytest.fixture
def network(conn):
    return make_network(conn)


# -- versions and microversions ------------------------------------------------------
def test_version_documents(sim):
    root = requests.get(f'{sim.url}/compute/', timeout=10)
    assert root.status_code == 200
    versions = {v['id']: v for v in root.json()['versions']}
    assert versions['v2.0']['status'] == 'DEPRECATED' and versions['v2.0']['version'] == ''
    assert versions['v2.1']['status'] == 'CURRENT'
    assert versions['v2.1']['version'] == '2.96'
    assert versions['v2.1']['min_version'] == '2.1'
    doc = requests.get(f'{sim.url}/compute/v2.1', timeout=10).json()['version']
    assert doc['id'] == 'v2.1' and doc['version'] == '2.96' and doc['min_version'] == '2.1'
    assert {link['rel'] for link in doc['links']} == {'self', 'describedby'}
    assert doc['media-types'][0]['base'] == 'application/json'


@pytest.mark.parametrize('headers, expected', [
    ({}, '2.1'),
    ({'OpenStack-API-Version': 'compute 2.60'}, '2.60'),
    ({'X-OpenStack-Nova-API-Version': '2.47'}, '2.47'),
    ({'OpenStack-API-Version': 'compute 2.30',
      'X-OpenStack-Nova-API-Version': '2.47'}, '2.30'),
    ({'OpenStack-API-Version': 'volume 3.0, compute 2.5'}, '2.5'),
    ({'OpenStack-API-Version': 'compute latest'}, '2.96'),
])
def test_microversion_is_negotiated_and_echoed(sim, conn, headers, expected):
    response = raw(sim, conn, 'GET', '/flavors', headers=headers)
    assert response.status_code == 200
    assert response.headers['OpenStack-API-Version'] == f'compute {expected}'
    assert response.headers['X-OpenStack-Nova-API-Version'] == expected
    assert 'OpenStack-API-Version' in response.headers['Vary']
    assert 'X-OpenStack-Nova-API-Version' in response.headers['Vary']
    assert response.headers['X-Openstack-Request-Id'].startswith('req-')


def test_microversion_headers_on_errors_too(sim, conn):
    response = raw(sim, conn, 'GET', '/servers/nope', version='2.60')
    assert response.status_code == 404
    assert fault(response) == ('itemNotFound', 'Instance nope could not be found.')
    assert response.headers['OpenStack-API-Version'] == 'compute 2.60'
    assert response.headers['X-OpenStack-Nova-API-Version'] == '2.60'


@pytest.mark.parametrize('version', ['3.0', '2.97', '2.0', '1.1'])
def test_unsupported_microversion_is_406(sim, conn, version):
    response = raw(sim, conn, 'GET', '/flavors', version=version)
    assert response.status_code == 406
    name, message = fault(response)
    assert message == (f'Version {version} is not supported by the API. '
                       'Minimum is 2.1 and maximum is 2.96.')


def test_malformed_microversion_is_400(sim, conn):
    response = raw(sim, conn, 'GET', '/flavors', version='2.x')
    assert response.status_code == 400
    assert fault(response)[0] == 'badRequest'


def test_sdk_negotiates_per_resource(sim, conn, image):
    # Servers at 2.96 (flavor embedded since 2.47), keypairs at 2.10 (type from 2.2).
    server = boot(conn, image, wait=False)
    fetched = conn.compute.get_server(server.id)
    assert fetched.flavor.original_name == 'm1.tiny'
    assert fetched.flavor.vcpus == 1
    assert fetched.pinned_availability_zone is None
    assert conn.compute.get_keypair('testkey').type == 'ssh'
    assert conn.compute.get_flavor('1').description is None


def test_server_shape_depends_on_microversion(sim, conn, image):
    server = boot(conn, image, wait=False)
    old = raw(sim, conn, 'GET', f'/servers/{server.id}', version='2.1').json()['server']
    assert set(old['flavor']) == {'id', 'links'} and old['flavor']['id'] == '1'
    for key in ('tags', 'description', 'locked', 'trusted_image_certificates',
                'locked_reason', 'OS-EXT-SRV-ATTR:hostname', 'pinned_availability_zone',
                'server_groups'):
        assert key not in old
    mid = raw(sim, conn, 'GET', f'/servers/{server.id}', version='2.26').json()['server']
    assert mid['tags'] == [] and mid['locked'] is False and mid['description'] is None
    assert set(mid['flavor']) == {'id', 'links'}
    new = raw(sim, conn, 'GET', f'/servers/{server.id}', version='2.47').json()['server']
    assert set(new['flavor']) == {'vcpus', 'ram', 'disk', 'ephemeral', 'swap',
                                  'original_name', 'extra_specs'}
    assert 'locked_reason' not in new
    latest = raw(sim, conn, 'GET', f'/servers/{server.id}', version='2.96').json()['server']
    assert latest['pinned_availability_zone'] is None
    assert latest['server_groups'] == [] and latest['locked_reason'] is None
    assert latest['OS-EXT-SRV-ATTR:hostname'] == 'vm1'
    assert latest['trusted_image_certificates'] is None


def test_flavor_shape_depends_on_microversion(sim, conn):
    v254 = raw(sim, conn, 'GET', '/flavors/2', version='2.54').json()['flavor']
    assert 'description' not in v254 and 'extra_specs' not in v254
    assert v254['swap'] == ''                  # 0 shows as "" before 2.75
    v255 = raw(sim, conn, 'GET', '/flavors/2', version='2.55').json()['flavor']
    assert v255['description'] is None and 'extra_specs' not in v255
    v261 = raw(sim, conn, 'GET', '/flavors/2', version='2.61').json()['flavor']
    assert v261['extra_specs'] == {}
    v275 = raw(sim, conn, 'GET', '/flavors/2', version='2.75').json()['flavor']
    assert v275['swap'] == 0
    brief = raw(sim, conn, 'GET', '/flavors', version='2.61').json()['flavors'][0]
    assert set(brief) == {'id', 'name', 'links', 'description'}


def test_keypair_status_and_shape_depend_on_microversion(sim, conn):
    created = raw(sim, conn, 'POST', '/os-keypairs', version='2.1',
                  json={'keypair': {'name': 'old'}})
    assert created.status_code == 200
    assert 'type' not in created.json()['keypair']
    assert raw(sim, conn, 'DELETE', '/os-keypairs/old', version='2.1').status_code == 202
    created = raw(sim, conn, 'POST', '/os-keypairs', version='2.2',
                  json={'keypair': {'name': 'new'}})
    assert created.status_code == 201
    assert created.json()['keypair']['type'] == 'ssh'
    assert raw(sim, conn, 'DELETE', '/os-keypairs/new', version='2.2').status_code == 204
    shown = raw(sim, conn, 'GET', '/os-keypairs/testkey', version='2.1').json()['keypair']
    assert 'type' not in shown


# -- servers: create and lifecycle --------------------------------------------------
def test_create_answers_202_with_a_minimal_body_and_location(sim, conn, image, network):
    response = raw(sim, conn, 'POST', '/servers', version='2.96', json={'server': {
        'name': 'vm1', 'imageRef': image.id, 'flavorRef': '1',
        'networks': [{'uuid': network.id}]}})
    assert response.status_code == 202
    body = response.json()['server']
    assert set(body) == {'id', 'links', 'OS-DCF:diskConfig', 'security_groups', 'adminPass'}
    assert body['security_groups'] == [{'name': 'default'}]
    assert body['OS-DCF:diskConfig'] == 'MANUAL'
    self_link = next(link['href'] for link in body['links'] if link['rel'] == 'self')
    assert response.headers['Location'] == self_link
    assert self_link == f"{sim.url}/compute/v2.1/servers/{body['id']}"


def test_build_goes_through_its_task_states_to_active(sim, conn, image, network):
    sim.state.boot_seconds = 0.6
    server = boot(conn, image, network, wait=False)
    first = conn.compute.get_server(server.id)
    assert first.status == 'BUILD'
    assert first.vm_state == 'building' and first.power_state == 0
    assert first.task_state == 'scheduling'
    assert first.addresses == {}               # nova hides addresses while building
    seen = [first.task_state]
    while True:
        current = conn.compute.get_server(server.id)
        if current.status != 'BUILD':
            break
        if current.task_state != seen[-1]:
            seen.append(current.task_state)
        time.sleep(0.02)
    assert seen == [s for s in ('scheduling', 'networking', 'spawning') if s in seen]
    assert current.status == 'ACTIVE' and current.vm_state == 'active'
    assert current.task_state is None and current.power_state == 1
    assert current.launched_at
    fixed = current.addresses['private']
    assert fixed[0]['OS-EXT-IPS:type'] == 'fixed' and fixed[0]['version'] == 4
    port, = ports_of(conn, server.id)
    assert port.device_owner == 'compute:nova'
    assert fixed[0]['addr'] == port.fixed_ips[0]['ip_address']
    assert fixed[0]['OS-EXT-IPS-MAC:mac_addr'] == port.mac_address
    assert current.security_groups == [{'name': 'default'}]


def test_build_error_fault_goes_to_error(sim, conn, sim_admin, image, network):
    sim_admin.fault(method='POST', path='/compute/v2.1/servers$', build_error=True)
    server = boot(conn, image, network, wait=False)
    with pytest.raises(exceptions.ResourceFailure):
        conn.compute.wait_for_server(server, interval=0.05, wait=15)
    failed = conn.compute.get_server(server.id)
    assert failed.status == 'ERROR' and failed.vm_state == 'error'
    assert failed.fault['code'] == 500
    assert failed.fault['message'].startswith('No valid host was found.')
    assert failed.fault['created']
    assert 'details' not in failed.fault          # details of a 500 are admin-only
    assert ports_of(conn, server.id) == []
    conn.compute.delete_server(server)
    gone(conn, server)


def test_cloud_layer_create_server_waits_for_active_with_addresses(sim, conn, image,
                                                                  network):
    sim.state.boot_seconds = 0
    server = conn.create_server('vm1', image=CIRROS, flavor='m1.small', key_name='testkey',
                                network='private', wait=True, auto_ip=False, timeout=30)
    assert server.status == 'ACTIVE'
    assert server.addresses['private'][0]['OS-EXT-IPS:type'] == 'fixed'
    assert server.private_v4 == server.addresses['private'][0]['addr']
    assert server.key_name == 'testkey'
    assert conn.compute.find_server('vm1').id == server.id


def test_cloud_layer_create_server_with_auto_ip(sim, conn, image, network):
    sim.state.boot_seconds = 0
    public = conn.network.find_network('public', ignore_missing=False)
    router = conn.network.create_router(name='r1',
                                        external_gateway_info={'network_id': public.id})
    conn.network.add_interface_to_router(router, subnet_id=network.subnet_ids[0])
    server = conn.create_server('vm1', image=CIRROS, flavor='m1.small', network='private',
                                wait=True, timeout=30)
    types = sorted(a['OS-EXT-IPS:type'] for a in server.addresses['private'])
    assert types == ['fixed', 'floating']
    floating = next(a['addr'] for a in server.addresses['private']
                    if a['OS-EXT-IPS:type'] == 'floating')
    assert floating.startswith('172.24.4.')
    assert conn.get_server('vm1').public_v4 == floating


def test_cloud_layer_create_server_error_raises(sim, conn, sim_admin, image, network):
    sim.state.boot_seconds = 0
    sim_admin.fault(method='POST', path='/compute/v2.1/servers$', build_error=True)
    with pytest.raises(exceptions.SDKException, match='No valid host was found'):
        conn.create_server('vm1', image=CIRROS, flavor='m1.tiny', network='private',
                           wait=True, auto_ip=False, timeout=30)


def test_addresses_include_floating_ips(sim, conn, image, network):
    public = conn.network.find_network('public', ignore_missing=False)
    router = conn.network.create_router(name='r1',
                                        external_gateway_info={'network_id': public.id})
    conn.network.add_interface_to_router(router, subnet_id=network.subnet_ids[0])
    server = boot(conn, image, network)
    port, = ports_of(conn, server.id)
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    addresses = conn.compute.get_server(server.id).addresses['private']
    floating = [a for a in addresses if a['OS-EXT-IPS:type'] == 'floating']
    assert [a['addr'] for a in floating] == [fip.floating_ip_address]
    conn.network.delete_ip(fip)


# -- servers: create errors ----------------------------------------------------------
def create_raw(sim, conn, version='2.96', **server):
    return raw(sim, conn, 'POST', '/servers', version=version, json={'server': server})


def test_create_validation_errors_are_400(sim, conn, image, network):
    base = {'name': 'vm1', 'imageRef': image.id, 'flavorRef': '1',
            'networks': [{'uuid': network.id}]}
    missing = '6d3c1b5a-0000-4000-8000-000000000000'
    cases = [
        ({'flavorRef': '99'}, 'Flavor 99 could not be found.'),
        ({'imageRef': missing}, 'Can not find requested image'),
        ({'networks': [{'uuid': missing}]}, f'Network {missing} could not be found.'),
        ({'networks': [{'port': missing}]}, f'Port id {missing} could not be found.'),
        ({'security_groups': [{'name': 'nope'}]}, 'Security group nope not found.'),
        ({'key_name': 'nope'}, 'Invalid key_name provided.'),
        ({'name': ' padded'}, "An invalid 'name' value was provided. The name must be: "
                              'printable characters. Can not start or end with '
                              'whitespace.'),
        ({'user_data': 'not base64!'}, "is not a 'base64'"),
        ({'networks': 'everything'}, 'is not valid under any of the given schemas'),
        ({'networks': [{'uuid': 'not-a-uuid'}]}, "is not a 'uuid'"),
        ({'bogus': 1}, "Additional properties are not allowed ('bogus' was unexpected)"),
    ]
    for change, message in cases:
        response = create_raw(sim, conn, **{**base, **change})
        assert response.status_code == 400, (change, response.text)
        name, text = fault(response)
        assert name == 'badRequest'
        assert message in text, (change, text)
    no_networks = {k: v for k, v in base.items() if k != 'networks'}
    response = create_raw(sim, conn, **no_networks)
    assert response.status_code == 400
    assert "'networks' is a required property" in fault(response)[1]
    # Before 2.37 networks was optional.
    assert create_raw(sim, conn, version='2.36', **no_networks).status_code == 202
    response = create_raw(sim, conn, **{**base, 'name': ''})
    assert response.status_code == 400
    assert len(list(conn.compute.servers())) == 1


def test_create_errors_through_the_sdk(sim, conn, image, network):
    with pytest.raises(exceptions.BadRequestException, match='Invalid key_name provided'):
        conn.compute.create_server(name='vm1', image_id=image.id, flavor_id='1',
                                   networks=[{'uuid': network.id}], key_name='missing')
    with pytest.raises(exceptions.BadRequestException, match='Flavor 42 could not be found'):
        conn.compute.create_server(name='vm1', image_id=image.id, flavor_id='42',
                                   networks='none')
    assert list(conn.compute.servers()) == []


def test_image_must_be_active_and_fit_the_flavor(sim, conn, admin_conn):
    queued = conn.image.create_image(name='empty', disk_format='qcow2',
                                     container_format='bare')
    response = create_raw(sim, conn, name='vm1', imageRef=queued.id, flavorRef='1',
                          networks='none')
    assert response.status_code == 400
    assert fault(response)[1] == f'Image {queued.id} is not active.'


def test_key_name_belongs_to_the_caller(sim, conn, admin_conn, image):
    admin_conn.compute.create_keypair(name='adminkey')
    with pytest.raises(exceptions.BadRequestException, match='Invalid key_name provided'):
        boot(conn, image, key_name='adminkey', wait=False)
    assert boot(conn, image, key_name='testkey', wait=False).id


def test_port_already_in_use_is_409(sim, conn, image, network):
    port = conn.network.create_port(network_id=network.id, name='p1')
    first = boot(conn, image, networks=[{'port': port.id}])
    assert conn.network.get_port(port.id).device_id == first.id
    response = create_raw(sim, conn, name='vm2', imageRef=image.id, flavorRef='1',
                          networks=[{'port': port.id}])
    assert response.status_code == 409
    assert fault(response) == ('conflictingRequest', f'Port {port.id} is still in use.')
    used = conn.network.create_port(network_id=network.id, device_id='something-else')
    with pytest.raises(exceptions.ConflictException, match='is still in use'):
        boot(conn, image, networks=[{'port': used.id}], wait=False)


def test_auto_with_several_networks_is_409_network_ambiguous(sim, conn, image, network):
    # One network: "auto" picks it.
    server = boot(conn, image, networks='auto')
    assert list(server.addresses) == ['private']
    make_network(conn, 'second', '10.1.0.0/24')
    response = create_raw(sim, conn, name='vm2', imageRef=image.id, flavorRef='1',
                          networks='auto')
    assert response.status_code == 409
    assert fault(response) == ('conflictingRequest', 'Multiple possible networks found, '
                                                     'use a Network ID to be more specific.')
    with pytest.raises(exceptions.ConflictException):
        boot(conn, image, networks='auto', wait=False)


def test_auto_without_any_network_cannot_auto_allocate(sim, conn, image):
    response = create_raw(sim, conn, name='vm1', imageRef=image.id, flavorRef='1',
                          networks='auto')
    assert response.status_code == 400
    assert 'Unable to automatically allocate a network' in fault(response)[1]


def test_external_network_attach_is_403_for_non_admin(sim, conn, admin_conn, image):
    public = conn.network.find_network('public', ignore_missing=False)
    response = create_raw(sim, conn, name='vm1', imageRef=image.id, flavorRef='1',
                          networks=[{'uuid': public.id}])
    assert response.status_code == 403
    assert fault(response) == ('forbidden', 'It is not allowed to create an interface on '
                                            f'external network {public.id}')
    server = boot(admin_conn, image, public)
    assert server.addresses['public'][0]['addr'].startswith('172.24.4.')


def test_instance_quota_is_403(sim, conn, image):
    for index in range(10):
        boot(conn, image, name=f'vm{index}', wait=False)
    response = create_raw(sim, conn, name='vm10', imageRef=image.id, flavorRef='1',
                          networks='none')
    assert response.status_code == 403
    assert fault(response) == ('forbidden', 'Quota exceeded for instances: Requested 1, '
                                            'but already used 10 of 10 instances')
    with pytest.raises(exceptions.ForbiddenException):
        boot(conn, image, name='vm10', wait=False)


def test_cores_and_ram_quota_are_403(sim, conn, admin_conn, image):
    project = conn.current_project_id
    admin_conn.compute.update_quota_set(project, cores=2, ram=4096)
    boot(conn, image, flavor='3', wait=False)                 # m1.medium: 2 cores, 4096
    response = create_raw(sim, conn, name='vm2', imageRef=image.id, flavorRef='1',
                          networks='none')
    assert response.status_code == 403
    assert fault(response)[1] == ('Quota exceeded for cores, ram: Requested 1, 512, but '
                                  'already used 2, 4096 of 2, 4096 cores, ram')


def test_metadata_quota_on_create_is_403(sim, conn, image):
    metadata = {f'k{i}': 'v' for i in range(129)}
    response = create_raw(sim, conn, name='vm1', imageRef=image.id, flavorRef='1',
                          networks='none', metadata=metadata)
    assert response.status_code == 403
    assert fault(response)[1] == 'Maximum number of metadata items exceeds 128'


# -- servers: ports and delete --------------------------------------------------------------
def test_nova_created_port_gets_requested_security_groups_and_is_deleted(
        sim, conn, image, network):
    web = conn.network.create_security_group(name='web')
    server = boot(conn, image, network, security_groups=[{'name': 'web'}])
    port, = ports_of(conn, server.id)
    assert port.security_group_ids == [web.id]
    assert port.device_owner == 'compute:nova' and port.device_id == server.id
    assert conn.compute.get_server(server.id).security_groups == [{'name': 'web'}]
    conn.compute.delete_server(server)
    gone(conn, server)
    assert conn.network.find_port(port.id) is None


def test_security_groups_by_id_and_ambiguous_names(sim, conn, image, network):
    web = conn.network.create_security_group(name='web')
    server = boot(conn, image, network, security_groups=[{'name': web.id}])
    assert ports_of(conn, server.id)[0].security_group_ids == [web.id]
    conn.network.create_security_group(name='web')
    response = create_raw(sim, conn, name='vm2', imageRef=image.id, flavorRef='1',
                          networks=[{'uuid': network.id}], security_groups=[{'name': 'web'}])
    assert response.status_code == 409
    assert fault(response)[1] == ("Multiple security groups found matching 'web'. Use an "
                                  'ID to be more specific.')


def test_pre_existing_port_keeps_its_groups_and_is_unbound_on_delete(
        sim, conn, image, network):
    own = conn.network.create_security_group(name='own')
    conn.network.create_security_group(name='web')
    port = conn.network.create_port(network_id=network.id, name='mine',
                                    security_group_ids=[own.id])
    server = boot(conn, image, networks=[{'port': port.id}],
                  security_groups=[{'name': 'web'}])
    bound = conn.network.get_port(port.id)
    assert bound.device_id == server.id and bound.device_owner == 'compute:nova'
    assert bound.security_group_ids == [own.id]        # nova leaves them alone
    assert server.addresses['private'][0]['addr'] == port.fixed_ips[0]['ip_address']
    conn.compute.delete_server(server)
    gone(conn, server)
    kept = conn.network.get_port(port.id)
    assert kept.device_id == '' and kept.device_owner == ''


def test_delete_shows_deleting_then_404(sim, conn, image, network):
    server = boot(conn, image, network)
    sim.state.boot_seconds = 2                 # so "deleting" lasts 0.5 s
    response = raw(sim, conn, 'DELETE', f'/servers/{server.id}', version='2.96')
    assert response.status_code == 204 and response.content == b''
    deleting = conn.compute.get_server(server.id)
    assert deleting.task_state == 'deleting'
    assert ports_of(conn, server.id)            # cleaned up when the server goes
    gone(conn, server)
    with pytest.raises(exceptions.NotFoundException):
        conn.compute.get_server(server.id)
    assert ports_of(conn, server.id) == []


def test_delete_during_build(sim, conn, sim_admin, image, network):
    server = boot(conn, image, network, wait=False)
    conn.compute.delete_server(server)
    gone(conn, server)
    assert ports_of(conn, server.id) == []
    assert sim_admin.get('resources')['servers'] == []


def test_locked_server_cannot_be_deleted(sim, conn, admin_conn, image):
    server = boot(conn, image)
    conn.compute.lock_server(server)
    assert conn.compute.get_server(server.id).is_locked is True
    response = raw(sim, conn, 'DELETE', f'/servers/{server.id}')
    assert response.status_code == 409
    assert fault(response) == ('conflictingRequest', f'Instance {server.id} is locked')
    with pytest.raises(exceptions.ConflictException):
        conn.compute.delete_server(server)
    conn.compute.unlock_server(server)
    conn.compute.delete_server(server)
    gone(conn, server)
    other = boot(conn, image, name='vm2')
    conn.compute.lock_server(other, locked_reason='maintenance')
    assert conn.compute.get_server(other.id).locked_reason == 'maintenance'
    admin_conn.compute.delete_server(other.id)         # an admin may
    gone(conn, other)


def test_admin_lock_cannot_be_lifted_by_the_owner(sim, conn, admin_conn, image):
    server = boot(conn, image)
    admin_conn.compute.lock_server(server.id)
    with pytest.raises(exceptions.ForbiddenException):
        conn.compute.unlock_server(server)
    admin_conn.compute.unlock_server(server.id)


def test_names_need_not_be_unique(sim, conn, image):
    first = boot(conn, image, name='same', wait=False)
    second = boot(conn, image, name='same', wait=False)
    assert first.id != second.id
    with pytest.raises(exceptions.DuplicateResource):
        conn.compute.find_server('same')


def test_stop_and_start(sim, conn, image):
    server = boot(conn, image)
    conn.compute.stop_server(server)
    stopped = conn.compute.wait_for_server(server, status='SHUTOFF', interval=0.05, wait=10)
    assert stopped.power_state == 4 and stopped.vm_state == 'stopped'
    with pytest.raises(exceptions.ConflictException, match="Cannot 'stop' instance"):
        conn.compute.stop_server(server)
    conn.compute.start_server(server)
    assert conn.compute.wait_for_server(server, interval=0.05, wait=10).power_state == 1


# -- servers: read, list, update -----------------------------------------------------
def test_admin_only_attributes(sim, conn, admin_conn, image):
    user_data = base64.b64encode(b'#cloud-config\n').decode()
    server = boot(conn, image, user_data=user_data)
    mine = raw(sim, conn, 'GET', f'/servers/{server.id}', version='2.96').json()['server']
    assert not any(k.startswith('OS-EXT-SRV-ATTR:') and k != 'OS-EXT-SRV-ATTR:hostname'
                   for k in mine)
    assert 'host_status' not in mine
    seen = raw(sim, admin_conn, 'GET', f'/servers/{server.id}',
               version='2.96').json()['server']
    assert seen['OS-EXT-SRV-ATTR:host'] == 'sim-compute'
    assert seen['OS-EXT-SRV-ATTR:user_data'] == user_data
    assert seen['OS-EXT-SRV-ATTR:instance_name'].startswith('instance-')
    assert seen['host_status'] == 'UP'
    assert admin_conn.compute.get_server(server.id).user_data == user_data
    old = raw(sim, admin_conn, 'GET', f'/servers/{server.id}', version='2.1').json()
    assert 'OS-EXT-SRV-ATTR:user_data' not in old['server']          # 2.3+
    assert old['server']['OS-EXT-SRV-ATTR:host'] == 'sim-compute'
    assert conn.compute.get_server(server.id).user_data is None
    assert mine['hostId'] == seen['hostId'] != ''
    assert mine['OS-EXT-STS:vm_state'] == 'active'


def test_server_detail_fields(sim, conn, image, network):
    server = boot(conn, image, network, key_name='testkey', metadata={'role': 'master'},
                  description='the master')
    got = conn.compute.get_server(server.id)
    assert got.key_name == 'testkey' and got.metadata == {'role': 'master'}
    assert got.description == 'the master'
    assert got.image.id == image.id
    assert got.availability_zone == 'nova'
    assert got.project_id == conn.current_project_id
    assert got.user_id == conn.current_user_id
    assert got.created_at and got.updated_at
    assert got.attached_volumes == []
    assert got.has_config_drive in ('', False, None)
    assert got.access_ipv4 == '' and got.progress == 0


def test_list_filters_pagination_and_find(sim, conn, image):
    for name in ('vm1', 'vm10', 'vm2', 'other'):
        boot(conn, image, name=name, wait=False)
    names = sorted(s.name for s in conn.compute.servers(name='vm1'))
    assert names == ['vm1', 'vm10']                  # nova's name filter is a regex
    assert sorted(s.name for s in conn.compute.servers(name='^vm')) == ['vm1', 'vm10',
                                                                         'vm2']
    assert conn.compute.find_server('vm1').name == 'vm1'
    brief = raw(sim, conn, 'GET', '/servers').json()['servers']
    assert {tuple(sorted(s)) for s in brief} == {('id', 'links', 'name')}
    assert len(list(conn.compute.servers(details=False))) == 4
    page = raw(sim, conn, 'GET', '/servers/detail?limit=2').json()
    assert len(page['servers']) == 2
    assert page['servers_links'][0]['rel'] == 'next'
    assert 'marker=' + page['servers'][1]['id'] in page['servers_links'][0]['href']
    assert len(list(conn.compute.servers(limit=2))) == 4
    response = raw(sim, conn, 'GET', '/servers/detail?marker=nope')
    assert response.status_code == 400
    assert fault(response)[1] == 'marker [nope] not found'
    until(lambda: all(s.status == 'ACTIVE' for s in conn.compute.servers()))
    assert len(list(conn.compute.servers(status='ACTIVE'))) == 4
    assert list(conn.compute.servers(status='ERROR')) == []
    response = raw(sim, conn, 'GET', '/servers/detail?status=BOGUS', version='2.96')
    assert response.status_code == 400 and fault(response)[1] == 'Invalid status value'
    # Newest first, as nova sorts by default.
    listed = [s.name for s in conn.compute.servers()]
    assert listed == ['other', 'vm2', 'vm10', 'vm1']


def test_changes_since_filter(sim, conn, image):
    boot(conn, image, name='vm1', wait=False)
    past, future = '2000-01-01T00:00:00Z', '2099-01-01T00:00:00Z'
    assert [s.name for s in conn.compute.servers(changes_since=past)] == ['vm1']
    assert list(conn.compute.servers(changes_since=future)) == []
    response = raw(sim, conn, 'GET', '/servers/detail?changes-since=yesterday')
    assert response.status_code == 400


def test_list_is_per_project_unless_admin_asks_for_all(sim, conn, admin_conn, image):
    boot(conn, image, name='demo-vm', wait=False)
    boot(admin_conn, image, name='admin-vm', wait=False)
    assert [s.name for s in conn.compute.servers()] == ['demo-vm']
    assert [s.name for s in admin_conn.compute.servers()] == ['admin-vm']
    assert sorted(s.name for s in admin_conn.compute.servers(all_projects=True)) == [
        'admin-vm', 'demo-vm']
    response = raw(sim, conn, 'GET', '/servers/detail?all_tenants=1')
    assert response.status_code == 403
    mine = conn.compute.find_server('demo-vm')
    other = admin_conn.compute.find_server('admin-vm')
    with pytest.raises(exceptions.NotFoundException):
        conn.compute.get_server(other.id)
    assert admin_conn.compute.get_server(mine.id).name == 'demo-vm'


def test_unknown_query_parameters_are_400_from_275(sim, conn):
    response = raw(sim, conn, 'GET', '/servers/detail?bogus=1', version='2.96')
    assert response.status_code == 400
    assert 'Additional properties are not allowed' in fault(response)[1]
    assert raw(sim, conn, 'GET', '/servers/detail?bogus=1',
               version='2.74').status_code == 200


def test_update_name_and_description(sim, conn, image):
    server = boot(conn, image)
    updated = conn.compute.update_server(server, name='renamed', description='desc')
    assert updated.name == 'renamed' and updated.description == 'desc'
    assert conn.compute.get_server(server.id).name == 'renamed'
    response = raw(sim, conn, 'PUT', f'/servers/{server.id}', version='2.96',
                   json={'server': {'name': ''}})
    assert response.status_code == 400
    old = raw(sim, conn, 'PUT', f'/servers/{server.id}', version='2.74',
              json={'server': {'name': 'x'}}).json()['server']
    assert 'OS-EXT-STS:vm_state' not in old and 'key_name' not in old
    assert old['name'] == 'x'


# -- servers: metadata and tags ------------------------------------------------------
def test_server_metadata(sim, conn, image):
    server = boot(conn, image, metadata={'a': '1'})
    conn.compute.set_server_metadata(server, b='2')
    assert conn.compute.fetch_server_metadata(server).metadata == {'a': '1', 'b': '2'}
    conn.compute.delete_server_metadata(server, ['a'])
    assert conn.compute.fetch_server_metadata(server).metadata == {'b': '2'}
    base = f'/servers/{server.id}/metadata'
    assert raw(sim, conn, 'GET', base + '/b').json() == {'meta': {'b': '2'}}
    put = raw(sim, conn, 'PUT', base + '/c', json={'meta': {'c': '3'}})
    assert put.status_code == 200 and put.json() == {'meta': {'c': '3'}}
    mismatch = raw(sim, conn, 'PUT', base + '/c', json={'meta': {'d': '4'}})
    assert mismatch.status_code == 400
    assert fault(mismatch)[1] == 'Request body and URI mismatch'
    too_many = raw(sim, conn, 'PUT', base + '/c', json={'meta': {'c': '1', 'd': '2'}})
    assert fault(too_many)[1] == 'Request body contains too many items'
    replaced = raw(sim, conn, 'PUT', base, json={'metadata': {'only': 'this'}})
    assert replaced.json() == {'metadata': {'only': 'this'}}
    missing = raw(sim, conn, 'GET', base + '/nope')
    assert missing.status_code == 404
    assert fault(missing) == ('itemNotFound', 'Metadata item was not found')
    assert raw(sim, conn, 'DELETE', base + '/only').status_code == 204
    over = raw(sim, conn, 'POST', base, json={'metadata': {f'k{i}': 'v'
                                                           for i in range(129)}})
    assert over.status_code == 403


def test_metadata_change_while_building_is_409(sim, conn, image):
    sim.state.boot_seconds = 5
    server = boot(conn, image, wait=False)
    with pytest.raises(exceptions.ConflictException,
                       match=f"Cannot 'update metadata' instance {server.id} while it "
                             'is in vm_state building'):
        conn.compute.set_server_metadata(server, a='1')


def test_server_tags(sim, conn, image):
    server = boot(conn, image, tags=['boot'])
    assert conn.compute.get_server(server.id).tags == ['boot']
    server.add_tag(conn.compute, 'a')
    server.set_tags(conn.compute, ['x', 'y'])
    assert server.fetch_tags(conn.compute).tags == ['x', 'y']
    server.check_tag(conn.compute, 'x')
    with pytest.raises(exceptions.NotFoundException):
        server.check_tag(conn.compute, 'nope')
    server.remove_tag(conn.compute, 'x')
    assert conn.compute.get_server(server.id).tags == ['y']
    base = f'/servers/{server.id}/tags'
    assert raw(sim, conn, 'PUT', base + '/y', version='2.26').status_code == 204
    added = raw(sim, conn, 'PUT', base + '/z', version='2.26')
    assert added.status_code == 201 and added.headers['Location'].endswith(base + '/z')
    assert raw(sim, conn, 'PUT', base + '/a,b', version='2.26').status_code == 400
    assert raw(sim, conn, 'GET', base, version='2.25').status_code == 404
    assert raw(sim, conn, 'DELETE', base + '/nope', version='2.26').status_code == 404
    boot(conn, image, name='vm2', tags=['y', 'other'])
    assert sorted(s.name for s in conn.compute.servers(tags='y')) == ['vm1', 'vm2']
    assert [s.name for s in conn.compute.servers(tags='y,z')] == ['vm1']
    assert [s.name for s in conn.compute.servers(any_tags='other,z')] != []
    assert [s.name for s in conn.compute.servers(not_tags='other')] == ['vm1']
    server.remove_all_tags(conn.compute)
    assert conn.compute.get_server(server.id).tags == []
    too_many = raw(sim, conn, 'PUT', base, version='2.26',
                   json={'tags': [f't{i}' for i in range(51)]})
    assert too_many.status_code == 400


def test_tags_while_building_are_409(sim, conn, image):
    sim.state.boot_seconds = 5
    server = boot(conn, image, wait=False)
    response = raw(sim, conn, 'PUT', f'/servers/{server.id}/tags/a', version='2.26')
    assert response.status_code == 409
    assert fault(response)[1] == (f"Cannot 'update tag' instance {server.id} while it is "
                                  'in vm_state building')


# -- volume attachments ---------------------------------------------------------------
def wait_volume(conn, volume, status):
    return conn.block_storage.wait_for_status(volume, status, failures=['error'],
                                              interval=0.02, wait=15)


def make_volume(conn, size=1):
    return wait_volume(conn, conn.block_storage.create_volume(size=size, name='data'),
                       'available')


def test_volume_attach_and_detach(sim, conn, image):
    server = boot(conn, image)
    volume = make_volume(conn)
    attachment = conn.compute.create_volume_attachment(server, volume_id=volume.id)
    assert attachment.volume_id == volume.id and attachment.device == '/dev/vdb'
    in_use = wait_volume(conn, volume, 'in-use')
    assert in_use.attachments[0]['server_id'] == server.id
    listed = list(conn.compute.volume_attachments(server))
    assert [a.volume_id for a in listed] == [volume.id]
    assert listed[0].attachment_id and listed[0].bdm_id
    assert conn.compute.get_server(server.id).attached_volumes[0].id == volume.id
    again = raw(sim, conn, 'POST', f'/servers/{server.id}/os-volume_attachments',
                json={'volumeAttachment': {'volumeId': volume.id}})
    assert again.status_code == 400
    other = boot(conn, image, name='vm2')
    busy = raw(sim, conn, 'POST', f'/servers/{other.id}/os-volume_attachments',
               json={'volumeAttachment': {'volumeId': volume.id}})
    assert busy.status_code == 400
    assert "status must be 'available'" in fault(busy)[1]
    conn.compute.delete_volume_attachment(server, volume.id)
    detached = wait_volume(conn, volume, 'available')
    assert detached.attachments == []
    assert list(conn.compute.volume_attachments(server)) == []
    missing = raw(sim, conn, 'DELETE',
                  f'/servers/{server.id}/os-volume_attachments/{volume.id}')
    assert missing.status_code == 404


def test_volume_of_another_project_is_404(sim, conn, admin_conn, image):
    server = boot(conn, image)
    theirs = make_volume(admin_conn)
    response = raw(sim, conn, 'POST', f'/servers/{server.id}/os-volume_attachments',
                   json={'volumeAttachment': {'volumeId': theirs.id}})
    assert response.status_code == 404
    assert fault(response) == ('itemNotFound', f'Volume {theirs.id} could not be found.')


def test_attach_while_building_is_409(sim, conn, image):
    sim.state.boot_seconds = 5
    server = boot(conn, image, wait=False)
    sim.state.boot_seconds = 0.2
    volume = make_volume(conn)
    response = raw(sim, conn, 'POST', f'/servers/{server.id}/os-volume_attachments',
                   json={'volumeAttachment': {'volumeId': volume.id}})
    assert response.status_code == 409


def test_server_delete_detaches_volumes(sim, conn, image):
    server = boot(conn, image)
    volume = make_volume(conn)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    wait_volume(conn, volume, 'in-use')
    conn.compute.delete_server(server)
    gone(conn, server)
    freed = conn.block_storage.get_volume(volume.id)
    assert freed.status == 'available' and freed.attachments == []


# -- flavors -----------------------------------------------------------------------
def test_seeded_flavors_have_novas_classic_sizes(sim, conn):
    sizes = {f.name: (f.id, f.ram, f.vcpus, f.disk) for f in conn.compute.flavors()}
    assert sizes == {'m1.tiny': ('1', 512, 1, 1), 'm1.small': ('2', 2048, 1, 20),
                     'm1.medium': ('3', 4096, 2, 40), 'm1.large': ('4', 8192, 4, 80)}
    assert conn.compute.get_flavor('2').name == 'm1.small'


def test_find_flavor_by_name_goes_404_then_list(sim, conn, sim_admin):
    flavor = conn.compute.find_flavor('m1.small', ignore_missing=False)
    assert flavor.id == '2'
    calls = sim_admin.get('calls')
    assert calls['counts']['GET /compute/v2.1/flavors/{flavor_id}'] == 1
    assert calls['counts']['GET /compute/v2.1/flavors/detail'] == 1
    recent = [(c['path'], c['status']) for c in calls['recent'] if 'flavors' in c['path']]
    assert recent == [('/compute/v2.1/flavors/m1.small', 404),
                      ('/compute/v2.1/flavors/detail', 200)]
    assert conn.compute.find_flavor('2').name == 'm1.small'
    assert conn.compute.find_flavor('m1.huge') is None


def test_is_public_filter(sim, conn, admin_conn):
    admin_conn.compute.create_flavor(name='private', ram=256, vcpus=1, disk=1, id='99',
                                     is_public=False)
    everything = raw(sim, admin_conn, 'GET', '/flavors/detail?is_public=None').json()
    assert {f['id'] for f in everything['flavors']} == {'1', '2', '3', '4', '99'}
    public = raw(sim, admin_conn, 'GET', '/flavors/detail').json()
    assert {f['id'] for f in public['flavors']} == {'1', '2', '3', '4'}
    private = raw(sim, admin_conn, 'GET', '/flavors?is_public=false').json()
    assert [f['id'] for f in private['flavors']] == ['99']
    bad = raw(sim, admin_conn, 'GET', '/flavors?is_public=maybe')
    assert bad.status_code == 400
    # Non-admins always see the public ones only, whatever they ask.
    demo = raw(sim, conn, 'GET', '/flavors/detail?is_public=None').json()
    assert {f['id'] for f in demo['flavors']} == {'1', '2', '3', '4'}
    assert raw(sim, conn, 'GET', '/flavors/99').status_code == 404
    with pytest.raises(exceptions.ForbiddenException):
        conn.compute.create_flavor(name='mine', ram=256, vcpus=1, disk=1)


def test_flavor_filters_pagination_and_extra_specs(sim, conn, admin_conn):
    big = raw(sim, conn, 'GET', '/flavors?minRam=4096').json()['flavors']
    assert [f['id'] for f in big] == ['3', '4']
    page = raw(sim, conn, 'GET', '/flavors?limit=2').json()
    assert [f['id'] for f in page['flavors']] == ['1', '2']
    assert 'marker=2' in page['flavors_links'][0]['href']
    assert raw(sim, conn, 'GET', '/flavors?marker=zz').status_code == 400
    assert raw(sim, conn, 'GET', '/flavors/1/os-extra_specs').json() == {'extra_specs': {}}
    admin_conn.compute.create_flavor_extra_specs('1', {'hw:cpu_policy': 'shared'})
    assert conn.compute.fetch_flavor_extra_specs('1').extra_specs == {
        'hw:cpu_policy': 'shared'}
    missing = raw(sim, conn, 'GET', '/flavors/1/os-extra_specs/nope')
    assert missing.status_code == 404
    assert raw(sim, conn, 'GET', '/flavors/nope').json() == {
        'itemNotFound': {'code': 404, 'message': 'Flavor nope could not be found.'}}


# -- keypairs ------------------------------------------------------------------------
def test_seeded_testkey(sim, conn):
    key = conn.compute.find_keypair('testkey', ignore_missing=False)
    assert key.public_key.startswith('ssh-rsa AAAA')
    assert len(key.fingerprint.split(':')) == 16
    shown = raw(sim, conn, 'GET', '/os-keypairs/testkey', version='2.10').json()['keypair']
    assert {'id', 'created_at', 'user_id', 'deleted', 'type'} <= set(shown)
    assert shown['user_id'] == conn.current_user_id


def test_generate_and_import_keypairs(sim, conn):
    generated = conn.compute.create_keypair(name='gen')
    assert generated.private_key.startswith('-----BEGIN RSA PRIVATE KEY-----')
    assert generated.public_key.startswith('ssh-rsa ')
    assert generated.fingerprint and generated.user_id == conn.current_user_id
    imported = conn.compute.create_keypair(name='imp', public_key=generated.public_key)
    assert imported.private_key is None
    assert imported.fingerprint == generated.fingerprint
    assert sorted(k.name for k in conn.compute.keypairs()) == ['gen', 'imp', 'testkey']
    listing = raw(sim, conn, 'GET', '/os-keypairs', version='2.10').json()
    assert set(listing) == {'keypairs'}
    assert all(set(item) == {'keypair'} for item in listing['keypairs'])
    assert set(listing['keypairs'][0]['keypair']) == {'name', 'public_key', 'fingerprint',
                                                      'type'}
    conn.compute.delete_keypair('gen', ignore_missing=False)
    assert conn.compute.find_keypair('gen') is None
    with pytest.raises(exceptions.NotFoundException):
        conn.compute.delete_keypair('gen', ignore_missing=False)


def test_keypair_errors(sim, conn, admin_conn):
    duplicate = raw(sim, conn, 'POST', '/os-keypairs', version='2.10',
                    json={'keypair': {'name': 'testkey'}})
    assert duplicate.status_code == 409
    assert fault(duplicate) == ('conflictingRequest', "Key pair 'testkey' already exists.")
    with pytest.raises(exceptions.ConflictException):
        conn.compute.create_keypair(name='testkey', public_key=SAMPLE_KEY)
    bad_name = raw(sim, conn, 'POST', '/os-keypairs', version='2.10',
                   json={'keypair': {'name': 'bad/name'}})
    assert bad_name.status_code == 400
    bad_key = raw(sim, conn, 'POST', '/os-keypairs', version='2.10',
                  json={'keypair': {'name': 'k', 'public_key': 'ssh-rsa garbage!'}})
    assert bad_key.status_code == 400
    assert fault(bad_key)[1] == 'Keypair data is invalid: failed to generate fingerprint'
    admin_conn.compute.update_quota_set(conn.current_project_id, key_pairs=2)
    conn.compute.create_keypair(name='second', public_key=SAMPLE_KEY)
    over = raw(sim, conn, 'POST', '/os-keypairs', version='2.10',
               json={'keypair': {'name': 'third', 'public_key': SAMPLE_KEY}})
    assert over.status_code == 403
    assert fault(over) == ('forbidden', 'Quota exceeded, too many key pairs.')


def test_keypairs_are_per_user(sim, conn, admin_conn):
    assert admin_conn.compute.find_keypair('testkey') is None
    admin_conn.compute.create_keypair(name='testkey', public_key=SAMPLE_KEY)
    assert admin_conn.compute.find_keypair('testkey').public_key == SAMPLE_KEY
    assert conn.compute.find_keypair('testkey').public_key != SAMPLE_KEY


SAMPLE_KEY = ('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDx8nkQv/zgGgB4rMYmIf+6A4l6Rr+o/6lHBQdW5a'
              'Yd44bd8JttDCE/F/pNRr0lRE+PiqSPO8nDPHw0010JeMH9gYgnnFlyY3/OcJ02RhIPyyxYpv9Fh'
              'Y+2YiUkpwFOcLImyrxEsYXpD/0d3ac30bNH6Sw9JD9UZHYcpSxsIbECHw== Generated-by-Nova')


# -- quotas, limits, zones -------------------------------------------------------------
def test_quota_sets(sim, conn, admin_conn, image):
    project = conn.current_project_id
    quotas = conn.compute.get_quota_set(project)
    assert (quotas.instances, quotas.cores, quotas.ram, quotas.key_pairs,
            quotas.metadata_items) == (10, 20, 51200, 100, 128)
    boot(conn, image, wait=False)
    usage = raw(sim, conn, 'GET', f'/os-quota-sets/{project}/detail').json()['quota_set']
    assert usage['instances'] == {'in_use': 1, 'limit': 10, 'reserved': 0}
    assert usage['cores']['in_use'] == 1 and usage['ram']['in_use'] == 512
    defaults = raw(sim, conn, 'GET', f'/os-quota-sets/{project}/defaults').json()
    assert defaults['quota_set']['instances'] == 10
    with pytest.raises(exceptions.ForbiddenException):
        conn.compute.update_quota_set(project, instances=50)
    admin_conn.compute.update_quota_set(project, instances=5)
    assert conn.compute.get_quota_set(project).instances == 5
    too_low = raw(sim, admin_conn, 'PUT', f'/os-quota-sets/{project}',
                  json={'quota_set': {'instances': 0}})
    assert too_low.status_code == 400
    admin_conn.compute.revert_quota_set(project)
    assert conn.compute.get_quota_set(project).instances == 10
    other = admin_conn.current_project_id
    assert raw(sim, conn, 'GET', f'/os-quota-sets/{other}').status_code == 403


def test_limits(sim, conn, image):
    boot(conn, image, flavor='2', wait=False)
    absolute = conn.compute.get_limits().absolute
    assert absolute.instances == 10 and absolute.instances_used == 1
    assert absolute.total_cores == 20 and absolute.total_cores_used == 1
    assert absolute.total_ram == 51200 and absolute.total_ram_used == 2048
    assert absolute.keypairs == 100
    body = raw(sim, conn, 'GET', '/limits', version='2.57').json()['limits']
    assert body['rate'] == []
    assert 'maxPersonality' not in body['absolute']
    assert 'maxImageMeta' in raw(sim, conn, 'GET', '/limits',
                                 version='2.38').json()['limits']['absolute']


def test_availability_zones_and_extensions(sim, conn):
    zones = list(conn.compute.availability_zones())
    assert [(z.name, z.state) for z in zones] == [('nova', {'available': True})]
    assert raw(sim, conn, 'GET', '/extensions').json() == {'extensions': []}


# -- error bodies --------------------------------------------------------------------
def test_error_bodies_are_novas(sim, conn):
    missing = raw(sim, conn, 'GET', '/servers/6d3c1b5a-0000-4000-8000-000000000000')
    assert missing.json() == {'itemNotFound': {
        'code': 404,
        'message': 'Instance 6d3c1b5a-0000-4000-8000-000000000000 could not be found.'}}
    assert missing.headers['Content-Type'] == 'application/json'
    malformed = raw(sim, conn, 'POST', '/servers', data=b'{not json',
                    headers={'Content-Type': 'application/json'})
    assert malformed.status_code == 400 and fault(malformed)[0] == 'badRequest'
    for body in ([], {'server': 'x'}, {'server': {}}, 'null'):
        response = raw(sim, conn, 'POST', '/servers', json=body, version='2.96')
        assert response.status_code == 400, body
        assert fault(response)[0] == 'badRequest'
    for path in ('/os-keypairs', '/servers/x/action', '/flavors'):
        response = raw(sim, conn, 'POST', path, data=b'[1, 2]',
                       headers={'Content-Type': 'application/json'})
        assert response.status_code in (400, 403, 404), (path, response.text)
    unknown = raw(sim, conn, 'GET', '/no-such-thing')
    assert unknown.status_code == 404 and fault(unknown)[0] == 'itemNotFound'
    unauthenticated = requests.get(f'{sim.url}/compute/v2.1/servers', timeout=10)
    assert unauthenticated.status_code == 401
    assert fault(unauthenticated)[0] == 'unauthorized'
    not_allowed = raw(sim, conn, 'PATCH', '/servers')
    assert not_allowed.status_code == 405 and fault(not_allowed)[0] == 'badMethod'


def test_sim_resources_list_servers_flavors_keypairs(sim, conn, sim_admin, image):
    server = boot(conn, image, wait=False)
    resources = sim_admin.get('resources')
    listed, = resources['servers']
    assert listed['id'] == server.id and listed['project_id'] == conn.current_project_id
    assert {'name', 'description', 'tags', 'status'} <= set(listed)
    assert not any(k.startswith('_') for k in listed)
    assert {f['name'] for f in resources['flavors']} >= {'m1.tiny', 'm1.large'}
    assert [k['name'] for k in resources['keypairs']] == ['testkey']
