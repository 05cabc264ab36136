"""What an admin sees and sets in the simulator's Neutron beyond a member:
provider networks and HA/DVR routers, through openstacksdk."""

from openstack import exceptions as sdk_exc

from tests.functional.cloudsim.test_neutron import fails


def test_extensions_for_admin_attributes(conn):
    aliases = {e.alias for e in conn.network.extensions()}
    assert {'provider', 'l3-ha', 'dvr'} <= aliases


def test_provider_networks(conn, admin_conn):
    vlan = admin_conn.network.create_network(
        name='vlan100', provider_network_type='vlan',
        provider_physical_network='physnet1', provider_segmentation_id=100)
    assert (vlan.provider_network_type, vlan.provider_physical_network,
            vlan.provider_segmentation_id) == ('vlan', 'physnet1', 100)
    fails(sdk_exc.ConflictException, 'VlanIdInUse', 'Unable to create the network. The '
          'VLAN 100 on physical network physnet1 is in use.',
          admin_conn.network.create_network, name='again', provider_network_type='vlan',
          provider_physical_network='physnet1', provider_segmentation_id=100)
    fails(sdk_exc.ConflictException, 'FlatNetworkInUse', 'Unable to create the flat '
          'network. Physical network public is in use.', admin_conn.network.create_network,
          name='flat', provider_network_type='flat', provider_physical_network='public')
    fails(sdk_exc.BadRequestException, 'InvalidInput', "network_type value 'gre' not "
          'supported', admin_conn.network.create_network, provider_network_type='gre')
    fails(sdk_exc.ForbiddenException, 'PolicyNotAuthorized',
          'rule:create_network:provider:network_type is disallowed by policy',
          conn.network.create_network, name='mine', provider_network_type='vxlan')
    fails(sdk_exc.BadRequestException, 'InvalidInput', 'Plugin does not support updating',
          admin_conn.network.update_network, vlan, provider_segmentation_id=101)
    mine = conn.network.create_network(name='mine')
    assert mine.provider_network_type is None            # hidden from a member
    seen = admin_conn.network.get_network(mine.id)
    assert seen.provider_network_type == 'vxlan' and seen.provider_segmentation_id >= 1
    found = admin_conn.network.networks(provider_network_type='vlan')
    assert [n.name for n in found] == ['vlan100']


def test_ha_and_distributed_routers(conn, admin_conn):
    router = admin_conn.network.create_router(name='ha', ha=True)
    assert router.is_ha is True and router.is_distributed is False
    plain = conn.network.create_router(name='mine')
    assert plain.is_ha is None and plain.is_distributed is None     # member: hidden
    seen = admin_conn.network.get_router(plain.id)
    assert seen.is_ha is False and seen.is_distributed is False
    fails(sdk_exc.ForbiddenException, 'PolicyNotAuthorized',
          'rule:create_router:ha is disallowed by policy', conn.network.create_router,
          name='x', ha=True)
    fails(sdk_exc.BadRequestException, 'BadRequest', 'Cannot upgrade active router to '
          'distributed. Please set router admin_state_up to False prior to upgrade',
          admin_conn.network.update_router, plain, distributed=True)
    down = admin_conn.network.update_router(plain, is_admin_state_up=False,
                                            distributed=True)
    assert down.is_distributed is True
