"""Ports, and the port functions Nova calls (see the package docstring)."""

import ipaddress

from bayflow.cloudsim.errors import ApiError
from bayflow.cloudsim.state import new_id
from bayflow.cloudsim.neutron.base import (
    L3_OWNERS, NETWORKS, OWNER_FIP, PORTS, SECURITY_GROUPS, _Ctx, _attr_invalid, _bool,
    _check_keys, _check_quota, _err, _get, _http400, _invalid, _policy, _project, _string,
    _tags_of, _touch)
from bayflow.cloudsim.neutron.ipam import (
    _allocate, _bind, _mac, _new_port, _release, _remove_port, _set_port_status)
from bayflow.cloudsim.neutron.secgroups import ensure_default_security_group


def _address_pairs(value, mac):
    if not isinstance(value, list):
        raise _attr_invalid('allowed_address_pairs', f"'{value}' is not a list")
    out = []
    for pair in value:
        if not isinstance(pair, dict) or 'ip_address' not in pair:
            raise _err(400, 'AllowedAddressPairsMissingIP',
                       'AllowedAddressPair must contain ip_address')
        if set(pair) - {'ip_address', 'mac_address'}:
            raise _attr_invalid('allowed_address_pairs', f"Unrecognized attribute(s) "
                                f"'{', '.join(set(pair) - {'ip_address', 'mac_address'})}'")
        ip = pair['ip_address']
        try:
            if not isinstance(ip, str):
                raise ValueError
            ipaddress.ip_network(ip, strict=False)
        except ValueError:
            raise _attr_invalid('allowed_address_pairs', f"'{ip}' is not a valid IP "
                                                         "address")
        entry = {'ip_address': ip, 'mac_address': _mac_address(pair.get('mac_address')
                                                               or mac)}
        if entry in out:
            raise _invalid(f"Request contains duplicate address pair: mac_address "
                           f"{entry['mac_address']} ip_address {ip}")
        out.append(entry)
    return out


def _mac_address(value):
    text = value if isinstance(value, str) else ''
    parts = text.split(':')
    if len(parts) != 6 or not all(len(p) == 2 and all(c in '0123456789abcdefABCDEF'
                                                      for c in p) for p in parts):
        raise _attr_invalid('mac_address', f"'{value}' is not a valid MAC address")
    return text.lower()


def _port_security_groups(state, ctx, project_id, value, port_security, device_owner,
                          has_ips=True):
    """The SG ids of a new or updated port (the project's default when unset)."""
    if value is None:
        if not port_security or device_owner.startswith('network:'):
            return []
        return [ensure_default_security_group(state, project_id)['id']]
    if not isinstance(value, list):
        raise _attr_invalid('security_groups', f"'{value}' is not a list")
    ids = []
    for sg_id in value:
        sg = _get(state, SECURITY_GROUPS, sg_id, ctx or _Ctx(project_id))
        if sg['id'] not in ids:
            ids.append(sg['id'])
    if ids and (not port_security or not has_ips):
        raise _err(400, 'PortSecurityAndIPRequiredForSecurityGroups',
                   'Port security must be enabled and port must have an IP address in '
                   'order to use security groups.')
    return ids


