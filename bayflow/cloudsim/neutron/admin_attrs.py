"""What an admin sees and sets beyond a member: provider network attributes
(the ``provider`` extension, ML2's type drivers) and router ``ha`` /
``distributed`` (``l3-ha``, ``dvr``). Members neither see nor set them."""

from bayflow.cloudsim.neutron.base import (
    ADMIN_ONLY, _bad, _bool, _err, _int, _invalid, _policy, _string)

PROVIDER = ADMIN_ONLY['networks']
ROUTER_MODES = ADMIN_ONLY['routers']
PHYSICAL_NETWORKS = ('public', 'physnet1')     # the bridge mappings of the agents
TENANT_TYPE = 'vxlan'                          # ml2 tenant_network_types
_RANGES = {'vlan': (1, 4094), 'vxlan': (1, 16777215), 'geneve': (1, 16777215)}


def _taken(state, network_type, physical_network):
    return {n.get('provider:segmentation_id') for n in state.tables['networks'].values()
            if n.get('provider:network_type') == network_type
            and n.get('provider:physical_network') == physical_network}


def _allocate(state, network_type, physical_network):
    low, high = _RANGES[network_type]
    taken = _taken(state, network_type, physical_network)
    return next(i for i in range(low, high + 1) if i not in taken)


def provider(state, ctx, data):
    """The provider attributes of a new network (a tenant VXLAN segment unless an
    admin asks otherwise); Neutron's validation and in-use errors."""
    asked = {k: data[k] for k in PROVIDER if data.get(k) is not None}
    for key in asked:
        if not ctx.is_admin:
            raise _policy(f'create_network:{key}')
    if not asked:
        return {'provider:network_type': TENANT_TYPE, 'provider:physical_network': None,
                'provider:segmentation_id': _allocate(state, TENANT_TYPE, None)}
    network_type = _string(asked.get('provider:network_type', TENANT_TYPE),
                           'provider:network_type')
    physnet = asked.get('provider:physical_network')
    segment = asked.get('provider:segmentation_id')
    if segment is not None:
        segment = _int(segment, 'provider:segmentation_id')
    if network_type not in ('flat', 'vlan', 'vxlan', 'geneve', 'local'):
        raise _invalid(f"network_type value '{network_type}' not supported")
    if network_type in ('flat', 'vlan'):
        if physnet is None and network_type == 'flat':
            raise _invalid('physical_network required for flat provider network')
        physnet = physnet or PHYSICAL_NETWORKS[-1]
        if physnet not in PHYSICAL_NETWORKS:
            raise _invalid(f"physical_network '{physnet}' unknown for {network_type} "
                           "provider network")
    elif physnet is not None:
        raise _invalid(f'physical_network prohibited for {network_type} provider network')
    if network_type in ('flat', 'local'):
        if segment is not None:
            raise _invalid(f'segmentation_id prohibited for {network_type} provider '
                           'network')
        if network_type == 'flat' and _taken(state, 'flat', physnet):
            raise _err(409, 'FlatNetworkInUse', 'Unable to create the flat network. '
                       f'Physical network {physnet} is in use.')
    else:
        low, high = _RANGES[network_type]
        if segment is None:
            segment = _allocate(state, network_type, physnet)
        elif not low <= segment <= high:
            raise _invalid(f'segmentation_id out of range ({low} through {high})')
        elif segment in _taken(state, network_type, physnet):
            if network_type == 'vlan':
                raise _err(409, 'VlanIdInUse', f'Unable to create the network. The VLAN '
                           f'{segment} on physical network {physnet} is in use.')
            raise _err(409, 'TunnelIdInUse', 'Unable to create the network. The tunnel ID '
                       f'{segment} is in use.')
    return {'provider:network_type': network_type, 'provider:physical_network': physnet,
            'provider:segmentation_id': segment}


def refuse_provider_update(data):
    if any(key in data for key in PROVIDER):
        raise _invalid('Plugin does not support updating the following provider network '
                       f"attributes: {sorted(k for k in PROVIDER if k in data)}")


def router_modes(ctx, data):
    """``ha`` and ``distributed`` of a new router (false unless an admin says)."""
    modes = {}
    for key in ROUTER_MODES:
        if data.get(key) is not None and not ctx.is_admin:
            raise _policy(f'create_router:{key}')
        modes[key] = _bool(data.get(key, False), key)
    return modes


def update_router_modes(ctx, router, data):
    """An admin may switch HA or DVR only on a router that is down (Neutron's rule)."""
    for key in ROUTER_MODES:
        if key not in data:
            continue
        if not ctx.is_admin:
            raise _policy(f'update_router:{key}')
        value = _bool(data[key], key)
        if value == router[key]:
            continue
        admin_up = _bool(data.get('admin_state_up', router['admin_state_up']),
                         'admin_state_up')
        if admin_up:
            if key == 'ha':
                raise _bad('router', 'Cannot change HA attribute of active routers. Please '
                                     'set router admin_state_up to False prior to upgrade')
            raise _bad('router', 'Cannot upgrade active router to distributed. Please set '
                                 'router admin_state_up to False prior to upgrade')
        router[key] = value

