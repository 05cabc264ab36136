"""Neutron v2.0 in the simulator, through the real openstacksdk.

One test per rule of spec/openstack-api-reference.md section 5 that
concerns Neutron: each checks the SDK's exception class and message, and
the NeutronError body (type, message, detail) of the response behind it.
"""

import ipaddress

import pytest
import requests
from openstack import exceptions as sdk_exc

from bayflow.cloudsim import neutron
from tests.functional.cloudsim.conftest import Raw

REQUIRED_EXTENSIONS = (
    'external-net', 'router', 'standard-attr-tag', 'security-group', 'quotas',
    'extraroute', 'ext-gw-mode', 'binding', 'port-security', 'fip-port-details',
    'standard-attr-description', 'standard-attr-revisions', 'standard-attr-timestamp',
    'filter-validation', 'allowed-address-pairs', 'project-id')


# -- helpers ---------------------------------------------------------------------

def fails(exc_cls, type_, message, fn, *args, **kwargs):
    """Call ``fn``: it must raise ``exc_cls`` carrying Neutron's error body."""
    with pytest.raises(exc_cls) as info:
        fn(*args, **kwargs)
    body = info.value.response.json()
    assert set(body) == {'NeutronError'}, body
    err = body['NeutronError']
    assert set(err) == {'type', 'message', 'detail'}
    assert err['type'] == type_, err
    assert message in err['message'], err
    assert err['detail'] == ''
    assert message in str(info.value)
    return err


@pytest.fixture
def raw(sim, conn):
    return Raw(sim, conn, '/network/v2.0')


@pytest.fixture
def raw_admin(sim, admin_conn):
    return Raw(sim, admin_conn, '/network/v2.0')


@pytest.fixture
def public(conn):
    return conn.network.find_network('public', ignore_missing=False)


def make_net(conn, name='net', cidr='10.0.0.0/24', **subnet_kw):
    net = conn.network.create_network(name=name)
    subnet = conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4,
                                        name=name + '-subnet', **subnet_kw)
    return net, subnet