def _create_port(state, ctx, data):
    if 'network_id' not in data:
        raise _http400("Failed to parse request. Required attribute 'network_id' not "
                       "specified")
    net = _get(state, NETWORKS, data['network_id'], ctx)
    project_id = _project(ctx, data)
    if not ctx.is_admin and 'binding:host_id' in data:
        raise _policy('create_port:binding:host_id')
    if not ctx.is_admin and 'binding:profile' in data:
        raise _policy('create_port:binding:profile')
    name = _string(data.get('name', ''), 'name')
    description = _string(data.get('description', ''), 'description')
    device_id = _string(data.get('device_id', ''), 'device_id')
    device_owner = _string(data.get('device_owner', ''), 'device_owner')
    port_security = _bool(data.get('port_security_enabled', net['port_security_enabled']),
                          'port_security_enabled')
    mac = None
    if data.get('mac_address') is not None:
        if not ctx.is_admin and net['project_id'] != ctx.project_id:
            raise _policy('create_port:mac_address')
        mac = _mac_address(data['mac_address'])
        if any(p['network_id'] == net['id'] and p['mac_address'] == mac
               for p in state.tables['ports'].values()):
            raise _err(409, 'MacAddressInUse', f"Unable to complete operation for network "
                       f"{net['id']}. The mac address {mac} is in use.")
    tags = _tags_of(data)
    vnic = data.get('binding:vnic_type', 'normal')
    if vnic not in ('normal', 'direct', 'macvtap', 'baremetal', 'direct-physical',
                    'virtio-forwarder', 'smart-nic', 'vdpa', 'accelerator-direct',
                    'accelerator-direct-physical', 'remote-managed'):
        raise _attr_invalid('binding:vnic_type', f"{vnic} is not in valid values")
    profile = data.get('binding:profile', {})
    if not isinstance(profile, dict):
        raise _attr_invalid('binding:profile', f"'{profile}' is not a dictionary")
    _check_quota(state, project_id, 'port')
    port_id = new_id()
    fixed = _allocate(state, net, data.get('fixed_ips'), port_id, device_owner)
    try:
        sgs = _port_security_groups(state, ctx, project_id, data.get('security_groups'),
                                    port_security, device_owner, bool(fixed))
        pairs = []
        if data.get('allowed_address_pairs'):
            if not port_security:
                raise _err(409, 'AddressPairAndPortSecurityRequired',
                           'Port Security must be enabled in order to have allowed '
                           'address pairs on a port.')
        mac = mac or _mac()
        if data.get('allowed_address_pairs') is not None:
            pairs = _address_pairs(data['allowed_address_pairs'], mac)
    except ApiError:
        _release(state, fixed)
        raise
    port = _new_port(state, net, project_id, fixed, name=name, device_id=device_id,
                     device_owner=device_owner, security_groups=sgs, port_id=port_id)
    port.update({'description': description, 'mac_address': mac,
                 'port_security_enabled': port_security, 'allowed_address_pairs': pairs,
                 'binding:vnic_type': vnic, 'binding:profile': profile, 'tags': tags,
                 'admin_state_up': _bool(data.get('admin_state_up', True),
                                         'admin_state_up')})
    if data.get('binding:host_id'):
        _bind(port, _string(data['binding:host_id'], 'binding:host_id'))
    return port


def _update_port(state, ctx, port, data):
    net = state.tables['networks'][port['network_id']]
    for key in ('binding:host_id', 'binding:profile'):
        if key in data and not ctx.is_admin:
            raise _policy(f'update_port:{key}')
    if 'mac_address' in data:
        if not ctx.is_admin:
            raise _policy('update_port:mac_address')
        mac = _mac_address(data['mac_address'])
        if port['binding:host_id'] and mac != port['mac_address']:
            raise _err(409, 'PortBound', f"Unable to complete operation on port "
                       f"{port['id']}, port is already bound, port type: "
                       f"{port['binding:vif_type']}, old_mac {port['mac_address']}, "
                       f"new_mac {mac}.")
        port['mac_address'] = mac
    port_security = _bool(data.get('port_security_enabled', port['port_security_enabled']),
                          'port_security_enabled')
    if 'fixed_ips' in data:
        requested = data['fixed_ips']
        keep, fresh = [], []
        if not isinstance(requested, list):
            raise _attr_invalid('fixed_ips', f"Invalid data format for fixed IP: "
                                             f"'{requested}'")
        for fixed in requested:
            if isinstance(fixed, dict) and fixed.get('ip_address') and any(
                    f['ip_address'] == fixed['ip_address'] and (
                        not fixed.get('subnet_id') or fixed['subnet_id'] == f['subnet_id'])
                    for f in port['fixed_ips']):
                keep.append(next(f for f in port['fixed_ips']
                                 if f['ip_address'] == fixed['ip_address']))
            else:
                fresh.append(fixed)
        new = _allocate(state, net, fresh, port['id'], port['device_owner'])
        kept = {(k['subnet_id'], k['ip_address']) for k in keep}
        _release(state, [f for f in port['fixed_ips']
                         if (f['subnet_id'], f['ip_address']) not in kept])
        port['fixed_ips'] = [dict(f) for f in keep] + new
    if 'security_groups' in data:
        port['security_groups'] = _port_security_groups(
            state, ctx, port['project_id'], data['security_groups'] or [], port_security,
            port['device_owner'], bool(port['fixed_ips']))
    elif 'port_security_enabled' in data and not port_security and port['security_groups']:
        raise _err(409, 'PortSecurityPortHasSecurityGroup',
                   'Port has security group associated. Cannot disable port security or '
                   'IP address until security group is removed.')
    if 'allowed_address_pairs' in data:
        pairs = _address_pairs(data['allowed_address_pairs'] or [], port['mac_address'])
        if pairs and not port_security:
            raise _err(409, 'AddressPairAndPortSecurityRequired',
                       'Port Security must be enabled in order to have allowed address '
                       'pairs on a port.')
        port['allowed_address_pairs'] = pairs
    elif not port_security and port['allowed_address_pairs']:
        raise _err(409, 'AddressPairAndPortSecurityRequired',
                   'Port Security must be enabled in order to have allowed address pairs '
                   'on a port.')
    port['port_security_enabled'] = port_security
    for key in ('name', 'description', 'device_id', 'device_owner'):
        if key in data:
            port[key] = _string(data[key], key)
    if 'admin_state_up' in data:
        port['admin_state_up'] = _bool(data['admin_state_up'], 'admin_state_up')
    if 'binding:vnic_type' in data:
        port['binding:vnic_type'] = _string(data['binding:vnic_type'], 'binding:vnic_type')
    if 'binding:profile' in data:
        port['binding:profile'] = data['binding:profile'] or {}
    if 'binding:host_id' in data:
        _bind(port, _string(data['binding:host_id'] or '', 'binding:host_id'))
    else:
        _set_port_status(port)
    _touch(port)
    return port


