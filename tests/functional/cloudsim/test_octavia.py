"""Octavia v2 in the simulator through openstacksdk's load_balancer proxy: a
load balancer with its VIP port in Neutron, listeners, pools, members and
health monitors, the PENDING_* statuses and their 409, cascade delete, and a
floating IP on the VIP. Raw HTTP for error bodies and discovery."""

import pytest
import requests
from openstack import exceptions

from tests.functional.cloudsim.conftest import Raw

# Key sets of Octavia's api-ref samples (api-ref/source/v2/examples/*-show-response.json)
LB_KEYS = {'description', 'admin_state_up', 'project_id', 'provisioning_status',
           'flavor_id', 'vip_subnet_id', 'vip_address', 'vip_network_id', 'vip_port_id',
           'provider', 'created_at', 'updated_at', 'id', 'operating_status', 'name',
           'vip_qos_policy_id', 'listeners', 'pools', 'tags', 'availability_zone'}
LISTENER_KEYS = {'description', 'admin_state_up', 'project_id', 'protocol', 'protocol_port',
                 'provisioning_status', 'default_tls_container_ref', 'loadbalancers',
                 'insert_headers', 'created_at', 'updated_at', 'id', 'operating_status',
                 'default_pool_id', 'sni_container_refs', 'l7policies', 'name',
                 'timeout_client_data', 'timeout_member_connect', 'timeout_member_data',
                 'timeout_tcp_inspect', 'tags', 'client_ca_tls_container_ref',
                 'client_authentication', 'client_crl_container_ref'}
POOL_KEYS = {'lb_algorithm', 'protocol', 'description', 'admin_state_up', 'loadbalancers',
             'created_at', 'provisioning_status', 'updated_at', 'session_persistence',
             'listeners', 'members', 'healthmonitor_id', 'project_id', 'id',
             'operating_status', 'name', 'tags'}
MEMBER_KEYS = {'monitor_port', 'project_id', 'name', 'weight', 'backup', 'admin_state_up',
               'subnet_id', 'created_at', 'provisioning_status', 'monitor_address',
               'updated_at', 'address', 'protocol_port', 'id', 'operating_status', 'tags'}
MONITOR_KEYS = {'project_id', 'name', 'admin_state_up', 'pools', 'created_at',
                'provisioning_status', 'updated_at', 'delay', 'expected_codes',
                'max_retries', 'http_method', 'timeout', 'max_retries_down', 'url_path',
                'type', 'id', 'operating_status', 'tags', 'http_version', 'domain_name'}


def settle(conn, lb):
    return conn.load_balancer.wait_for_load_balancer(lb.id, interval=0.02, wait=15)


def fault(response):
    body = response.json()
    assert set(body) == {'faultcode', 'faultstring', 'debuginfo'}, body
    return response.status_code, body['faultstring']


