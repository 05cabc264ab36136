"""Networks and subnets (with the DHCP port the agent would keep)."""

import ipaddress

from bayflow.cloudsim.state import new_id
from bayflow.cloudsim.neutron.base import (
    AUTO_DELETE_OWNERS, EXTERNAL_MTU, NETWORKS, OWNER_DHCP, OWNER_GW, TENANT_MTU,
    _attr_invalid, _bad, _bool, _check_quota, _err, _get, _http400, _int, _invalid, _ip,
    _policy, _project, _std, _string, _tags_of, _touch)
from bayflow.cloudsim.neutron import admin_attrs
from bayflow.cloudsim.neutron.ipam import (
    _network_subnets, _new_port, _release, _remove_port, _take_random)
from bayflow.cloudsim.neutron.secgroups import ensure_default_security_group


def _create_network(state, ctx, data, rid=None):
    project_id = _project(ctx, data)
    net = _std(project_id, _string(data.get('name', ''), 'name'),
               _string(data.get('description', ''), 'description'))
    external = _bool(data.get('router:external', False), 'router:external')
    shared = _bool(data.get('shared', False), 'shared')
    if external and not ctx.is_admin:
        raise _policy('create_network:router:external')
    if shared and not ctx.is_admin:
        raise _policy('create_network:shared')
    mtu = _int(data['mtu'], 'mtu', 68, 9000) if 'mtu' in data else (
        EXTERNAL_MTU if external else TENANT_MTU)
    hints = data.get('availability_zone_hints', [])
    if not isinstance(hints, list) or any(h != 'nova' for h in hints):
        raise _err(404, 'AvailabilityZoneNotFound',
                   f'AvailabilityZone {hints} could not be found.')
    tags = _tags_of(data)
    segment = admin_attrs.provider(state, ctx, data)
    _check_quota(state, project_id, 'network')
    net.update(segment)
    net.update({'admin_state_up': _bool(data.get('admin_state_up', True), 'admin_state_up'),
                'shared': shared, 'router:external': external, 'mtu': mtu,
                'status': 'ACTIVE', 'subnets': [],
                'port_security_enabled': _bool(data.get('port_security_enabled', True),
                                               'port_security_enabled'),
                'availability_zone_hints': list(hints), 'availability_zones': ['nova'],
                'l2_adjacency': True, 'tags': tags})
    net['id'] = rid or net['id']
    state.tables['networks'][net['id']] = net
    if rid is None:     # Neutron ensures the default SG on network create
        ensure_default_security_group(state, project_id)
    return net


def _update_network(state, ctx, net, data):
    admin_attrs.refuse_provider_update(data)
    for key in ('shared', 'router:external'):
        if key in data and not ctx.is_admin:
            raise _policy(f'update_network:{key}')
    if 'router:external' in data:
        external = _bool(data['router:external'], 'router:external')
        if net['router:external'] and not external:
            if any(p['network_id'] == net['id'] and p['device_owner'] == OWNER_GW
                   for p in state.tables['ports'].values()):
                raise _err(409, 'ExternalNetworkInUse',
                           f"External network {net['id']} cannot be updated to be made "
                           "non-external, since it has existing gateway ports.")
        net['router:external'] = external
        for subnet in _network_subnets(state, net):
            subnet['router:external'] = external
    for key in ('name', 'description'):
        if key in data:
            net[key] = _string(data[key], key)
    for key in ('admin_state_up', 'shared', 'port_security_enabled'):
        if key in data:
            net[key] = _bool(data[key], key)
    if 'mtu' in data:
        net['mtu'] = _int(data['mtu'], 'mtu', 68, 9000)
    _touch(net)
    return net


