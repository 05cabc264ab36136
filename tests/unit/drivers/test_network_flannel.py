"""flannel: network JSON, ports, address pairs and user_data parts, per backend."""

import json

import pytest

from bayflow.drivers import network
from bayflow.drivers.rules import ANY_ROLE
from bayflow.exceptions import InvalidParameter
from bayflow.validation import effective_labels

from tests.unit.drivers.conftest import MASTERS, make_baymodel


@pytest.fixture
def flannel():
    return network.get_driver('flannel')


def effective(**labels):
    return effective_labels(labels, 'kubernetes', 'flannel')


@pytest.mark.parametrize('backend', ['udp', 'vxlan', 'host-gw'])
def test_config_is_what_flanneld_reads(flannel, backend):
    labels = effective(flannel_backend=backend, flannel_network_cidr='10.200.0.0/16',
                       flannel_network_subnetlen='26')
    assert flannel.config(labels) == {'Network': '10.200.0.0/16', 'SubnetLen': 26,
                                      'Backend': {'Type': backend}}


def test_config_defaults(flannel):
    assert flannel.config(effective()) == {'Network': '10.100.0.0/16', 'SubnetLen': 24,
                                           'Backend': {'Type': 'udp'}}
    assert flannel.config({}) == flannel.config(effective())


def test_mitaka_use_vxlan_label_means_vxlan(flannel):
    assert flannel.config(effective(flannel_use_vxlan='true'))['Backend'] == {'Type': 'vxlan'}


def test_validate_labels_delegates_to_validation(flannel):
    labels, warnings = flannel.validate_labels('kubernetes', {'flannel_use_vxlan': 'true'})
    assert labels == {'flannel_backend': 'vxlan'}
    assert warnings
    with pytest.raises(InvalidParameter, match='flannel_backend'):
        flannel.validate_labels('kubernetes', {'flannel_backend': 'gre'})


@pytest.mark.parametrize('backend, port', [('udp', 8285), ('vxlan', 8472)])
def test_encapsulating_backends_open_their_port_between_every_role(flannel, backend, port):
    rules = flannel.security_group_rules(effective(flannel_backend=backend))
    assert list(rules) == [ANY_ROLE]
    (rule,) = rules[ANY_ROLE]
    assert rule['protocol'] == 'udp'
    assert (rule['port_range_min'], rule['port_range_max']) == (port, port)
    assert rule['remote_role'] == ANY_ROLE and rule['remote_ip_prefix'] is None


def test_host_gw_opens_no_port_and_lets_the_pod_network_through(flannel):
    labels = effective(flannel_backend='host-gw', flannel_network_cidr='10.96.0.0/14')
    assert flannel.security_group_rules(labels) == {}
    assert flannel.allowed_address_pairs(labels) == [{'ip_address': '10.96.0.0/14'}]


@pytest.mark.parametrize('backend', ['udp', 'vxlan'])
def test_no_address_pairs_for_overlays(flannel, backend):
    assert flannel.allowed_address_pairs(effective(flannel_backend=backend)) == []


def _context(fixed_ip, **labels):
    return {'labels': effective(**labels), 'baymodel': make_baymodel(),
            'masters': MASTERS, 'fixed_ip': fixed_ip}


def test_params_point_flanneld_at_etcd(flannel):
    master = flannel.params('master', _context('10.0.0.4', flannel_backend='vxlan'))
    assert master['FLANNEL_ETCD_ENDPOINT'] == 'http://127.0.0.1:2379'
    assert master['FLANNEL_BACKEND'] == 'vxlan'
    assert master['FLANNEL_ETCD_PREFIX'] == '/atomic.io/network'
    node = flannel.params('node', _context('10.0.0.12'))
    assert node['FLANNEL_ETCD_ENDPOINT'] == 'http://10.0.0.3:2379'
    assert node['FLANNEL_IFACE'] == '10.0.0.12'
    assert node['NETWORK_DRIVER'] == 'flannel'
    assert (node['FLANNEL_NETWORK_CIDR'], node['FLANNEL_NETWORK_SUBNETLEN']) == \
        ('10.100.0.0/16', 24)


def test_masters_publish_the_config_and_every_role_runs_flanneld(flannel):
    context = _context('10.0.0.3', flannel_backend='host-gw', flannel_network_subnetlen='25')
    master = flannel.user_data_parts('master', context)
    assert [name for name, _ in master] == [
        'write-network-config.sh', 'network-config-service.sh', 'network-service.sh']
    script = master[0][1]
    body = script.split("<<'BAYFLOW_EOF'\n", 1)[1].split('\nBAYFLOW_EOF', 1)[0]
    assert '/etc/sysconfig/flannel-network.json' in script
    assert json.loads(body) == {'Network': '10.100.0.0/16', 'SubnetLen': 25,
                                'Backend': {'Type': 'host-gw'}}
    assert '/v2/keys$FLANNEL_ETCD_PREFIX/config' in master[1][1]
    node = flannel.user_data_parts('node', _context('10.0.0.12'))
    assert [name for name, _ in node] == ['network-service.sh']
    assert node[0][1].startswith('#!/bin/sh')