def make_routed(conn, public, cidr='10.0.0.0/24'):
    """A network whose subnet is on a router that has a gateway on public."""
    net, subnet = make_net(conn, cidr=cidr)
    router = conn.network.create_router(name='r1',
                                        external_gateway_info={'network_id': public.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    return net, subnet, router


def external_net(admin_conn, cidr='192.0.2.0/29', pool=None, name='ext2'):
    net = admin_conn.network.create_network(name=name, is_router_external=True)
    kw = {'allocation_pools': pool} if pool else {}
    subnet = admin_conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4,
                                              enable_dhcp=False, **kw)
    return net, subnet


# -- discovery and basics ------------------------------------------------------------

def test_versions_and_resources_documents(sim, raw):
    r = requests.get(f'{sim.url}/network/', timeout=10)
    assert r.status_code == 200
    version = r.json()['versions'][0]
    assert version['id'] == 'v2.0' and version['status'] == 'CURRENT'
    assert version['links'][0]['rel'] == 'self'
    r = raw('GET', '')
    names = {res['collection'] for res in r.json()['resources']}
    assert {'networks', 'subnets', 'ports', 'routers', 'floatingips',
            'security-groups', 'security-group-rules'} <= names


def test_extensions_advertised(conn, raw):
    aliases = {e.alias for e in conn.network.extensions()}
    assert set(REQUIRED_EXTENSIONS) <= aliases
    ext = conn.network.find_extension('router')
    assert ext.name == 'Neutron L3 Router'
    r = raw('GET', '/extensions/external-net')
    assert r.status_code == 200
    assert set(r.json()['extension']) == {'alias', 'name', 'description', 'updated',
                                          'links'}
    assert raw('GET', '/extensions/no-such-thing').status_code == 404


def test_seed_public_network(conn, admin_conn):
    public = conn.network.find_network('public', ignore_missing=False)
    assert public.is_router_external and not public.is_shared
    assert public.project_id == admin_conn.current_project_id
    subnet = admin_conn.network.get_subnet(public.subnet_ids[0])
    assert subnet.name == 'public-subnet'
    assert subnet.cidr == '172.24.4.0/24' and subnet.gateway_ip == '172.24.4.1'
    assert subnet.allocation_pools == [{'start': '172.24.4.2', 'end': '172.24.4.254'}]
    assert subnet.is_dhcp_enabled is False
    # the project's default SGs do not exist until first used
    assert not [g for g in admin_conn.network.security_groups()
                if g.project_id == conn.current_project_id]


def test_error_body_shape_and_request_id(raw):
    r = raw('GET', '/networks/nope')
    assert r.status_code == 404
    assert r.headers['Content-Type'] == 'application/json'
    assert r.headers['X-Openstack-Request-Id'].startswith('req-')
    assert r.json() == {'NeutronError': {'type': 'NetworkNotFound',
                                         'message': 'Network nope could not be found.',
                                         'detail': ''}}


def test_malformed_requests_get_400_not_500(raw):
    r = requests.post(raw.base + '/networks', data=b'{not json',
                      headers=dict(raw.headers, **{'Content-Type': 'application/json'}),
                      timeout=10)
    assert r.status_code == 400 and 'NeutronError' in r.json()
    for body in ({}, {'network': 'x'}, [1, 2], {'network': {'bogus': 1}},
                 {'network': {'admin_state_up': 'maybe'}}, {'network': {'name': 5}},
                 {'network': {'mtu': 'big'}}):
        r = raw('POST', '/networks', json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()['NeutronError']['type'] == 'HTTPBadRequest'
    r = raw('POST', '/networks', json={'network': {'id': 'x'}})
    assert r.json()['NeutronError']['message'] == "Attribute 'id' not allowed in POST"
    r = raw('POST', '/subnets', json={'subnet': {'network_id': 'x', 'ip_version': 4,
                                                 'cidr': 'banana'}})
    assert r.status_code in (400, 404)
    for body in ({'port': {'network_id': 7}}, {'port': {'fixed_ips': 'x'}},
                 {'router': {'external_gateway_info': 'x'}}):
        coll = list(body)[0] + 's'
        r = raw('POST', f'/{coll}', json=body)
        assert 400 <= r.status_code < 500, (body, r.text)


def test_delete_missing(conn):
    assert conn.network.delete_network('nope') is None      # ignore_missing=True
    fails(sdk_exc.NotFoundException, 'NetworkNotFound', 'Network nope could not be found.',
          conn.network.delete_network, 'nope', ignore_missing=False)
    fails(sdk_exc.NotFoundException, 'RouterNotFound', 'Router nope could not be found',
          conn.network.delete_router, 'nope', ignore_missing=False)
    fails(sdk_exc.NotFoundException, 'PortNotFound', 'Port nope could not be found.',
          conn.network.get_port, 'nope')


# -- CRUD through the SDK --------------------------------------------------------------

def test_crud_every_resource(conn, public, sim_admin):
    net, subnet = make_net(conn)
    assert conn.network.find_network('net').id == net.id
    assert conn.network.find_subnet('net-subnet').id == subnet.id
    net = conn.network.update_network(net, name='net2', description='d')
    assert (net.name, net.description, net.revision_number) == ('net2', 'd', 2)
    assert net.mtu == 1450 and net.is_admin_state_up and net.status == 'ACTIVE'
    assert net.project_id == conn.current_project_id == net.tenant_id
    assert net.subnet_ids == [subnet.id]
    subnet = conn.network.update_subnet(subnet, name='s2', dns_nameservers=['8.8.8.8'])
    assert subnet.dns_nameservers == ['8.8.8.8']
    port = conn.network.create_port(network_id=net.id, name='p')
    assert conn.network.find_port('p').id == port.id
    port = conn.network.update_port(port, name='p2', description='x')
    assert port.name == 'p2'
    router = conn.network.create_router(name='r')
    assert conn.network.find_router('r').id == router.id
    router = conn.network.update_router(router, name='r2')
    sg = conn.network.create_security_group(name='sg', description='web')
    assert conn.network.find_security_group('sg').id == sg.id
    sg = conn.network.update_security_group(sg, description='web2')
    rule = conn.network.create_security_group_rule(
        security_group_id=sg.id, direction='ingress', ethertype='IPv4', protocol='tcp',
        port_range_min=22, port_range_max=22, remote_ip_prefix='0.0.0.0/0')
    assert conn.network.get_security_group_rule(rule.id).port_range_min == 22
    fip = conn.network.create_ip(floating_network_id=public.id, description='bay x')
    assert fip.description == 'bay x' and fip.status == 'DOWN' and fip.port_id is None
    assert ipaddress.ip_address(fip.floating_ip_address) in ipaddress.ip_network(
        '172.24.4.0/24')
    assert conn.network.get_ip(fip.id).floating_ip_address == fip.floating_ip_address
    fip = conn.network.update_ip(fip, description='y')
    assert fip.description == 'y'
    # delete in Neutron's teardown order
    conn.network.delete_ip(fip, ignore_missing=False)
    conn.network.delete_router(router, ignore_missing=False)
    conn.network.delete_port(port, ignore_missing=False)
    conn.network.delete_security_group_rule(rule, ignore_missing=False)
    conn.network.delete_security_group(sg, ignore_missing=False)
    conn.network.delete_subnet(subnet, ignore_missing=False)
    conn.network.delete_network(net, ignore_missing=False)
    left = sim_admin.get('resources')
    assert [n['name'] for n in left['networks']] == ['public']
    assert len(left['subnets']) == 1
    assert left['ports'] == [] and left['routers'] == [] and left['floatingips'] == []
    assert [g['name'] for g in left['security_groups']] == ['default']


def test_cloud_layer_calls(conn, public):
    net = conn.create_network('cl-net')
    subnet = conn.create_subnet(net.id, cidr='10.1.0.0/24', subnet_name='cl-sub')
    router = conn.create_router('cl-r', ext_gateway_net_id=public.id)
    conn.add_router_interface(router, subnet_id=subnet.id)
    assert conn.get_network('cl-net').id == net.id
    assert [s.id for s in conn.list_subnets(filters={'network_id': net.id})] == [subnet.id]
    assert router.external_gateway_info['network_id'] == public.id
    port = conn.create_port(net.id, name='cl-p')
    assert conn.get_port('cl-p').id == port.id
    conn.remove_router_interface(router, subnet_id=subnet.id)
    assert conn.delete_router('cl-r')
    assert conn.delete_port('cl-p')
    assert conn.delete_network('cl-net')
    assert conn.get_network('cl-net') is None


def test_bulk_create_is_all_or_nothing(raw, conn):
    r = raw('POST', '/networks', json={'networks': [{'name': 'b1'}, {'name': 'b2'}]})
    assert r.status_code == 201
    assert [n['name'] for n in r.json()['networks']] == ['b1', 'b2']
    r = raw('POST', '/networks', json={'networks': [{'name': 'b3'}, {'bogus': 1}]})
    assert r.status_code == 400
    assert not list(conn.network.networks(name='b3'))


def test_find_with_duplicate_names(conn):
    conn.network.create_network(name='dup')
    conn.network.create_network(name='dup')
    with pytest.raises(sdk_exc.DuplicateResource):
        conn.network.find_network('dup')
    sg1 = conn.network.create_security_group(name='same')
    conn.network.create_security_group(name='same')
    with pytest.raises(sdk_exc.DuplicateResource):
        conn.network.find_security_group('same')
    assert conn.network.find_security_group(sg1.id).id == sg1.id


def test_project_scoping(conn, admin_conn):
    mine = conn.network.create_network(name='mine')
    theirs = admin_conn.network.create_network(name='theirs')
    shared = admin_conn.network.create_network(name='shared', is_shared=True)
    names = {n.name for n in conn.network.networks()}
    assert {'mine', 'public', 'shared'} <= names and 'theirs' not in names
    everyone = {n.name for n in admin_conn.network.networks()}
    assert {'mine', 'theirs', 'shared', 'public'} <= everyone
    fails(sdk_exc.NotFoundException, 'NetworkNotFound', f'Network {theirs.id} could not '
          'be found.', conn.network.get_network, theirs.id)
    # visible but not owned: policy says no
    fails(sdk_exc.ForbiddenException, 'PolicyNotAuthorized', 'disallowed by policy',
          conn.network.update_network, shared, name='x')
    fails(sdk_exc.ForbiddenException, 'PolicyNotAuthorized', 'disallowed by policy',
          conn.network.create_network, name='ext', is_router_external=True)
    fails(sdk_exc.BadRequestException, 'HTTPBadRequest', 'requires admin privileges',
          conn.network.create_network, name='x', project_id=admin_conn.current_project_id)
    # admins may create on behalf of a project
    made = admin_conn.network.create_network(name='for-demo',
                                             project_id=conn.current_project_id)
    assert conn.network.get_network(made.id).project_id == conn.current_project_id
    assert mine.id in {n.id for n in admin_conn.network.networks(
        project_id=conn.current_project_id)}


# -- subnets and IPAM -------------------------------------------------------------------

def test_subnet_gateway_pool_and_cidr_normalised(conn):
    net = conn.network.create_network(name='n')
    subnet = conn.network.create_subnet(network_id=net.id, cidr='10.9.8.77/24',
                                        ip_version=4)
    assert subnet.cidr == '10.9.8.0/24'
    assert subnet.gateway_ip == '10.9.8.1'
    assert subnet.allocation_pools == [{'start': '10.9.8.2', 'end': '10.9.8.254'}]
    assert subnet.is_dhcp_enabled and subnet.dns_nameservers == [] and \
        subnet.host_routes == [] and subnet.ip_version == 4
    other = conn.network.create_subnet(network_id=net.id, cidr='10.9.9.0/24',
                                       ip_version=4, gateway_ip='10.9.9.100',
                                       host_routes=[{'destination': '10.8.0.0/16',
                                                     'nexthop': '10.9.9.5'}])
    assert other.allocation_pools == [{'start': '10.9.9.1', 'end': '10.9.9.99'},
                                      {'start': '10.9.9.101', 'end': '10.9.9.254'}]
    assert other.host_routes == [{'destination': '10.8.0.0/16', 'nexthop': '10.9.9.5'}]
    fails(sdk_exc.BadRequestException, 'InvalidInput', 'overlaps with another subnet',
          conn.network.create_subnet, network_id=net.id, cidr='10.9.8.128/25',
          ip_version=4)
    fails(sdk_exc.BadRequestException, 'BadRequest', 'IPv6 subnets are not modelled',
          conn.network.create_subnet, network_id=net.id, cidr='fd00::/64', ip_version=6)
    fails(sdk_exc.ConflictException, 'GatewayConflictWithAllocationPools',
          'conflicts with allocation pool', conn.network.create_subnet,
          network_id=net.id, cidr='10.9.10.0/24', ip_version=4,
          allocation_pools=[{'start': '10.9.10.1', 'end': '10.9.10.20'}])


def test_ipam_is_random_not_sequential(conn):
    net, subnet = make_net(conn, enable_dhcp=False)
    addresses = [conn.network.create_port(network_id=net.id).fixed_ips[0]['ip_address']
                 for _ in range(8)]
    assert len(set(addresses)) == 8
    assert all(subnet.gateway_ip != a for a in addresses)
    sequential = [f'10.0.0.{i}' for i in range(2, 10)]
    assert sorted(addresses, key=ipaddress.ip_address) != sequential


def test_fixed_ip_outside_subnet_is_400(conn):
    net, subnet = make_net(conn)
    fails(sdk_exc.BadRequestException, 'InvalidIpForSubnet',
          'IP address 10.5.5.5 is not a valid IP for the specified subnet.',
          conn.network.create_port, network_id=net.id,
          fixed_ips=[{'subnet_id': subnet.id, 'ip_address': '10.5.5.5'}])
    fails(sdk_exc.BadRequestException, 'InvalidIpForNetwork',
          'IP address 10.5.5.5 is not a valid IP for any of the subnets on the specified '
          'network.', conn.network.create_port, network_id=net.id,
          fixed_ips=[{'ip_address': '10.5.5.5'}])


def test_fixed_ip_in_use_is_409(conn):
    net, subnet = make_net(conn, enable_dhcp=False)     # no DHCP port on a random IP
    port = conn.network.create_port(network_id=net.id,
                                    fixed_ips=[{'ip_address': '10.0.0.50'}])
    assert port.fixed_ips == [{'subnet_id': subnet.id, 'ip_address': '10.0.0.50'}]
    fails(sdk_exc.ConflictException, 'IpAddressInUse',
          f'Unable to complete operation for network {net.id}. The IP address 10.0.0.50 '
          'is in use.', conn.network.create_port, network_id=net.id,
          fixed_ips=[{'subnet_id': subnet.id, 'ip_address': '10.0.0.50'}])
    # outside the pool but inside the CIDR is allowed (as in Neutron)
    other = conn.network.create_port(network_id=net.id,
                                     fixed_ips=[{'ip_address': '10.0.0.1'}])
    assert other.fixed_ips[0]['ip_address'] == '10.0.0.1'


def test_ip_exhaustion_is_409_ip_address_generation_failure(conn):
    net, subnet = make_net(conn, cidr='10.3.0.0/29', enable_dhcp=False)
    # /29: gateway .1, pool .2 - .6
    got = {conn.network.create_port(network_id=net.id).fixed_ips[0]['ip_address']
           for _ in range(5)}
    assert got == {f'10.3.0.{i}' for i in range(2, 7)}
    fails(sdk_exc.ConflictException, 'IpAddressGenerationFailure',
          f'No more IP addresses available on network {net.id}.',
          conn.network.create_port, network_id=net.id)


def test_dhcp_port_takes_an_address_and_is_auto_deleted(conn, admin_conn):
    net, subnet = make_net(conn, cidr='10.4.0.0/29')
    ports = list(conn.network.ports(network_id=net.id))
    assert [p.device_owner for p in ports] == ['network:dhcp']
    assert ports[0].fixed_ips[0]['subnet_id'] == subnet.id
    # subnet delete with only the DHCP port: allowed, the port goes away
    conn.network.delete_subnet(subnet, ignore_missing=False)
    assert list(conn.network.ports(network_id=net.id)) == []
    assert conn.network.get_network(net.id).subnet_ids == []


def test_floating_ip_exhaustion_is_400_external_ip_address_exhausted(conn, admin_conn):
    ext, _ = external_net(admin_conn, pool=[{'start': '192.0.2.2', 'end': '192.0.2.3'}])
    conn.network.create_ip(floating_network_id=ext.id)
    conn.network.create_ip(floating_network_id=ext.id)
    fails(sdk_exc.BadRequestException, 'ExternalIpAddressExhausted',
          f'Unable to find any IP address on external network {ext.id}.',
          conn.network.create_ip, floating_network_id=ext.id)


# -- quotas ------------------------------------------------------------------------------

def test_quota_defaults_and_update(conn, admin_conn):
    pid = conn.current_project_id
    quota = conn.network.get_quota(pid)
    assert (quota.networks, quota.subnets, quota.ports, quota.routers, quota.floating_ips,
            quota.security_groups, quota.security_group_rules, quota.rbac_policies) == \
        (100, 100, 500, 10, 50, 10, 100, 10)
    default = conn.network.get_quota_default(pid)
    assert default.networks == 100
    fails(sdk_exc.ForbiddenException, 'PolicyNotAuthorized', 'update_quota',
          conn.network.update_quota, quota, networks=5)
    updated = admin_conn.network.update_quota(pid, networks=5)
    assert updated.networks == 5
    assert conn.network.get_quota(pid).networks == 5
    conn.network.create_network(name='q')
    details = conn.network.get_quota(pid, details=True)
    assert details.networks == {'limit': 5, 'used': 1, 'reserved': 0}
    admin_conn.network.delete_quota(pid)
    assert conn.network.get_quota(pid).networks == 100


def test_over_quota_is_409(conn, admin_conn):
    admin_conn.network.update_quota(conn.current_project_id, networks=1, ports=0)
    conn.network.create_network(name='one')
    fails(sdk_exc.ConflictException, 'OverQuota',
          "Quota exceeded for resources: ['network'].",
          conn.network.create_network, name='two')
    public = conn.network.find_network('public')
    fails(sdk_exc.ConflictException, 'OverQuota', "Quota exceeded for resources: ['port'].",
          conn.network.create_port, network_id=conn.network.find_network('one').id)
    admin_conn.network.update_quota(conn.current_project_id, floating_ips=0)
    fails(sdk_exc.ConflictException, 'OverQuota',
          "Quota exceeded for resources: ['floatingip'].",
          conn.network.create_ip, floating_network_id=public.id)


# -- routers -------------------------------------------------------------------------------

def test_router_gateway_port_and_info(conn, admin_conn, public):
    router = conn.network.create_router(name='r',
                                        external_gateway_info={'network_id': public.id})
    info = router.external_gateway_info
    assert info['network_id'] == public.id and info['enable_snat'] is True
    [fixed] = info['external_fixed_ips']
    assert fixed['subnet_id'] == public.subnet_ids[0]
    gw = list(admin_conn.network.ports(device_id=router.id))
    assert [p.device_owner for p in gw] == ['network:router_gateway']
    assert gw[0].fixed_ips[0]['ip_address'] == fixed['ip_address']
    assert gw[0].status == 'ACTIVE' and gw[0].project_id == ''
    # the gateway port is not the project's
    assert list(conn.network.ports(device_id=router.id)) == []
    router = conn.network.update_router(router, external_gateway_info=None)
    assert router.external_gateway_info is None
    assert list(admin_conn.network.ports(device_id=router.id)) == []
    router = conn.network.update_router(router,
                                        external_gateway_info={'network_id': public.id})
    assert router.external_gateway_info['network_id'] == public.id
    fails(sdk_exc.ForbiddenException, 'PolicyNotAuthorized', 'enable_snat',
          conn.network.update_router, router,
          external_gateway_info={'network_id': public.id, 'enable_snat': False})
    router = admin_conn.network.update_router(
        router, external_gateway_info={'network_id': public.id, 'enable_snat': False})
    assert router.external_gateway_info['enable_snat'] is False


def test_gateway_on_non_external_network_is_400(conn):
    net, _ = make_net(conn)
    fails(sdk_exc.BadRequestException, 'BadRequest',
          f'Bad router request: Network {net.id} is not an external network.',
          conn.network.create_router, name='r',
          external_gateway_info={'network_id': net.id})
    router = conn.network.create_router(name='r')
    fails(sdk_exc.BadRequestException, 'BadRequest', 'is not an external network',
          conn.network.update_router, router, external_gateway_info={'network_id': net.id})
    assert conn.network.get_router(router.id).external_gateway_info is None


def test_non_standard_gateway_paths_are_404(conn, raw, public):
    router = conn.network.create_router(name='r')
    # the SDK does not raise on these calls: it hands back the error body
    for call in (conn.network.add_gateway_to_router,
                 conn.network.remove_gateway_from_router):
        answer = call(router, network_id=public.id)
        assert answer['NeutronError']['type'] == 'HTTPNotFound'
    for action in ('add_gateway_router', 'remove_gateway_router'):
        r = raw('PUT', f'/routers/{router.id}/{action}', json={'network_id': public.id})
        assert r.status_code == 404
    assert conn.network.get_router(router.id).external_gateway_info is None


def test_add_interface_needs_exactly_one_of_subnet_and_port(conn, raw):
    net, subnet = make_net(conn)
    port = conn.network.create_port(network_id=net.id)
    router = conn.network.create_router(name='r')
    # the SDK sends only one of them, so this needs raw HTTP
    r = raw('PUT', f'/routers/{router.id}/add_router_interface',
            json={'subnet_id': subnet.id, 'port_id': port.id})
    assert r.status_code == 400
    assert r.json()['NeutronError'] == {
        'type': 'BadRequest', 'detail': '',
        'message': 'Bad router request: Cannot specify both subnet-id and port-id.'}
    r = raw('PUT', f'/routers/{router.id}/add_router_interface', json={})
    assert r.status_code == 400
    assert r.json()['NeutronError']['message'] == \
        'Bad router request: Either subnet_id or port_id must be specified.'


def test_interface_by_subnet_uses_the_gateway_ip(conn):
    net, subnet = make_net(conn)
    router = conn.network.create_router(name='r')
    info = conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    assert set(info) == {'id', 'network_id', 'port_id', 'subnet_id', 'subnet_ids',
                         'project_id', 'tenant_id', 'tags'}
    assert info['id'] == router.id and info['subnet_ids'] == [subnet.id]
    port = conn.network.get_port(info['port_id'])
    assert port.fixed_ips == [{'subnet_id': subnet.id, 'ip_address': '10.0.0.1'}]
    assert port.device_owner == 'network:router_interface'
    assert port.device_id == router.id and port.status == 'ACTIVE'


def test_interface_by_port(conn):
    net, subnet = make_net(conn, enable_dhcp=False)     # no DHCP port on a random IP
    port = conn.network.create_port(network_id=net.id, fixed_ips=[{'ip_address':
                                                                   '10.0.0.10'}])
    router = conn.network.create_router(name='r')
    info = conn.network.add_interface_to_router(router, port_id=port.id)
    assert info['port_id'] == port.id and info['subnet_id'] == subnet.id
    port = conn.network.get_port(port.id)
    assert (port.device_id, port.device_owner) == (router.id, 'network:router_interface')
    conn.network.remove_interface_from_router(router, port_id=port.id)
    # Neutron deletes the port, even one the user created
    fails(sdk_exc.NotFoundException, 'PortNotFound', 'could not be found',
          conn.network.get_port, port.id)


def test_second_interface_on_same_subnet_or_overlap_is_400(conn):
    net, subnet = make_net(conn)
    net2, subnet2 = make_net(conn, name='n2', cidr='10.0.0.0/16')
    router = conn.network.create_router(name='r')
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    fails(sdk_exc.BadRequestException, 'BadRequest',
          f'Bad router request: Router already has a port on subnet {subnet.id}.',
          conn.network.add_interface_to_router, router, subnet_id=subnet.id)
    fails(sdk_exc.BadRequestException, 'BadRequest',
          f'Cidr 10.0.0.0/16 of subnet {subnet2.id} overlaps with cidr 10.0.0.0/24 of '
          f'subnet {subnet.id}', conn.network.add_interface_to_router, router,
          subnet_id=subnet2.id)


def test_interface_with_port_in_use_is_409(conn):
    net, _ = make_net(conn)
    port = conn.network.create_port(network_id=net.id, device_id='some-vm',
                                    device_owner='compute:nova')
    router = conn.network.create_router(name='r')
    fails(sdk_exc.ConflictException, 'PortInUse',
          f'Unable to complete operation on port {port.id} for network {net.id}. Port '
          'already has an attached device some-vm.',
          conn.network.add_interface_to_router, router, port_id=port.id)


def test_remove_missing_interface_is_404(conn):
    net, subnet = make_net(conn)
    port = conn.network.create_port(network_id=net.id)
    router = conn.network.create_router(name='r')
    fails(sdk_exc.NotFoundException, 'RouterInterfaceNotFoundForSubnet',
          f'Router {router.id} has no interface on subnet {subnet.id}',
          conn.network.remove_interface_from_router, router, subnet_id=subnet.id)
    fails(sdk_exc.NotFoundException, 'RouterInterfaceNotFound',
          f'Router {router.id} does not have an interface with id {port.id}',
          conn.network.remove_interface_from_router, router, port_id=port.id)


def test_interface_needed_by_routes_is_409(conn):
    net, subnet = make_net(conn)
    router = conn.network.create_router(name='r')
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    route = {'destination': '192.168.50.0/24', 'nexthop': '10.0.0.20'}
    router = conn.network.update_router(router, routes=[route])
    assert router.routes == [route]
    fails(sdk_exc.ConflictException, 'RouterInterfaceInUseByRoute',
          f'Router interface for subnet {subnet.id} on router {router.id} cannot be '
          'deleted, as it is required by one or more routes.',
          conn.network.remove_interface_from_router, router, subnet_id=subnet.id)
    fails(sdk_exc.BadRequestException, 'InvalidRoutes', 'the nexthop is not connected',
          conn.network.update_router, router,
          routes=[{'destination': '192.168.60.0/24', 'nexthop': '10.99.0.1'}])
    conn.network.update_router(router, routes=[])
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)


def test_delete_router_with_interfaces_is_409(conn):
    net, subnet = make_net(conn)
    router = conn.network.create_router(name='r')
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    fails(sdk_exc.ConflictException, 'RouterInUse', f'Router {router.id} still has ports',
          conn.network.delete_router, router, ignore_missing=False)
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router, ignore_missing=False)