def _delete_network(state, ctx, net):
    ports = [p for p in state.tables['ports'].values() if p['network_id'] == net['id']]
    in_use = [p['id'] for p in ports if p['device_owner'] not in AUTO_DELETE_OWNERS]
    if in_use:
        raise _err(409, 'NetworkInUse', f"Unable to complete operation on network "
                   f"{net['id']}. There are one or more ports still in use on the network, "
                   f"id for these ports is: {', '.join(in_use)}.")
    for port in ports:
        _remove_port(state, port)
    for subnet in _network_subnets(state, net):
        del state.tables['subnets'][subnet['id']]
    del state.tables['networks'][net['id']]


def get_network(state, network_id):
    """The stored network (Nova: networks=[{"uuid"}]); 404 NetworkNotFound."""
    return _get(state, NETWORKS, network_id)


def _default_pools(net, gateway):
    first, last = int(net.network_address) + 1, int(net.broadcast_address) - 1
    if net.prefixlen >= 31:
        first, last = int(net.network_address), int(net.broadcast_address)
    ranges = []
    if gateway is None or not first <= int(gateway) <= last:
        ranges.append((first, last))
    else:
        g = int(gateway)
        if first <= g - 1:
            ranges.append((first, g - 1))
        if g + 1 <= last:
            ranges.append((g + 1, last))
    return [{'start': str(ipaddress.IPv4Address(a)), 'end': str(ipaddress.IPv4Address(b))}
            for a, b in ranges]


def _validate_pools(pools, net, gateway):
    if not isinstance(pools, list):
        raise _attr_invalid('allocation_pools', f"Invalid data format for IP pool: "
                                                f"'{pools}'")
    ranges = []
    for pool in pools:
        if not isinstance(pool, dict) or set(pool) != {'start', 'end'}:
            raise _attr_invalid('allocation_pools', f"Invalid data format for IP pool: "
                                                    f"'{pool}'")
        start = _ip(pool['start'], 'allocation_pools')
        end = _ip(pool['end'], 'allocation_pools')
        text = f"{pool['start']}-{pool['end']}"
        if start.version != 4 or end.version != 4 or start > end:
            raise _err(400, 'InvalidAllocationPool',
                       f'The allocation pool {text} is not valid.')
        if start not in net or end not in net or (
                net.prefixlen < 31 and (start == net.network_address
                                        or end == net.broadcast_address)):
            raise _err(400, 'OutOfBoundsAllocationPool', f'The allocation pool {text} '
                       f'spans beyond the subnet cidr {net}.')
        ranges.append((int(start), int(end), text))
    ranges.sort()
    for (a1, b1, t1), (a2, b2, t2) in zip(ranges, ranges[1:]):
        if a2 <= b1:
            raise _err(409, 'OverlappingAllocationPools', f'Found overlapping allocation '
                       f'pools: {t1} {t2} for subnet {net}.')
    if gateway is not None:
        for a, b, text in ranges:
            if a <= int(gateway) <= b:
                raise _err(409, 'GatewayConflictWithAllocationPools',
                           f'Gateway ip {gateway} conflicts with allocation pool {text}.')
    return [{'start': str(ipaddress.IPv4Address(a)), 'end': str(ipaddress.IPv4Address(b))}
            for a, b, _ in ranges]


def _nameservers(value):
    if not isinstance(value, list):
        raise _attr_invalid('dns_nameservers', f"'{value}' is not a list")
    out = []
    for item in value:
        text = str(_ip(item, 'dns_nameservers'))
        if text in out:
            raise _attr_invalid('dns_nameservers', f"Duplicate nameserver '{text}'")
        out.append(text)
    return out


def _host_routes(value):
    if not isinstance(value, list):
        raise _attr_invalid('host_routes', f"'{value}' is not a list")
    out = []
    for route in value:
        if not isinstance(route, dict) or set(route) != {'destination', 'nexthop'}:
            raise _attr_invalid('host_routes', f"Invalid data format for hostroute: "
                                               f"'{route}'")
        try:
            dest = str(ipaddress.ip_network(route['destination'], strict=False))
        except (TypeError, ValueError):
            raise _attr_invalid('host_routes', f"'{route['destination']}' is not a valid "
                                               "IP subnet")
        entry = {'destination': dest, 'nexthop': str(_ip(route['nexthop'], 'host_routes'))}
        if entry in out:
            raise _attr_invalid('host_routes', f"Duplicate hostroute '{route}'")
        out.append(entry)
    return out


