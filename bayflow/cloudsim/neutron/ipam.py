"""Addresses and ports: IPAM (random among the first free addresses, as
Neutron's), and the port primitives every part uses (create, bind, remove)."""

import ipaddress
import random

from bayflow.cloudsim.errors import ApiError
from bayflow.cloudsim.neutron.base import (
    OWNER_FIP, SUBNETS, _attr_invalid, _err, _invalid, _ip, _no_ip, _std, _touch)

WINDOW = 1000       # IPAM picks randomly among the first 1000 free addresses


def _pool_ranges(subnet):
    return [(int(ipaddress.IPv4Address(p['start'])), int(ipaddress.IPv4Address(p['end'])))
            for p in subnet['allocation_pools']]


def _dotted(ip):
    return f'{ip >> 24}.{(ip >> 16) & 255}.{(ip >> 8) & 255}.{ip & 255}'


def _take_random(subnet, owner):
    """A random free address among (about) the first WINDOW free ones, or None.

    Every one of the first WINDOW free addresses of the pools lies in their
    first WINDOW + len(used) addresses: sample that prefix (cheap), and fall
    back to a scan when the prefix is crowded."""
    used = subnet['_used']
    ranges = _pool_ranges(subnet)
    prefix = min(sum(end - start + 1 for start, end in ranges), WINDOW + len(used))
    for _ in range(16):
        index = random.randrange(prefix) if prefix > 0 else 0
        for start, end in ranges:
            if index <= end - start:
                address = _dotted(start + index)
                break
            index -= end - start + 1
        else:
            break
        if address not in used:
            used[address] = owner
            return address
    candidates = []
    for start, end in ranges:
        ip = start
        while ip <= end and len(candidates) < WINDOW:
            text = _dotted(ip)
            if text not in used:
                candidates.append(text)
            ip += 1
        if len(candidates) >= WINDOW:
            break
    if not candidates:
        return None
    address = random.choice(candidates)
    used[address] = owner
    return address


def _release(state, fixed_ips):
    subnets = state.tables['subnets']
    for fixed in fixed_ips:
        subnet = subnets.get(fixed['subnet_id'])
        if subnet:
            subnet['_used'].pop(fixed['ip_address'], None)


def _check_ip_in_subnet(subnet, address):
    """True when ``address`` may be assigned on ``subnet`` (not net/broadcast)."""
    net = ipaddress.ip_network(subnet['cidr'])
    ip = ipaddress.ip_address(address)
    if ip.version != net.version or ip not in net:
        return False
    if net.prefixlen < 31 and ip in (net.network_address, net.broadcast_address):
        return False
    return True


def _network_subnets(state, net, version=None):
    subnets = state.tables['subnets']
    return [subnets[s] for s in net['subnets']
            if s in subnets and (version is None or subnets[s]['ip_version'] == version)]