def _api_delete_port(state, ctx, port):
    owner = port['device_owner']
    if owner in L3_OWNERS and port['fixed_ips']:
        exists = (state.tables['floatingips'].get(port['device_id']) if owner == OWNER_FIP
                  else state.tables['routers'].get(port['device_id']))
        if exists:
            raise _err(409, 'ServicePortInUse', f"Port {port['id']} cannot be deleted "
                       f"directly via the port API: has device owner {owner}.")
    _remove_port(state, port)


def create_port(state, project_id, network_id, name='', security_group_ids=None,
                device_id='', device_owner='', fixed_ips=None, **extra):
    """Create a port for ``project_id`` as Nova does on boot; returns the stored dict.

    ``security_group_ids`` None gives the project's default group. ``extra``
    may carry other port attributes (admin_state_up, description,
    port_security_enabled, allowed_address_pairs, mac_address, tags) and
    ``is_admin`` (default False: the network must be visible to the project).
    """
    ctx = _Ctx(project_id, bool(extra.pop('is_admin', False)))
    data = {'network_id': network_id, 'name': name or '', 'device_id': device_id or '',
            'device_owner': device_owner or ''}
    if security_group_ids is not None:
        data['security_groups'] = list(security_group_ids)
    if fixed_ips is not None:
        data['fixed_ips'] = fixed_ips
    data.update(extra)
    _check_keys(data, PORTS, 'POST')
    return _create_port(state, ctx, data)


def get_port(state, port_id):
    """The stored port; 404 PortNotFound."""
    return _get(state, PORTS, port_id)


def bind_port(state, port_id, device_id, device_owner, host='sim-compute'):
    """Bind a port to a device on ``host`` (status ACTIVE).

    409 PortInUse when it is already attached to another device."""
    port = _get(state, PORTS, port_id)
    if port['device_id'] and port['device_id'] != device_id:
        raise _err(409, 'PortInUse', f"Unable to complete operation on port {port_id} for "
                   f"network {port['network_id']}. Port already has an attached device "
                   f"{port['device_id']}.")
    port['device_id'], port['device_owner'] = device_id, device_owner
    _bind(port, host)
    _touch(port)
    return port


def unbind_port(state, port_id):
    """Clear device_id/device_owner/binding (status DOWN); None if the port is gone."""
    port = state.tables['ports'].get(port_id)
    if port is None:
        return None
    port['device_id'], port['device_owner'] = '', ''
    port['binding:profile'] = {}
    _bind(port, '')
    _touch(port)
    return port


def delete_port(state, port_id):
    """Delete a port (disassociating its floating IPs); False if it was gone."""
    port = state.tables['ports'].get(port_id)
    if port is None:
        return False
    _remove_port(state, port)
    return True


def server_addresses(state, device_id):
    """Nova's ``addresses`` for a device: fixed IPs of its ports, then their FIPs."""
    out = {}
    networks = state.tables['networks']
    fips = [f for f in state.tables['floatingips'].values() if f['port_id']]
    for port in state.tables['ports'].values():
        if port['device_id'] != device_id:
            continue
        net = networks.get(port['network_id'])
        entries = out.setdefault(net['name'] if net else port['network_id'], [])
        for fixed in port['fixed_ips']:
            version = ipaddress.ip_address(fixed['ip_address']).version
            entries.append({'addr': fixed['ip_address'], 'version': version,
                            'OS-EXT-IPS:type': 'fixed',
                            'OS-EXT-IPS-MAC:mac_addr': port['mac_address']})
            for fip in fips:
                if (fip['port_id'] == port['id']
                        and fip['fixed_ip_address'] == fixed['ip_address']):
                    entries.append({'addr': fip['floating_ip_address'], 'version': 4,
                                    'OS-EXT-IPS:type': 'floating',
                                    'OS-EXT-IPS-MAC:mac_addr': port['mac_address']})
    return out