def test_router_delete_removes_its_gateway_port(admin_conn, conn, public):
    router = conn.network.create_router(name='r',
                                        external_gateway_info={'network_id': public.id})
    gw_ip = router.external_gateway_info['external_fixed_ips'][0]['ip_address']
    assert list(admin_conn.network.ports(device_owner='network:router_gateway'))
    conn.network.delete_router(router, ignore_missing=False)
    assert list(admin_conn.network.ports(device_owner='network:router_gateway')) == []
    # the address went back to the pool
    again = admin_conn.network.create_port(network_id=public.id,
                                           fixed_ips=[{'ip_address': gw_ip}])
    assert again.fixed_ips[0]['ip_address'] == gw_ip


def test_removing_gateway_needed_by_floating_ips_is_409(conn, public):
    net, subnet, router = make_routed(conn, public)
    port = conn.network.create_port(network_id=net.id)
    conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    fails(sdk_exc.ConflictException, 'RouterExternalGatewayInUseByFloatingIp',
          f'Gateway cannot be updated for router {router.id}, since a gateway to external '
          f'network {public.id} is required by one or more floating IPs.',
          conn.network.update_router, router, external_gateway_info={})
    fails(sdk_exc.ConflictException, 'RouterInterfaceInUseByFloatingIP',
          f'Router interface for subnet {subnet.id} on router {router.id} cannot be '
          'deleted, as it is required by one or more floating IPs.',
          conn.network.remove_interface_from_router, router, subnet_id=subnet.id)


