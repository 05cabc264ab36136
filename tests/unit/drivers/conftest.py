"""Shared inputs of the driver tests: a bay, its baymodel, its masters and one CA."""

import pytest

from bayflow.drivers import tls

BAY_UUID = '5d12f6fd-a196-4bf0-ae4c-1f639a523a52'
MASTERS = [{'fixed_ip': '10.0.0.3', 'floating_ip': '172.24.4.10'},
           {'fixed_ip': '10.0.0.4', 'floating_ip': '172.24.4.11'}]


@pytest.fixture(scope='session')
def ca():
    """One bay CA for the whole run."""
    return tls.make_ca(BAY_UUID, 'k8sbay')


def make_baymodel(**overrides):
    baymodel = {
        'uuid': 'b7a3e2a0-0d3c-4d59-9a37-2d6c1c0f2b11', 'name': 'k8s-atomic',
        'coe': 'kubernetes', 'cluster_distro': 'fedora-atomic', 'server_type': 'vm',
        'network_driver': 'flannel', 'labels': {}, 'tls_disabled': False,
        'flavor_id': 'm1.small', 'master_flavor_id': None, 'docker_volume_size': 5,
        'docker_storage_driver': 'devicemapper', 'floating_ip_enabled': True,
        'http_proxy': None, 'https_proxy': None, 'no_proxy': None,
    }
    baymodel.update(overrides)
    return baymodel


def make_bay(**overrides):
    bay = {'uuid': BAY_UUID, 'name': 'k8sbay', 'master_count': 2, 'node_count': 3,
           'discovery_url': None, 'api_address': 'https://172.24.4.10:6443'}
    bay.update(overrides)
    return bay


def make_context(role, index, ca, baymodel=None, **overrides):
    """A render_user_data context for one server, as the flows build it."""
    if role == 'master':
        own = MASTERS[index]
    else:
        own = {'fixed_ip': f'10.0.0.{10 + index}', 'floating_ip': f'172.24.4.{20 + index}'}
    context = {'bay': make_bay(), 'baymodel': baymodel or make_baymodel(), 'index': index,
               'fixed_ip': own['fixed_ip'], 'floating_ip': own['floating_ip'],
               'masters': MASTERS, 'cluster_subnet': '10.0.0.0/24', 'ca': ca}
    context.update(overrides)
    return context