def _allocate(state, net, requested, owner, device_owner=''):
    """Fixed IPs for a port: ``requested`` None means one automatic IPv4 address.

    Raises Neutron's errors, leaving nothing allocated."""
    out = []
    try:
        if requested is None:
            v4 = _network_subnets(state, net, 4)
            if not v4:
                return out
            for subnet in v4:
                address = _take_random(subnet, owner)
                if address:
                    out.append({'subnet_id': subnet['id'], 'ip_address': address})
                    return out
            raise _no_ip(net['id'])
        if not isinstance(requested, list):
            raise _attr_invalid('fixed_ips', f"Invalid data format for fixed IP: "
                                             f"'{requested}'")
        subnets = state.tables['subnets']
        for fixed in requested:
            if not isinstance(fixed, dict) or set(fixed) - {'subnet_id', 'ip_address'}:
                raise _attr_invalid('fixed_ips', f"Invalid data format for fixed IP: "
                                                 f"'{fixed}'")
            subnet_id, address = fixed.get('subnet_id'), fixed.get('ip_address')
            if address is not None:
                address = str(_ip(address, 'fixed_ips'))
            if subnet_id:
                subnet = subnets.get(subnet_id) if isinstance(subnet_id, str) else None
                if subnet is None:
                    raise SUBNETS.not_found(subnet_id)
                if subnet['network_id'] != net['id']:
                    raise _invalid(f"Failed to create port on network {net['id']}, "
                                   f"because fixed_ips included invalid subnet {subnet_id}")
                if address is not None and not _check_ip_in_subnet(subnet, address):
                    raise _err(400, 'InvalidIpForSubnet', f'IP address {address} is not a '
                               'valid IP for the specified subnet.')
            elif address is not None:
                subnet = next((s for s in _network_subnets(state, net)
                               if _check_ip_in_subnet(s, address)), None)
                if subnet is None:
                    raise _err(400, 'InvalidIpForNetwork', f'IP address {address} is not '
                               'a valid IP for any of the subnets on the specified network.')
            else:
                raise _invalid('IP allocation requires subnet_id or ip_address')
            if address is not None:
                if address in subnet['_used']:
                    raise _err(409, 'IpAddressInUse', f"Unable to complete operation for "
                               f"network {net['id']}. The IP address {address} is in use.")
                subnet['_used'][address] = owner
            else:
                address = _take_random(subnet, owner)
                if address is None:
                    raise _no_ip(net['id'])
            out.append({'subnet_id': subnet['id'], 'ip_address': address})
        return out
    except ApiError:
        _release(state, out)
        raise


def _mac():
    return 'fa:16:3e:%02x:%02x:%02x' % tuple(random.randrange(256) for _ in range(3))


def _new_port(state, net, project_id, fixed_ips, name='', device_id='', device_owner='',
              status='DOWN', security_groups=None, port_id=None, **extra):
    port = _std(project_id, name)
    if port_id:
        port['id'] = port_id
    port.update({'network_id': net['id'], 'admin_state_up': True, 'mac_address': _mac(),
                 'fixed_ips': fixed_ips, 'device_id': device_id,
                 'device_owner': device_owner, 'status': status,
                 'security_groups': list(security_groups or []),
                 'port_security_enabled': net.get('port_security_enabled', True),
                 'allowed_address_pairs': [], 'binding:host_id': '',
                 'binding:vif_type': 'unbound', 'binding:vnic_type': 'normal',
                 'binding:profile': {}, 'binding:vif_details': {}})
    port.update(extra)
    state.tables['ports'][port['id']] = port
    return port


def _bind(port, host):
    port['binding:host_id'] = host
    if host:
        port['binding:vif_type'] = 'ovs'
        port['binding:vif_details'] = {'port_filter': True, 'ovs_hybrid_plug': False}
    else:
        port['binding:vif_type'] = 'unbound'
        port['binding:vif_details'] = {}
    _set_port_status(port)


def _set_port_status(port):
    owner = port['device_owner']
    if owner == OWNER_FIP:
        port['status'] = 'N/A'
    elif owner.startswith('network:'):
        port['status'] = 'ACTIVE'
    elif port['binding:host_id'] and port['device_id'] and port['admin_state_up']:
        port['status'] = 'ACTIVE'
    else:
        port['status'] = 'DOWN'


def _remove_port(state, port):
    """Delete a port: its addresses, floating IP associations, router links."""
    for fip in state.tables['floatingips'].values():
        if fip['port_id'] == port['id']:
            _disassociate(fip)
    _release(state, port['fixed_ips'])
    router = state.tables['routers'].get(port['device_id'])
    if router and port['id'] in router.get('_interfaces', ()):
        router['_interfaces'].remove(port['id'])
    net = state.tables['networks'].get(port['network_id'])
    if net and net.get('_dhcp_port') == port['id']:
        net.pop('_dhcp_port')
    state.tables['ports'].pop(port['id'], None)


def _disassociate(fip):
    fip.update({'port_id': None, 'fixed_ip_address': None, 'router_id': None,
                'status': 'DOWN'})
    _touch(fip)