def test_deleting_router_port_directly_is_409(conn, admin_conn, public):
    net, subnet, router = make_routed(conn, public)
    [port] = conn.network.ports(device_owner='network:router_interface')
    fails(sdk_exc.ConflictException, 'ServicePortInUse',
          f'Port {port.id} cannot be deleted directly via the port API: has device owner '
          'network:router_interface.', conn.network.delete_port, port, ignore_missing=False)
    [gw] = admin_conn.network.ports(device_owner='network:router_gateway')
    fails(sdk_exc.ConflictException, 'ServicePortInUse', 'network:router_gateway',
          admin_conn.network.delete_port, gw, ignore_missing=False)


# -- subnet and network delete --------------------------------------------------------------

def test_subnet_with_router_interface_is_in_use(conn):
    net, subnet = make_net(conn)
    router = conn.network.create_router(name='r')
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    fails(sdk_exc.ConflictException, 'SubnetInUse',
          f'Unable to complete operation on subnet {subnet.id}: One or more ports have an '
          'IP allocation from this subnet.',
          conn.network.delete_subnet, subnet, ignore_missing=False)


def test_subnet_with_user_port_is_in_use(conn):
    net, subnet = make_net(conn)
    conn.network.create_port(network_id=net.id)
    fails(sdk_exc.ConflictException, 'SubnetInUse', 'One or more ports have an IP '
          'allocation from this subnet.', conn.network.delete_subnet, subnet,
          ignore_missing=False)


def test_network_with_ports_is_in_use_and_delete_cascades(conn, sim_admin):
    net, subnet = make_net(conn)
    port = conn.network.create_port(network_id=net.id)
    fails(sdk_exc.ConflictException, 'NetworkInUse',
          f'Unable to complete operation on network {net.id}. There are one or more ports '
          f'still in use on the network, id for these ports is: {port.id}.',
          conn.network.delete_network, net, ignore_missing=False)
    conn.network.delete_port(port)
    conn.network.delete_network(net, ignore_missing=False)     # subnets and DHCP port go
    left = sim_admin.get('resources')
    assert [s['name'] for s in left['subnets']] == ['public-subnet']
    assert left['ports'] == []