def _create_subnet(state, ctx, data, rid=None):
    for key in ('network_id', 'ip_version'):
        if key not in data:
            raise _http400(f"Failed to parse request. Required attribute '{key}' not "
                           "specified")
    net = _get(state, NETWORKS, data['network_id'], ctx)
    if not ctx.is_admin and net['project_id'] != ctx.project_id:
        raise _policy('create_subnet')
    version = _int(data['ip_version'], 'ip_version')
    if version not in (4, 6):
        raise _attr_invalid('ip_version', f"{version} is not in [4, 6]")
    if version == 6:
        raise _bad('subnet', 'IPv6 subnets are not modelled by the bayflow simulator')
    if data.get('subnetpool_id') is not None:
        raise _err(404, 'SubnetPoolNotFound',
                   f"Subnet pool {data['subnetpool_id']} could not be found.")
    if data.get('cidr') is None:
        raise _bad('subnet', 'a subnetpool must be specified in the absence of a cidr')
    cidr = data['cidr']
    try:
        if not isinstance(cidr, str) or '/' not in cidr:
            raise ValueError
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise _attr_invalid('cidr', f"'{cidr}' is not a valid IP subnet")
    if network.version != 4:
        raise _invalid('Cidr version does not match ip_version')
    if network.prefixlen > 30:
        raise _invalid(f'Invalid CIDR {network} for IPv4 subnet (prefix too long)')
    for other in _network_subnets(state, net):
        if ipaddress.ip_network(other['cidr']).overlaps(network):
            raise _invalid(f"Requested subnet with cidr: {network} for network: "
                           f"{net['id']} overlaps with another subnet")
    project_id = _project(ctx, data)
    if 'gateway_ip' in data and data['gateway_ip'] is None:
        gateway = None
    elif 'gateway_ip' in data:
        gateway = _ip(data['gateway_ip'], 'gateway_ip')
        if gateway not in network or gateway in (network.network_address,
                                                 network.broadcast_address):
            raise _invalid('Gateway is not valid on subnet')
    else:
        gateway = network.network_address + 1
    if data.get('allocation_pools') is not None:
        pools = _validate_pools(data['allocation_pools'], network, gateway)
    else:
        pools = _default_pools(network, gateway)
    dns = _nameservers(data.get('dns_nameservers', []))
    routes = _host_routes(data.get('host_routes', []))
    tags = _tags_of(data)
    _check_quota(state, project_id, 'subnet')
    subnet = _std(project_id, _string(data.get('name', ''), 'name'),
                  _string(data.get('description', ''), 'description'))
    subnet.update({'network_id': net['id'], 'cidr': str(network), 'ip_version': 4,
                   'gateway_ip': None if gateway is None else str(gateway),
                   'allocation_pools': pools, 'dns_nameservers': dns, 'host_routes': routes,
                   'enable_dhcp': _bool(data.get('enable_dhcp', True), 'enable_dhcp'),
                   'ipv6_address_mode': None, 'ipv6_ra_mode': None, 'subnetpool_id': None,
                   'router:external': net['router:external'], 'tags': tags, '_used': {}})
    subnet['id'] = rid or subnet['id']
    state.tables['subnets'][subnet['id']] = subnet
    net['subnets'].append(subnet['id'])
    _touch(net)
    _sync_dhcp(state, net)
    return subnet