@pytest.fixture
def routed(conn):
    """A subnet on a router with a gateway on public (a floating IP can reach it)."""
    public = conn.network.find_network('public', ignore_missing=False)
    net = conn.network.create_network(name='bay')
    subnet = conn.network.create_subnet(network_id=net.id, cidr='10.0.0.0/24', ip_version=4)
    router = conn.network.create_router(name='r', external_gateway_info={
        'network_id': public.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    return public, subnet


def test_discovery(sim):
    versions = requests.get(f'{sim.url}/load-balancer', timeout=10).json()['versions']
    assert versions[0]['id'] == 'v2.0' and versions[-1]['status'] == 'CURRENT'


def test_load_balancer_with_listener_pool_members_fip_and_cascade_delete(
        sim, conn, routed, sim_admin):
    public, subnet = routed
    lb = conn.load_balancer.create_load_balancer(name='bay-api', vip_subnet_id=subnet.id)
    assert (lb.provisioning_status, lb.operating_status) == ('PENDING_CREATE', 'OFFLINE')
    vip_port = conn.network.get_port(lb.vip_port_id)
    assert vip_port.device_owner == 'Octavia' and vip_port.device_id == f'lb-{lb.id}'
    assert vip_port.fixed_ips[0] == {'subnet_id': subnet.id, 'ip_address': lb.vip_address}
    lb = settle(conn, lb)
    assert lb.operating_status == 'ONLINE'
    listener = conn.load_balancer.create_listener(name='api', protocol='TCP',
                                                  protocol_port=6443, loadbalancer_id=lb.id)
    assert conn.load_balancer.get_load_balancer(lb.id).provisioning_status == \
        'PENDING_UPDATE'
    settle(conn, lb)
    pool = conn.load_balancer.create_pool(name='masters', protocol='TCP',
                                          lb_algorithm='ROUND_ROBIN', listener_id=listener.id)
    settle(conn, lb)
    for address in ('10.0.0.10', '10.0.0.11'):
        conn.load_balancer.create_member(pool, address=address, protocol_port=6443,
                                         subnet_id=subnet.id)
        settle(conn, lb)
    assert {m.operating_status for m in conn.load_balancer.members(pool)} == {'NO_MONITOR'}
    monitor = conn.load_balancer.create_health_monitor(pool_id=pool.id, type='TCP', delay=5,
                                                       timeout=3, max_retries=3)
    settle(conn, lb)
    members = list(conn.load_balancer.members(pool))
    assert sorted(m.address for m in members) == ['10.0.0.10', '10.0.0.11']
    assert {(m.provisioning_status, m.operating_status) for m in members} == {
        ('ACTIVE', 'ONLINE')}
    assert conn.load_balancer.get_listener(listener.id).default_pool_id == pool.id
    assert conn.load_balancer.get_pool(pool.id).health_monitor_id == monitor.id
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=lb.vip_port_id)
    assert fip.fixed_ip_address == lb.vip_address and fip.status == 'ACTIVE'
    seen = sim_admin.get('resources')
    assert {k: len(seen[k]) for k in ('loadbalancers', 'listeners', 'pools', 'members',
                                      'healthmonitors')} == {
        'loadbalancers': 1, 'listeners': 1, 'pools': 1, 'members': 2, 'healthmonitors': 1}
    tree = conn.load_balancer.get_load_balancer(lb.id)
    assert tree.listeners == [{'id': listener.id}] and tree.pools == [{'id': pool.id}]
    conn.load_balancer.delete_load_balancer(lb, cascade=True)
    assert conn.load_balancer.get_load_balancer(lb.id).provisioning_status == \
        'PENDING_DELETE'
    conn.load_balancer.wait_for_delete(lb, interval=0.02, wait=15)
    assert list(conn.load_balancer.listeners()) == [] and list(conn.load_balancer.pools()) \
        == [] and list(conn.load_balancer.health_monitors()) == []
    assert conn.network.find_port(lb.vip_port_id) is None
    assert conn.network.get_ip(fip.id).port_id is None        # the FIP stays, released


def test_immutable_while_pending_and_delete_rules(sim, conn, routed):
    _, subnet = routed
    octavia = Raw(sim, conn, '/load-balancer/v2/lbaas')
    lb = conn.load_balancer.create_load_balancer(name='lb', vip_subnet_id=subnet.id)
    pending = octavia('POST', '/listeners', json={'listener': {
        'loadbalancer_id': lb.id, 'protocol': 'HTTP', 'protocol_port': 80}})
    assert fault(pending) == (409, f'Load Balancer {lb.id} is immutable and cannot be '
                                   'updated.')
    with pytest.raises(exceptions.ConflictException):
        conn.load_balancer.delete_load_balancer(lb)
    settle(conn, lb)
    conn.load_balancer.create_listener(protocol='HTTP', protocol_port=80,
                                       loadbalancer_id=lb.id)
    settle(conn, lb)
    busy = octavia('DELETE', f'/loadbalancers/{lb.id}')
    assert fault(busy) == (400, f'Validation failure: Cannot delete Load Balancer {lb.id} - '
                                'it has children')
    missing = octavia('GET', '/loadbalancers/nope')
    assert fault(missing) == (404, 'Load Balancer nope not found.')
    shown = octavia.get(f'/loadbalancers/{lb.id}')['loadbalancer']
    assert LB_KEYS <= set(shown)


def test_validation_and_conflicts(sim, conn, admin_conn, routed):
    _, subnet = routed
    octavia = Raw(sim, conn, '/load-balancer/v2/lbaas')
    no_vip = octavia('POST', '/loadbalancers', json={'loadbalancer': {'name': 'x'}})
    assert fault(no_vip) == (400, 'Validation failure: VIP must contain one of: '
                                  'vip_port_id, vip_network_id, vip_subnet_id.')
    lb = settle(conn, conn.load_balancer.create_load_balancer(vip_subnet_id=subnet.id))
    listener = conn.load_balancer.create_listener(protocol='HTTP', protocol_port=80,
                                                  loadbalancer_id=lb.id)
    settle(conn, lb)
    assert LISTENER_KEYS <= set(octavia.get(f'/listeners/{listener.id}')['listener'])
    again = octavia('POST', '/listeners', json={'listener': {
        'loadbalancer_id': lb.id, 'protocol': 'HTTP', 'protocol_port': 80}})
    assert fault(again) == (409, 'Another Listener on this Load Balancer is already using '
                                 'protocol HTTP and protocol_port 80')
    mismatch = octavia('POST', '/pools', json={'pool': {
        'listener_id': listener.id, 'protocol': 'UDP', 'lb_algorithm': 'ROUND_ROBIN'}})
    assert fault(mismatch) == (400, "Validation failure: The pool protocol 'UDP' is invalid "
                                    "while the listener protocol is 'HTTP'.")
    pool = conn.load_balancer.create_pool(protocol='HTTP', lb_algorithm='ROUND_ROBIN',
                                          listener_id=listener.id)
    settle(conn, lb)
    assert POOL_KEYS <= set(octavia.get(f'/pools/{pool.id}')['pool'])
    second = octavia('POST', '/pools', json={'pool': {
        'listener_id': listener.id, 'protocol': 'HTTP', 'lb_algorithm': 'ROUND_ROBIN'}})
    assert fault(second) == (409, 'This listener already has a default pool')
    member = conn.load_balancer.create_member(pool, address='10.0.0.5', protocol_port=80)
    settle(conn, lb)
    assert MEMBER_KEYS <= set(octavia.get(f'/pools/{pool.id}/members/{member.id}')['member'])
    dup = octavia('POST', f'/pools/{pool.id}/members', json={'member': {
        'address': '10.0.0.5', 'protocol_port': 80}})
    assert fault(dup) == (409, 'Another member on this pool is already using ip 10.0.0.5 on '
                               'protocol_port 80')
    monitor = conn.load_balancer.create_health_monitor(
        pool_id=pool.id, type='HTTP', delay=5, timeout=3, max_retries=2, url_path='/healthz')
    settle(conn, lb)
    shown = octavia.get(f'/healthmonitors/{monitor.id}')['healthmonitor']
    assert MONITOR_KEYS <= set(shown) and shown['url_path'] == '/healthz'
    twice = octavia('POST', '/healthmonitors', json={'healthmonitor': {
        'pool_id': pool.id, 'type': 'TCP', 'delay': 5, 'timeout': 3, 'max_retries': 2}})
    assert fault(twice) == (409, 'This pool already has a health monitor')
    theirs = settle(admin_conn, admin_conn.load_balancer.create_load_balancer(
        vip_network_id=admin_conn.network.find_network('public').id))
    assert fault(octavia('GET', f'/loadbalancers/{theirs.id}'))[0] == 403
    assert [b.id for b in conn.load_balancer.load_balancers()] == [lb.id]
    conn.load_balancer.delete_member(member, pool)
    settle(conn, lb)
    assert list(conn.load_balancer.members(pool)) == []


def test_build_error_fault_ends_in_error(sim, conn, routed, sim_admin):
    _, subnet = routed
    sim_admin.fault(method='POST', path='/lbaas/loadbalancers$', build_error=True)
    lb = conn.load_balancer.create_load_balancer(vip_subnet_id=subnet.id)
    with pytest.raises(exceptions.ResourceFailure):
        settle(conn, lb)
    failed = conn.load_balancer.get_load_balancer(lb.id)
    assert (failed.provisioning_status, failed.operating_status) == ('ERROR', 'ERROR')
    conn.load_balancer.delete_load_balancer(lb)
    conn.load_balancer.wait_for_delete(lb, interval=0.02, wait=15)