def test_external_network_with_gateways_cannot_become_internal(admin_conn, conn, public):
    conn.network.create_router(name='r', external_gateway_info={'network_id': public.id})
    fails(sdk_exc.ConflictException, 'ExternalNetworkInUse',
          f'External network {public.id} cannot be updated to be made non-external, since '
          'it has existing gateway ports.',
          admin_conn.network.update_network, public, is_router_external=False)


def test_full_teardown_in_neutron_order_leaves_nothing(conn, public, sim_admin):
    net, subnet, router = make_routed(conn, public)
    sg = conn.network.create_security_group(name='bay-sg')
    port = conn.network.create_port(network_id=net.id, security_group_ids=[sg.id])
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    # wrong order is refused at each step ...
    for call, arg in ((conn.network.delete_security_group, sg),
                      (conn.network.delete_network, net),
                      (conn.network.delete_subnet, subnet),
                      (conn.network.delete_router, router)):
        with pytest.raises(sdk_exc.ConflictException):
            call(arg, ignore_missing=False)
    # ... the right one works
    conn.network.delete_ip(fip, ignore_missing=False)
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.update_router(router, external_gateway_info=None)
    conn.network.delete_router(router, ignore_missing=False)
    conn.network.delete_port(port, ignore_missing=False)
    conn.network.delete_subnet(subnet, ignore_missing=False)
    conn.network.delete_network(net, ignore_missing=False)
    conn.network.delete_security_group(sg, ignore_missing=False)
    left = sim_admin.get('resources')
    assert (left['ports'], left['routers'], left['floatingips']) == ([], [], [])
    assert [n['name'] for n in left['networks']] == ['public']


# -- floating IPs -------------------------------------------------------------------------------

def test_floating_network_must_be_external(conn):
    net, _ = make_net(conn)
    fails(sdk_exc.BadRequestException, 'BadRequest',
          f'Bad floatingip request: Network {net.id} is not a valid external network.',
          conn.network.create_ip, floating_network_id=net.id)


def test_external_network_without_ipv4_subnet_is_400(admin_conn, conn):
    ext = admin_conn.network.create_network(name='bare-ext', is_router_external=True)
    fails(sdk_exc.BadRequestException, 'BadRequest',
          f'Network {ext.id} does not contain any IPv4 subnet',
          conn.network.create_ip, floating_network_id=ext.id)


def test_association_needs_a_router_on_create_and_update(conn, public):
    net, subnet = make_net(conn)
    port = conn.network.create_port(network_id=net.id)
    message = (f'External network {public.id} is not reachable from subnet {subnet.id}.  '
               f'Therefore, cannot associate Port {port.id} with a Floating IP.')
    fails(sdk_exc.NotFoundException, 'ExternalGatewayForFloatingIPNotFound', message,
          conn.network.create_ip, floating_network_id=public.id, port_id=port.id)
    assert list(conn.network.ips()) == []           # nothing left behind
    fip = conn.network.create_ip(floating_network_id=public.id)
    fails(sdk_exc.NotFoundException, 'ExternalGatewayForFloatingIPNotFound', message,
          conn.network.update_ip, fip, port_id=port.id)
    # a router with only the interface (no gateway) is not enough either
    router = conn.network.create_router(name='r')
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    fails(sdk_exc.NotFoundException, 'ExternalGatewayForFloatingIPNotFound', message,
          conn.network.update_ip, fip, port_id=port.id)
    conn.network.update_router(router, external_gateway_info={'network_id': public.id})
    fip = conn.network.update_ip(fip, port_id=port.id)
    assert fip.router_id == router.id and fip.status == 'ACTIVE'


def test_associate_disassociate_and_port_details(conn, public):
    net, subnet, router = make_routed(conn, public)
    port = conn.network.create_port(network_id=net.id, name='vm-port')
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id,
                                 description='bay-uuid')
    assert fip.port_id == port.id
    assert fip.fixed_ip_address == port.fixed_ips[0]['ip_address']
    assert fip.router_id == router.id and fip.status == 'ACTIVE'
    assert fip.port_details == {'name': 'vm-port', 'network_id': net.id,
                                'mac_address': port.mac_address, 'admin_state_up': True,
                                'status': 'DOWN', 'device_id': '', 'device_owner': ''}
    assert [f.id for f in conn.network.ips(port_id=port.id)] == [fip.id]
    fip = conn.network.update_ip(fip, port_id=None)
    assert (fip.port_id, fip.fixed_ip_address, fip.router_id, fip.status,
            fip.port_details) == (None, None, None, 'DOWN', None)
    fip = conn.network.update_ip(fip, port_id=port.id)
    assert fip.status == 'ACTIVE'
    conn.network.delete_ip(fip, ignore_missing=False)
    assert list(conn.network.ips()) == []


def test_port_already_associated_is_409(conn, public):
    net, subnet, router = make_routed(conn, public)
    port = conn.network.create_port(network_id=net.id)
    first = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    second = conn.network.create_ip(floating_network_id=public.id)
    fixed = port.fixed_ips[0]['ip_address']
    fails(sdk_exc.ConflictException, 'FloatingIPPortAlreadyAssociated',
          f'Cannot associate floating IP {second.floating_ip_address} ({second.id}) with '
          f'port {port.id} using fixed IP {fixed}, as that fixed IP already has a floating '
          f'IP on external network {public.id}.',
          conn.network.update_ip, second, port_id=port.id)
    assert conn.network.get_ip(first.id).port_id == port.id


def test_port_without_or_with_several_fixed_ips(conn, public):
    net, subnet, router = make_routed(conn, public)
    bare = conn.network.create_port(network_id=net.id, fixed_ips=[])
    fails(sdk_exc.BadRequestException, 'BadRequest',
          f'Cannot add floating IP to port {bare.id} that has no fixed IPv4 addresses',
          conn.network.create_ip, floating_network_id=public.id, port_id=bare.id)
    two = conn.network.create_port(network_id=net.id, fixed_ips=[
        {'subnet_id': subnet.id}, {'subnet_id': subnet.id}])
    assert len(two.fixed_ips) == 2
    fails(sdk_exc.BadRequestException, 'BadRequest',
          f'Port {two.id} has multiple fixed IPv4 addresses',
          conn.network.create_ip, floating_network_id=public.id, port_id=two.id)
    chosen = two.fixed_ips[1]['ip_address']
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=two.id,
                                 fixed_ip_address=chosen)
    assert fip.fixed_ip_address == chosen


def test_deleting_a_port_disassociates_its_floating_ip(conn, public):
    net, subnet, router = make_routed(conn, public)
    port = conn.network.create_port(network_id=net.id)
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    conn.network.delete_port(port, ignore_missing=False)
    fip = conn.network.get_ip(fip.id)
    assert (fip.port_id, fip.status, fip.router_id) == (None, 'DOWN', None)


# -- security groups ------------------------------------------------------------------------------

def test_default_security_group_created_on_first_use(conn, admin_conn):
    net = conn.network.create_network(name='n')     # first use
    groups = [g for g in admin_conn.network.security_groups()
              if g.project_id == conn.current_project_id]
    assert [g.name for g in groups] == ['default']
    default = groups[0]
    assert default.description == 'Default security group'
    rules = {(r['direction'], r['ethertype'], r['remote_group_id'])
             for r in default.security_group_rules}
    assert rules == {('ingress', 'IPv4', default.id), ('ingress', 'IPv6', default.id),
                     ('egress', 'IPv4', None), ('egress', 'IPv6', None)}
    assert all(r['belongs_to_default_sg'] for r in default.security_group_rules)
    subnet = conn.network.create_subnet(network_id=net.id, cidr='10.0.0.0/24',
                                        ip_version=4)
    port = conn.network.create_port(network_id=net.id)
    assert port.security_group_ids == [default.id]
    assert subnet.id
    # only one default per project, whatever the calls
    list(conn.network.security_groups())
    assert len([g for g in conn.network.security_groups() if g.name == 'default']) == 1
    fails(sdk_exc.ConflictException, 'SecurityGroupDefaultAlreadyExists',
          'Default security group already exists.',
          conn.network.create_security_group, name='default')