def _update_subnet(state, ctx, subnet, data):
    network = ipaddress.ip_network(subnet['cidr'])
    gateway = ipaddress.ip_address(subnet['gateway_ip']) if subnet['gateway_ip'] else None
    if 'gateway_ip' in data:
        if data['gateway_ip'] is None:
            new_gw = None
        else:
            new_gw = _ip(data['gateway_ip'], 'gateway_ip')
            if new_gw not in network or new_gw in (network.network_address,
                                                   network.broadcast_address):
                raise _invalid('Gateway is not valid on subnet')
        if gateway is not None and new_gw != gateway:
            holder = subnet['_used'].get(str(gateway))
            if holder:
                raise _err(409, 'GatewayIpInUse', f'Current gateway ip {gateway} already '
                           f'in use by port {holder}. Unable to update.')
        gateway = new_gw
    if 'allocation_pools' in data:
        pools = _validate_pools(data['allocation_pools'], network, gateway)
    else:
        pools = _validate_pools(subnet['allocation_pools'], network, gateway)
    subnet['gateway_ip'] = None if gateway is None else str(gateway)
    subnet['allocation_pools'] = pools
    if 'dns_nameservers' in data:
        subnet['dns_nameservers'] = _nameservers(data['dns_nameservers'])
    if 'host_routes' in data:
        subnet['host_routes'] = _host_routes(data['host_routes'])
    for key in ('name', 'description'):
        if key in data:
            subnet[key] = _string(data[key], key)
    dhcp_changed = False
    if 'enable_dhcp' in data:
        enable = _bool(data['enable_dhcp'], 'enable_dhcp')
        dhcp_changed = enable != subnet['enable_dhcp']
        subnet['enable_dhcp'] = enable
    _touch(subnet)
    if dhcp_changed:
        _sync_dhcp(state, state.tables['networks'][subnet['network_id']])
    return subnet


def _delete_subnet(state, ctx, subnet):
    users = [p for p in state.tables['ports'].values()
             if p['network_id'] == subnet['network_id']
             and any(f['subnet_id'] == subnet['id'] for f in p['fixed_ips'])]
    if any(p['device_owner'] not in AUTO_DELETE_OWNERS for p in users):
        raise _err(409, 'SubnetInUse', f"Unable to complete operation on subnet "
                   f"{subnet['id']}: One or more ports have an IP allocation from this "
                   "subnet.")
    net = state.tables['networks'][subnet['network_id']]
    del state.tables['subnets'][subnet['id']]
    net['subnets'].remove(subnet['id'])
    _touch(net)
    for port in users:          # auto-deletable (DHCP) ports lose their address here
        port['fixed_ips'] = [f for f in port['fixed_ips'] if f['subnet_id'] != subnet['id']]
    _sync_dhcp(state, net)


def _sync_dhcp(state, net):
    """Keep the network's DHCP port (as the DHCP agent would): one address on
    each DHCP-enabled subnet; gone when no such subnet is left."""
    ports = state.tables['ports']
    port = ports.get(net.get('_dhcp_port') or '')
    wanted = [s for s in _network_subnets(state, net, 4) if s['enable_dhcp']]
    if not wanted:
        if port:
            _remove_port(state, port)
        net.pop('_dhcp_port', None)
        return
    if port is None:
        port = _new_port(state, net, net['project_id'], [], device_owner=OWNER_DHCP,
                         status='ACTIVE', security_groups=[])
        port['device_id'] = f"dhcp{new_id().replace('-', '')[:32]}-{net['id']}"
        port['binding:host_id'] = 'sim-network'
        port['binding:vif_type'] = 'ovs'
        net['_dhcp_port'] = port['id']
    keep = {s['id'] for s in wanted}
    dropped = [f for f in port['fixed_ips'] if f['subnet_id'] not in keep]
    _release(state, dropped)
    fixed = [f for f in port['fixed_ips'] if f['subnet_id'] in keep]
    have = {f['subnet_id'] for f in fixed}
    for subnet in wanted:
        if subnet['id'] not in have:
            address = _take_random(subnet, port['id'])
            if address:             # the agent just logs an exhausted subnet
                fixed.append({'subnet_id': subnet['id'], 'ip_address': address})
    port['fixed_ips'] = fixed
