"""Inventory and teardown find the bay's resources by its full uuid only and
remove them in Neutron's order, on whole, half-built and torn-down bays;
reverts remove by name. Nothing that is not the bay's is touched."""

import pytest

from bayflow.drivers.cloud import TEARDOWN_ORDER, CloudError, CloudTeardownError, naming
from tests.functional.drivers.conftest import BayParts

KINDS = {'networks', 'subnets', 'routers', 'ports', 'floatingips', 'security_groups',
         'security_group_rules', 'servers', 'volumes'}


def snapshot(sim_admin, cloud=None):
    """Ids of everything in the cloud, per kind (with ``cloud``: after its
    project's ``default`` security group exists, which Neutron makes on first use)."""
    if cloud is not None:
        list(cloud.conn.network.security_groups())
    return {kind: sorted(r['id'] for r in items)
            for kind, items in sim_admin.resources().items() if kind in KINDS}


def look_alikes(cloud, bay_uuid):
    """Another bay whose uuid shares the first 24 characters, and a floating
    IP on a port that is no bay's (a management VM's, say)."""
    other = bay_uuid[:24] + ('0' if bay_uuid[24] != '0' else '1') + bay_uuid[25:]
    twin = BayParts(cloud, other)
    twin.fip()
    twin.volume()
    net = cloud.conn.network
    mgmt_net = net.create_network(name=f'bf-{bay_uuid[:8]}-private')
    subnet = net.create_subnet(network_id=mgmt_net.id, cidr='192.168.7.0/24', ip_version=4,
                               name=f'bf-{bay_uuid}')          # a name, not a tag
    router = net.create_router(name='mgmt',
                               external_gateway_info={'network_id': twin.ext()})
    net.add_interface_to_router(router, subnet=subnet.id)
    port = net.create_port(network_id=mgmt_net.id, name='mgmt-vm')
    net.create_ip(floating_network_id=twin.ext(), port_id=port.id,
                  description='bayflow-bay=' + bay_uuid[:8])
    return other


def test_full_bay_inventory_and_teardown(cloud, parts, sim_admin, bay_uuid):
    other = look_alikes(cloud, bay_uuid)
    before = snapshot(sim_admin, cloud)
    parts.full(masters=1, minions=2)
    inventory = cloud.bay_inventory(bay_uuid)
    assert {k: len(v) for k, v in inventory.items()} == {
        'servers': 3, 'volumes': 3, 'floating_ips': 3, 'routers': 1, 'ports': 3,
        'subnets': 1, 'networks': 1, 'security_groups': 2}
    assert inventory['routers'][0]['gateway'] == parts.ext()
    assert inventory['routers'][0]['interfaces'][0]['subnet_id'] == parts.subnet()['id']
    assert all(bay_uuid in item['name'] for kind in ('servers', 'volumes', 'ports',
                                                      'subnets', 'networks',
                                                      'security_groups', 'routers')
               for item in inventory[kind])

    removed = cloud.teardown(bay_uuid)
    assert {k: len(v) for k, v in removed.items()} == {
        k: len(v) for k, v in inventory.items()}
    assert snapshot(sim_admin) == before
    assert cloud.bay_inventory(bay_uuid) == {kind: [] for kind in TEARDOWN_ORDER}
    assert cloud.bay_inventory(other)['floating_ips']


def test_teardown_twice(cloud, parts, bay_uuid):
    parts.full(masters=1, minions=1)
    cloud.teardown(bay_uuid)
    assert cloud.teardown(bay_uuid) == {kind: [] for kind in TEARDOWN_ORDER}


def test_teardown_of_a_half_built_bay(cloud, parts, sim_admin, bay_uuid, sim):
    before = snapshot(sim_admin, cloud)
    parts.gateway()                       # router with a gateway, no interface yet
    parts.subnet()
    parts.groups()
    parts.port('minion', 0)
    sim.state.boot_seconds = 30           # the server stays in BUILD
    parts.server('master', 0)
    sim.state.boot_seconds = 1            # the volume is still creating at teardown
    parts.volume('minion', 0)
    assert sim_admin.named('volumes', naming.volume_name(bay_uuid, 'minion', 0))[0][
        'status'] == 'creating'
    sim.state.boot_seconds = 0.1
    removed = cloud.teardown(bay_uuid)
    assert len(removed['servers']) == 1 and len(removed['volumes']) == 1
    assert snapshot(sim_admin) == before