def test_new_group_gets_two_egress_rules(conn):
    sg = conn.network.create_security_group(name='web')
    rules = {(r['direction'], r['ethertype'], r['protocol'], r['remote_ip_prefix'])
             for r in sg.security_group_rules}
    assert rules == {('egress', 'IPv4', None, None), ('egress', 'IPv6', None, None)}
    assert sg.stateful is True and sg.is_shared is False


def test_duplicate_rule_is_409_with_the_existing_id(conn):
    sg = conn.network.create_security_group(name='web')
    rule = conn.network.create_security_group_rule(
        security_group_id=sg.id, direction='ingress', protocol='tcp', port_range_min=80,
        port_range_max=80, remote_ip_prefix='0.0.0.0/0')
    fails(sdk_exc.ConflictException, 'SecurityGroupRuleExists',
          f'Security group rule already exists. Rule id is {rule.id}.',
          conn.network.create_security_group_rule, security_group_id=sg.id,
          direction='ingress', protocol='6', port_range_min=80, port_range_max=80,
          remote_ip_prefix='0.0.0.0/0')
    # the default egress rules count too
    egress = [r for r in sg.security_group_rules if r['ethertype'] == 'IPv4'][0]
    fails(sdk_exc.ConflictException, 'SecurityGroupRuleExists', egress['id'],
          conn.network.create_security_group_rule, security_group_id=sg.id,
          direction='egress', ethertype='IPv4')


def test_rule_port_range_validation(conn):
    sg = conn.network.create_security_group(name='web')
    fails(sdk_exc.BadRequestException, 'SecurityGroupProtocolRequiredWithPorts',
          'Must also specify protocol if port range is given.',
          conn.network.create_security_group_rule, security_group_id=sg.id,
          direction='ingress', port_range_min=22, port_range_max=22)
    fails(sdk_exc.BadRequestException, 'SecurityGroupInvalidPortRange',
          'For TCP/UDP protocols, port_range_min must be <= port_range_max',
          conn.network.create_security_group_rule, security_group_id=sg.id,
          direction='ingress', protocol='tcp', port_range_min=30, port_range_max=20)
    fails(sdk_exc.BadRequestException, 'SecurityGroupInvalidPortValue',
          'Invalid value for port 70000', conn.network.create_security_group_rule,
          security_group_id=sg.id, direction='ingress', protocol='tcp',
          port_range_min=1, port_range_max=70000)
    fails(sdk_exc.BadRequestException, 'SecurityGroupRuleInvalidProtocol',
          'Security group rule protocol bogus not supported',
          conn.network.create_security_group_rule, security_group_id=sg.id,
          direction='ingress', protocol='bogus')
    fails(sdk_exc.BadRequestException, 'SecurityGroupRemoteGroupAndRemoteIpPrefix',
          'Only remote_ip_prefix or remote_group_id may be provided.',
          conn.network.create_security_group_rule, security_group_id=sg.id,
          direction='ingress', remote_ip_prefix='10.0.0.0/8', remote_group_id=sg.id)
    fails(sdk_exc.BadRequestException, 'SecurityGroupRuleParameterConflict',
          'Conflicting value ethertype IPv4 for CIDR ::/0',
          conn.network.create_security_group_rule, security_group_id=sg.id,
          direction='ingress', ethertype='IPv4', remote_ip_prefix='::/0')


def test_rule_protocols_prefixes_and_remote_groups(conn):
    sg = conn.network.create_security_group(name='web')
    other = conn.network.create_security_group(name='other')
    icmp = conn.network.create_security_group_rule(
        security_group_id=sg.id, direction='ingress', protocol='ICMP', port_range_min=8,
        port_range_max=0)
    assert (icmp.protocol, icmp.port_range_min, icmp.port_range_max) == ('icmp', 8, 0)
    numbered = conn.network.create_security_group_rule(
        security_group_id=sg.id, direction='ingress', protocol='132', port_range_min=9,
        port_range_max=10)
    assert numbered.protocol == '132'
    prefixed = conn.network.create_security_group_rule(
        security_group_id=sg.id, direction='ingress', protocol='udp', port_range_min=53,
        port_range_max=53, remote_ip_prefix='10.1.2.3/16')
    assert prefixed.remote_ip_prefix == '10.1.0.0/16'
    host = conn.network.create_security_group_rule(
        security_group_id=sg.id, direction='ingress', remote_ip_prefix='10.1.2.3')
    assert host.remote_ip_prefix == '10.1.2.3/32'
    grouped = conn.network.create_security_group_rule(
        security_group_id=sg.id, direction='ingress', remote_group_id=other.id)
    assert grouped.remote_group_id == other.id
    fails(sdk_exc.NotFoundException, 'SecurityGroupNotFound', 'Security group nope does '
          'not exist', conn.network.create_security_group_rule, security_group_id=sg.id,
          direction='ingress', remote_group_id='nope')
    listed = {r.id for r in conn.network.security_group_rules(security_group_id=sg.id,
                                                              direction='ingress')}
    assert listed == {icmp.id, numbered.id, prefixed.id, host.id, grouped.id}
    assert len(conn.network.get_security_group(sg.id).security_group_rules) == 7
    # deleting the remote group deletes the rules that point at it
    conn.network.delete_security_group(other, ignore_missing=False)
    fails(sdk_exc.NotFoundException, 'SecurityGroupRuleNotFound',
          f'Security group rule {grouped.id} does not exist',
          conn.network.get_security_group_rule, grouped.id)


def test_deleting_a_group_in_use_is_409(conn):
    net, _ = make_net(conn)
    sg = conn.network.create_security_group(name='web')
    port = conn.network.create_port(network_id=net.id, security_group_ids=[sg.id])
    assert port.security_group_ids == [sg.id]
    fails(sdk_exc.ConflictException, 'SecurityGroupInUse', f'Security Group {sg.id} in use.',
          conn.network.delete_security_group, sg, ignore_missing=False)
    conn.network.update_port(port, security_group_ids=[])
    conn.network.delete_security_group(sg, ignore_missing=False)


def test_non_admin_cannot_delete_default_group(conn, admin_conn):
    default = conn.network.find_security_group('default', ignore_missing=False)
    fails(sdk_exc.ConflictException, 'SecurityGroupCannotRemoveDefault',
          'Insufficient rights for removing default security group.',
          conn.network.delete_security_group, default, ignore_missing=False)
    fails(sdk_exc.ConflictException, 'SecurityGroupCannotUpdateDefault',
          'Updating default security group not allowed.',
          conn.network.update_security_group, default, name='renamed')
    admin_conn.network.delete_security_group(default, ignore_missing=False)


def test_missing_security_group_is_404(conn):
    fails(sdk_exc.NotFoundException, 'SecurityGroupNotFound',
          'Security group nope does not exist',
          conn.network.get_security_group, 'nope')
    net, _ = make_net(conn)
    fails(sdk_exc.NotFoundException, 'SecurityGroupNotFound',
          'Security group nope does not exist',
          conn.network.create_port, network_id=net.id, security_group_ids=['nope'])


# -- ports ---------------------------------------------------------------------------------

def test_port_attributes_binding_and_status(conn, admin_conn):
    net, subnet = make_net(conn)
    port = conn.network.create_port(network_id=net.id, name='p',
                                    allowed_address_pairs=[{'ip_address': '10.0.0.200'}])
    assert port.mac_address.startswith('fa:16:3e:')
    assert port.allowed_address_pairs == [{'ip_address': '10.0.0.200',
                                           'mac_address': port.mac_address}]
    assert port.is_port_security_enabled is True and port.status == 'DOWN'
    assert port.binding_vnic_type == 'normal'
    assert port.binding_host_id is None         # admin-only attribute
    fails(sdk_exc.ForbiddenException, 'PolicyNotAuthorized', 'binding:host_id',
          conn.network.update_port, port, binding_host_id='h1')
    bound = admin_conn.network.update_port(port, binding_host_id='h1', device_id='vm-1',
                                           device_owner='compute:nova')
    assert bound.binding_host_id == 'h1' and bound.binding_vif_type == 'ovs'
    assert bound.status == 'ACTIVE'
    assert [p.id for p in conn.network.ports(device_id='vm-1')] == [port.id]
    unbound = admin_conn.network.update_port(port, binding_host_id='', device_id='',
                                             device_owner='')
    assert unbound.status == 'DOWN' and unbound.binding_vif_type == 'unbound'


