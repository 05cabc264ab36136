"""Drivers come from stevedore entry points, chosen by (server_type, os_distro, coe) or name."""

from importlib import metadata

import pytest

from bayflow.drivers import coe, network, plugins
from bayflow.drivers.coe.k8s_fedora_atomic.driver import Driver as K8sAtomic
from bayflow.drivers.network.flannel import FlannelDriver
from bayflow.exceptions import BayflowError


def _entry_points(group):
    return {ep.name: ep.value for ep in metadata.entry_points(group=group)}


def test_entry_points_are_registered():
    assert _entry_points('bayflow.coe_drivers')['k8s_fedora_atomic'] == \
        'bayflow.drivers.coe.k8s_fedora_atomic.driver:Driver'
    assert _entry_points('bayflow.network_drivers')['flannel'] == \
        'bayflow.drivers.network.flannel:FlannelDriver'


def test_coe_driver_by_tuple():
    driver = coe.get_driver('kubernetes', 'fedora-atomic')
    assert isinstance(driver, K8sAtomic) and isinstance(driver, coe.CoeDriver)
    assert isinstance(coe.get_driver('kubernetes', 'fedora-atomic', 'vm'), K8sAtomic)
    assert ('vm', 'fedora-atomic', 'kubernetes') in coe.supported()


@pytest.mark.parametrize('coe_name, distro, server_type', [
    ('kubernetes', 'ubuntu', 'vm'),
    ('mesos', 'fedora-atomic', 'vm'),
    ('kubernetes', 'fedora-atomic', 'bm'),
    ('Kubernetes', 'fedora-atomic', 'vm'),
])
def test_unknown_tuple_names_what_is_supported(coe_name, distro, server_type):
    with pytest.raises(coe.BayTypeNotSupported) as caught:
        coe.get_driver(coe_name, distro, server_type)
    error = caught.value
    assert isinstance(error, BayflowError)
    text = str(error)
    assert repr(coe_name) in text and repr(distro) in text and repr(server_type) in text
    assert '(vm, fedora-atomic, kubernetes)' in text
    assert '\n' not in text
    assert error.supported == coe.supported()


def test_network_driver_by_name():
    driver = network.get_driver('flannel')
    assert isinstance(driver, FlannelDriver) and driver.name == 'flannel'
    assert 'flannel' in network.supported()


@pytest.mark.parametrize('name', ['Flannel', 'weave', None])
def test_unknown_network_driver(name):
    with pytest.raises(network.NetworkDriverNotSupported) as caught:
        network.get_driver(name)
    assert repr(name) in str(caught.value) and 'flannel' in str(caught.value)


def test_a_plugin_that_fails_to_load_is_named(monkeypatch):
    monkeypatch.setattr(plugins, 'load', lambda group: (
        (('k8s_fedora_atomic', K8sAtomic),), (('broken', 'ImportError: no module x'),)))
    with pytest.raises(coe.BayTypeNotSupported, match='broken: ImportError: no module x'):
        coe.get_driver('swarm', 'fedora-atomic')


def test_drivers_are_stateless_instances():
    assert coe.get_driver('kubernetes', 'fedora-atomic') is not \
        coe.get_driver('kubernetes', 'fedora-atomic')
    assert 'fedora-atomic' in repr(coe.get_driver('kubernetes', 'fedora-atomic'))