def test_transient_faults_during_teardown(cloud, parts, sim_admin, bay_uuid):
    before = snapshot(sim_admin, cloud)
    parts.full(masters=1, minions=0)
    for method, path, fault in (
            ('DELETE', r'/v2.0/ports/', {'status': 503}),
            ('DELETE', r'/v2.0/networks/', {'drop': True, 'after_effect': True}),
            ('PUT', r'/remove_router_interface$', {'status': 503, 'after_effect': True}),
            ('DELETE', r'/volumes/', {'drop': True})):
        sim_admin.fault(method=method, path=path, **fault)
    cloud.teardown(bay_uuid)
    assert snapshot(sim_admin) == before


def test_failed_step_names_the_leftovers(cloud, parts, sim_admin, bay_uuid):
    parts.full(masters=1, minions=0)
    sim_admin.fault(method='DELETE', path=r'/v2.0/subnets/', status=400, times=None)
    with pytest.raises(CloudTeardownError) as caught:
        cloud.teardown(bay_uuid)
    error = caught.value
    assert f'cannot delete subnet bf-{bay_uuid}-subnet: Injected fault' in str(error)
    assert f'left behind: subnets: bf-{bay_uuid}-subnet; networks: bf-{bay_uuid}-private; ' \
           f'security_groups: ' in str(error)
    assert error.leftovers['servers'] == [] and error.leftovers['routers'] == []
    sim_admin.clear_faults()
    cloud.teardown(bay_uuid)                 # bay-delete again finishes the job
    assert cloud.bay_inventory(bay_uuid) == {kind: [] for kind in TEARDOWN_ORDER}


def test_volume_attached_to_a_foreign_server(cloud, parts, sim_admin, bay_uuid):
    """The bay's volume on a server that is not the bay's: named, not detached."""
    twin = BayParts(cloud, '0f000000-0000-4000-8000-000000000000')
    foreign = twin.active_server()
    parts.volume()
    parts.wait_ready('volume', dict(parts.volume(), name='v'))
    cloud.conn.compute.create_volume_attachment(foreign['id'], parts.volume()['id'])
    with pytest.raises(CloudTeardownError, match=f'attached to server {foreign["id"]}') \
            as caught:
        cloud.teardown(bay_uuid)
    assert [v['name'] for v in caught.value.leftovers['volumes']] == [
        naming.volume_name(bay_uuid, 'master', 0)]
    assert sim_admin.named('servers', foreign['name'])


def test_reverts_by_name(cloud, parts, sim_admin, bay_uuid):
    before = snapshot(sim_admin, cloud)
    parts.full(masters=1, minions=0)
    server, volume, port = parts.server(), parts.volume(), parts.port()
    router, subnet = parts.router(), parts.subnet()

    def revert_all():
        return [cloud.detach_volume(server['id'], volume['id']),
                cloud.delete_server(bay_uuid, 'master', 0),
                cloud.delete_volume(bay_uuid, 'master', 0),
                cloud.delete_floating_ip(bay_uuid, port['id']),
                cloud.delete_port(bay_uuid, 'master', 0),
                cloud.delete_security_groups(bay_uuid, ['master', 'minion']),
                cloud.remove_router_interface(router['id'], subnet['id']),
                cloud.clear_router_gateway(router['id']),
                cloud.delete_router(bay_uuid),
                cloud.delete_subnet(bay_uuid),
                cloud.delete_network(bay_uuid)]
    assert revert_all() == [True] * 11
    assert snapshot(sim_admin) == before
    assert revert_all() == [False] * 11          # a revert may run twice


def test_router_revert_takes_interface_and_gateway(cloud, parts, bay_uuid):
    parts.gateway()
    parts.interface()
    assert cloud.delete_router(bay_uuid)
    assert cloud.delete_network(bay_uuid)
    assert cloud.bay_inventory(bay_uuid) == {kind: [] for kind in TEARDOWN_ORDER}


def test_floating_ip_on_a_bay_port_that_is_not_the_bay_s(cloud, parts, bay_uuid):
    parts.gateway()
    parts.interface()
    port = parts.port()
    cloud.conn.network.create_ip(floating_network_id=parts.ext(), port_id=port['id'])
    with pytest.raises(CloudError, match=f"which is not bay {bay_uuid}'s"):
        parts.fip()
    assert not cloud.delete_floating_ip(bay_uuid, port['id'])
    assert cloud.bay_inventory(bay_uuid)['floating_ips'] == []
