"""The kubernetes driver's bay shape: roles, names, security groups, API address."""

import pytest

from bayflow.drivers import coe, network
from bayflow.validation import effective_labels

from tests.unit.drivers.conftest import BAY_UUID, MASTERS, make_bay, make_baymodel


@pytest.fixture
def k8s():
    return coe.get_driver('kubernetes', 'fedora-atomic')


def _labels(**labels):
    return effective_labels(labels, 'kubernetes', 'flannel')


def allows(rules, protocol, port, remote_role):
    """Whether a rule admits ``protocol``/``port`` from the ``remote_role`` group."""
    for rule in rules:
        if rule['remote_ip_prefix'] is not None:
            continue
        if rule['remote_role'] not in (None, remote_role):
            continue
        if rule['protocol'] not in (None, protocol):
            continue
        low, high = rule['port_range_min'], rule['port_range_max']
        if low is None or low <= port <= high:
            return True
    return False


def test_roles(k8s):
    baymodel = make_baymodel(master_flavor_id='m1.large')
    assert k8s.roles(make_bay(), baymodel) == [
        {'role': 'master', 'count': 2, 'flavor': 'm1.large', 'volume_size': 5},
        {'role': 'node', 'count': 3, 'flavor': 'm1.small', 'volume_size': 5},
    ]
    roles = k8s.roles(make_bay(master_count=1, node_count=1),
                      make_baymodel(docker_volume_size=None))
    assert [(r['flavor'], r['volume_size']) for r in roles] == \
        [('m1.small', None), ('m1.small', None)]
    assert [r['role'] for r in k8s.roles(make_bay())] == ['master', 'node']


def test_server_names_carry_the_bay_role_and_index(k8s):
    # The Nova name is the hostname: the full uuid, and short enough for one.
    assert k8s.server_name(BAY_UUID, 'master', 0) == f'bf-{BAY_UUID}-master-0'
    assert k8s.server_name(BAY_UUID, 'node', 12) == f'bf-{BAY_UUID}-node-12'
    assert len(k8s.server_name(BAY_UUID, 'master', 999)) <= 63
    assert '_' not in k8s.server_name(BAY_UUID, 'node', 1)


@pytest.mark.parametrize('backend, port', [('udp', 8285), ('vxlan', 8472)])
def test_flannel_port_open_between_masters_and_nodes(k8s, backend, port):
    groups = k8s.security_groups(make_baymodel(), 'flannel', _labels(flannel_backend=backend))
    assert set(groups) == {'master', 'node'}
    for role in ('master', 'node'):
        for remote in ('master', 'node'):
            assert allows(groups[role], 'udp', port, remote), (role, remote)
        assert any(r['protocol'] == 'udp' and r['port_range_min'] == port
                   and r['remote_role'] == 'master' for r in groups[role])
        # Never to the world.
        assert not allows(groups[role], 'udp', port, 'elsewhere')


def test_host_gw_adds_no_flannel_port(k8s):
    groups = k8s.security_groups(make_baymodel(), 'flannel', _labels(flannel_backend='host-gw'))
    assert not allows(groups['master'], 'udp', 8285, 'node')
    assert not allows(groups['master'], 'udp', 8472, 'node')
    flannel_ports = [r for rules in groups.values() for r in rules
                     if r['port_range_min'] in (8285, 8472)]
    assert flannel_ports == []


def test_master_and_node_rules(k8s):
    groups = k8s.security_groups(make_baymodel(), network.get_driver('flannel'), _labels())
    master, node = groups['master'], groups['node']
    assert allows(master, 'tcp', 6443, 'elsewhere')
    assert allows(master, 'tcp', 22, 'elsewhere')
    assert allows(master, 'icmp', 0, 'elsewhere')
    assert not allows(master, 'tcp', 8080, 'elsewhere')
    assert not allows(master, 'tcp', 2379, 'elsewhere')      # etcd only inside the bay
    assert allows(master, 'tcp', 2379, 'node') and allows(master, 'tcp', 2380, 'master')
    assert allows(node, 'tcp', 30000, 'elsewhere') and allows(node, 'tcp', 32767, 'elsewhere')
    assert allows(node, 'tcp', 10250, 'master') and not allows(node, 'tcp', 10250, 'elsewhere')
    assert allows(node, 'udp', 53, 'node')
    for rules in groups.values():
        assert len(rules) == len({tuple(sorted(r.items())) for r in rules})   # no repeats
        for rule in rules:
            assert rule['direction'] == 'ingress' and rule['ethertype'] == 'IPv4'
            assert rule['remote_role'] in (None, 'master', 'node')


def test_tls_disabled_opens_the_insecure_port(k8s):
    groups = k8s.security_groups(make_baymodel(tls_disabled=True))
    assert allows(groups['master'], 'tcp', 8080, 'elsewhere')
    assert not allows(groups['master'], 'tcp', 6443, 'elsewhere')


def test_labels_default_from_the_baymodel(k8s):
    baymodel = make_baymodel(labels={'flannel_backend': 'vxlan'})
    groups = k8s.security_groups(baymodel)
    assert allows(groups['master'], 'udp', 8472, 'node')
    assert k8s.allowed_address_pairs(baymodel) == []
    host_gw = make_baymodel(labels={'flannel_backend': 'host-gw'})
    assert k8s.allowed_address_pairs(host_gw) == [{'ip_address': '10.100.0.0/16'}]


def test_api_address(k8s):
    master = MASTERS[0]
    assert k8s.api_address(make_baymodel(), master) == 'https://172.24.4.10:6443'
    assert k8s.api_address(make_baymodel(tls_disabled=True), master) == \
        'http://172.24.4.10:8080'
    assert k8s.api_address(make_baymodel(floating_ip_enabled=False), master) == \
        'https://10.0.0.3:6443'
    assert k8s.api_address(make_baymodel(), {'fixed_ip': '10.0.0.3', 'floating_ip': None}) \
        == 'https://10.0.0.3:6443'