def test_port_security_rules(conn):
    net, _ = make_net(conn)
    sg = conn.network.create_security_group(name='web')
    fails(sdk_exc.BadRequestException, 'PortSecurityAndIPRequiredForSecurityGroups',
          'Port security must be enabled and port must have an IP address in order to use '
          'security groups.', conn.network.create_port, network_id=net.id,
          is_port_security_enabled=False, security_group_ids=[sg.id])
    open_port = conn.network.create_port(network_id=net.id, is_port_security_enabled=False)
    assert open_port.security_group_ids == [] and not open_port.is_port_security_enabled
    fails(sdk_exc.ConflictException, 'AddressPairAndPortSecurityRequired',
          'Port Security must be enabled in order to have allowed address pairs on a port.',
          conn.network.update_port, open_port,
          allowed_address_pairs=[{'ip_address': '10.0.0.9'}])
    port = conn.network.create_port(network_id=net.id)
    fails(sdk_exc.ConflictException, 'PortSecurityPortHasSecurityGroup',
          'Port has security group associated.', conn.network.update_port, port,
          is_port_security_enabled=False)


def test_port_fixed_ip_update_and_mac_in_use(conn, admin_conn):
    net, subnet = make_net(conn, enable_dhcp=False)     # no DHCP port on a random IP
    port = conn.network.create_port(network_id=net.id,
                                    fixed_ips=[{'ip_address': '10.0.0.30'}])
    port = conn.network.update_port(port, fixed_ips=[{'ip_address': '10.0.0.31'}])
    assert port.fixed_ips == [{'subnet_id': subnet.id, 'ip_address': '10.0.0.31'}]
    again = conn.network.create_port(network_id=net.id,
                                     fixed_ips=[{'ip_address': '10.0.0.30'}])
    assert again.fixed_ips[0]['ip_address'] == '10.0.0.30'
    fails(sdk_exc.ConflictException, 'MacAddressInUse', f'The mac address '
          f'{port.mac_address} is in use.', conn.network.create_port, network_id=net.id,
          mac_address=port.mac_address)


# -- tags ------------------------------------------------------------------------------------

def test_tag_calls_and_status_codes(conn, raw):
    net = conn.network.create_network(name='t')
    path = f'/networks/{net.id}/tags'
    r = raw('PUT', path, json={'tags': ['zeta', 'alpha', 'mid']})
    assert r.status_code == 200 and r.json() == {'tags': ['alpha', 'mid', 'zeta']}
    r = raw('GET', path)
    assert r.status_code == 200 and r.json() == {'tags': ['alpha', 'mid', 'zeta']}
    assert raw('GET', path + '/alpha').status_code == 204
    r = raw('GET', path + '/nope')
    assert r.status_code == 404
    assert r.json()['NeutronError'] == {'type': 'TagNotFound', 'detail': '',
                                        'message': 'Tag nope could not be found.'}
    r = raw('PUT', path + '/beta')
    assert r.status_code == 201 and r.content == b''
    assert raw('DELETE', path + '/beta').status_code == 204
    assert raw('DELETE', path + '/beta').status_code == 404
    r = raw('POST', path, json={'tags': ['new']})
    assert r.status_code == 201 and 'new' in r.json()['tags']
    assert raw('DELETE', path).status_code == 204
    assert raw('GET', path).json() == {'tags': []}
    assert raw('GET', '/networks/nope/tags').status_code == 404


def test_tags_through_the_sdk(conn):
    net = conn.network.create_network(name='t')
    conn.network.set_tags(net, ['b', 'a'])
    assert conn.network.get_network(net.id).tags == ['a', 'b']
    conn.network.add_tag(net, 'c')
    assert conn.network.check_tag(net, 'c')
    with pytest.raises(sdk_exc.NotFoundException):
        conn.network.check_tag(net, 'zz')
    conn.network.remove_tag(net, 'a')
    assert conn.network.get_tags(net) == ['b', 'c']
    conn.network.add_tags(net, ['d', 'e'])
    assert conn.network.get_tags(net) == ['b', 'c', 'd', 'e']
    conn.network.remove_all_tags(net)
    assert conn.network.get_tags(net) == []
    tagged = conn.network.create_network(name='t2', tags=['bayflow', 'x'])
    assert tagged.tags == ['bayflow', 'x']


def test_tags_on_every_resource_type(conn, public):
    net, subnet, router = make_routed(conn, public)
    port = conn.network.create_port(network_id=net.id)
    fip = conn.network.create_ip(floating_network_id=public.id)
    sg = conn.network.create_security_group(name='sg')
    rule = conn.network.get_security_group_rule(sg.security_group_rules[0]['id'])
    for resource, getter in ((net, conn.network.get_network),
                             (subnet, conn.network.get_subnet),
                             (port, conn.network.get_port),
                             (router, conn.network.get_router),
                             (fip, conn.network.get_ip),
                             (sg, conn.network.get_security_group),
                             (rule, conn.network.get_security_group_rule)):
        conn.network.set_tags(resource, ['bayflow', 'bayflow-bay=1'])
        fetched = getter(resource.id)
        assert fetched.tags == ['bayflow', 'bayflow-bay=1'], type(resource)
        assert fetched.revision_number >= 1
    assert [p.id for p in conn.network.ports(tags='bayflow')] == [port.id]
    assert [i.id for i in conn.network.ips(tags='bayflow')] == [fip.id]


def test_tag_limits(conn, raw):
    net = conn.network.create_network(name='t')
    path = f'/networks/{net.id}/tags'
    r = raw('PUT', path, json={'tags': [f't{i:02d}' for i in range(51)]})
    assert r.status_code == 400
    assert r.json()['NeutronError']['type'] == 'InvalidInput'
    assert raw('PUT', path, json={'tags': [f't{i:02d}' for i in range(50)]}).status_code \
        == 200
    assert raw('PUT', path + '/one-more').status_code == 400
    r = raw('PUT', path, json={'tags': ['x' * 256]})
    assert r.status_code == 400 and 'exceeds maximum length of 255' in r.text
    assert raw('PUT', path, json={'tags': ['x' * 255]}).status_code == 200
    assert raw('PUT', path, json={'tags': ['a', 'a']}).status_code == 400
    fails(sdk_exc.BadRequestException, 'InvalidInput', 'exceeds maximum length',
          conn.network.add_tag, net, 'y' * 256)


def test_tag_filters(conn, raw):
    a = conn.network.create_network(name='a', tags=['red', 'blue'])
    b = conn.network.create_network(name='b', tags=['red'])
    c = conn.network.create_network(name='c', tags=['green'])

    def names(**query):
        return sorted(n.name for n in conn.network.networks(**query)
                      if n.name in ('a', 'b', 'c'))
    assert names(tags=['red', 'blue']) == ['a']            # repeated param
    assert names(tags='red,blue') == ['a']                 # comma form
    assert names(tags='red') == ['a', 'b']
    assert names(any_tags=['blue', 'green']) == ['a', 'c']
    assert names(any_tags='blue,green') == ['a', 'c']
    assert names(not_tags=['red', 'blue']) == ['b', 'c']
    assert names(not_any_tags='red,green') == []
    assert names(not_any_tags=['blue']) == ['b', 'c']
    r = raw('GET', '/networks?tags=red&tags-any=blue,green&not-tags=green')
    assert [n['id'] for n in r.json()['networks']] == [a.id]
    assert b.id and c.id


# -- filters, fields, sorting, pagination ------------------------------------------------------

def test_attribute_filters(conn, raw, public):
    net = conn.network.create_network(name='f1', description='find me')
    conn.network.create_network(name='f2')
    assert [n.id for n in conn.network.networks(name='f1')] == [net.id]
    assert [n.id for n in conn.network.networks(description='find me')] == [net.id]
    assert [n.id for n in conn.network.networks(id=net.id)] == [net.id]
    assert [n.id for n in conn.network.networks(is_router_external=True)] == [public.id]
    for value in ('True', 'true', 'TRUE'):
        r = raw('GET', f'/networks?router:external={value}')
        assert [n['id'] for n in r.json()['networks']] == [public.id]
    r = raw('GET', '/networks?name=f1&name=f2')
    assert sorted(n['name'] for n in r.json()['networks']) == ['f1', 'f2']
    r = raw('GET', '/networks?router:external=maybe')
    assert r.status_code == 400


def test_unknown_filter_is_400(conn, raw):
    r = raw('GET', '/networks?foo=bar')
    assert r.status_code == 400
    assert r.json()['NeutronError'] == {
        'type': 'HTTPBadRequest', 'detail': '',
        'message': "['foo'] is invalid attribute for filtering"}
    with pytest.raises(sdk_exc.BadRequestException, match='invalid attribute for filtering'):
        list(conn.network.ports(subnet_id='x'))


def test_port_filters(conn):
    net, subnet = make_net(conn)
    port = conn.network.create_port(network_id=net.id, device_owner='compute:nova',
                                    device_id='vm')
    assert [p.id for p in conn.network.ports(network_id=net.id,
                                             device_owner='compute:nova')] == [port.id]
    ip = port.fixed_ips[0]['ip_address']
    assert [p.id for p in conn.network.ports(fixed_ips=f'ip_address={ip}')] == [port.id]
    assert [p.id for p in conn.network.ports(
        fixed_ips=f'subnet_id={subnet.id}', device_id='vm')] == [port.id]


def test_fields_selection(raw, conn):
    net = conn.network.create_network(name='fields')
    r = raw('GET', '/networks?fields=id&fields=name&name=fields')
    assert r.json() == {'networks': [{'id': net.id, 'name': 'fields'}]}
    r = raw('GET', f'/networks/{net.id}?fields=status')
    assert r.json() == {'network': {'status': 'ACTIVE'}}


def test_sorting(raw, conn):
    for name in ('s-b', 's-c', 's-a'):
        conn.network.create_network(name=name)
    r = raw('GET', '/networks?sort_key=name&sort_dir=desc')
    names = [n['name'] for n in r.json()['networks']]
    assert names == sorted(names, reverse=True)
    assert raw('GET', '/networks?sort_key=bogus&sort_dir=asc').status_code == 400
    assert raw('GET', '/networks?sort_key=name').status_code == 400
    assert raw('GET', '/networks?sort_key=name&sort_dir=up').status_code == 400


def test_pagination_links(raw, conn):
    ids = sorted(conn.network.create_network(name=f'pg{i}').id for i in range(4))
    # the SDK follows the links (and asks once more past the last page)
    assert sorted(n.id for n in conn.network.networks(limit=2)
                  if n.name.startswith('pg')) == ids
    everything = sorted(n['id'] for n in raw('GET', '/networks').json()['networks'])
    assert len(everything) == 5
    r = raw('GET', '/networks?limit=2').json()
    assert [n['id'] for n in r['networks']] == everything[:2]
    links = {link['rel']: link['href'] for link in r['networks_links']}
    assert set(links) == {'next', 'previous'}
    assert f'marker={everything[1]}' in links['next'] and 'limit=2' in links['next']
    assert f'marker={everything[0]}' in links['previous']
    assert 'page_reverse=True' in links['previous']
    page = requests.get(links['next'], headers=raw.headers, timeout=10).json()
    assert [n['id'] for n in page['networks']] == everything[2:4]
    last = raw('GET', f'/networks?limit=2&marker={everything[3]}').json()
    assert [n['id'] for n in last['networks']] == everything[4:]
    assert [link['rel'] for link in last['networks_links']] == ['previous']
    # a full last page still gets a next link; the page after it is empty
    full = raw('GET', f'/networks?limit=1&marker={everything[3]}').json()
    assert 'next' in {link['rel'] for link in full['networks_links']}
    empty = raw('GET', f'/networks?limit=2&marker={everything[4]}').json()
    assert empty['networks'] == []
    assert raw('GET', '/networks?limit=2&marker=unknown').json()['networks'] == []
    back = raw('GET', f'/networks?limit=2&marker={everything[2]}&page_reverse=True').json()
    assert [n['id'] for n in back['networks']] == everything[:2]
    assert raw('GET', '/networks?limit=-1').status_code == 400


# -- the functions Nova calls ---------------------------------------------------------------

def test_nova_port_functions(sim, conn, public):
    net, subnet, router = make_routed(conn, public)
    pid = conn.current_project_id
    with sim.state.lock:
        sg = neutron.find_security_group(sim.state, pid, 'default')
        port = neutron.create_port(sim.state, pid, net.id, name='vm-port',
                                   device_owner='compute:nova', device_id='srv-1')
        assert port['security_groups'] == [sg['id']]
        assert port['fixed_ips'][0]['subnet_id'] == subnet.id
        bound = neutron.bind_port(sim.state, port['id'], 'srv-1', 'compute:nova')
        assert bound['status'] == 'ACTIVE' and bound['binding:host_id'] == 'sim-compute'
        with pytest.raises(neutron.ApiError) as info:
            neutron.bind_port(sim.state, port['id'], 'srv-2', 'compute:nova')
        assert info.value.status == 409
        assert info.value.body['NeutronError']['type'] == 'PortInUse'
        with pytest.raises(neutron.ApiError) as info:
            neutron.get_network(sim.state, 'nope')
        assert info.value.status == 404
        assert neutron.get_network(sim.state, net.id)['name'] == 'net'
        with pytest.raises(neutron.ApiError) as info:
            neutron.find_security_group(sim.state, pid, 'nope')
        assert info.value.status == 404
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port['id'])
    with sim.state.lock:
        addresses = neutron.server_addresses(sim.state, 'srv-1')
    assert addresses == {'net': [
        {'addr': port['fixed_ips'][0]['ip_address'], 'version': 4,
         'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': port['mac_address']},
        {'addr': fip.floating_ip_address, 'version': 4, 'OS-EXT-IPS:type': 'floating',
         'OS-EXT-IPS-MAC:mac_addr': port['mac_address']}]}
    seen = conn.network.get_port(port['id'])
    assert seen.device_id == 'srv-1' and seen.status == 'ACTIVE'
    with sim.state.lock:
        neutron.unbind_port(sim.state, port['id'])
    seen = conn.network.get_port(port['id'])
    assert (seen.device_id, seen.device_owner, seen.status) == ('', '', 'DOWN')
    with sim.state.lock:
        assert neutron.delete_port(sim.state, port['id']) is True
        assert neutron.delete_port(sim.state, port['id']) is False
        assert neutron.unbind_port(sim.state, port['id']) is None
    assert conn.network.get_ip(fip.id).port_id is None


def test_nova_create_port_rules(sim, conn, admin_conn):
    pid = conn.current_project_id
    theirs = admin_conn.network.create_network(name='theirs')
    net, subnet = make_net(conn, cidr='10.7.0.0/29', enable_dhcp=False)
    with sim.state.lock:
        with pytest.raises(neutron.ApiError) as info:
            neutron.create_port(sim.state, pid, theirs.id)
        assert info.value.body['NeutronError']['type'] == 'NetworkNotFound'
        with pytest.raises(neutron.ApiError) as info:
            neutron.create_port(sim.state, pid, net.id, security_group_ids=['nope'])
        assert info.value.body['NeutronError']['type'] == 'SecurityGroupNotFound'
        for _ in range(5):
            neutron.create_port(sim.state, pid, net.id)
        with pytest.raises(neutron.ApiError) as info:
            neutron.create_port(sim.state, pid, net.id)
        assert info.value.status == 409
        assert info.value.body['NeutronError']['type'] == 'IpAddressGenerationFailure'
