"""Routers (gateway, interfaces, extra routes) and floating IPs."""

import ipaddress

from bayflow.cloudsim.errors import ApiError
from bayflow.cloudsim.state import new_id
from bayflow.cloudsim.neutron.base import (
    NETWORKS, OWNER_FIP, OWNER_GW, OWNER_RIF, PORTS, ROUTERS, SUBNETS, _attr_invalid, _bad,
    _bool, _check_owner, _check_quota, _copy, _err, _get, _http400, _ip, _policy, _project,
    _std, _string, _tags_of, _touch)
from bayflow.cloudsim.neutron import admin_attrs
from bayflow.cloudsim.neutron.ipam import (
    _allocate, _bind, _disassociate, _network_subnets, _new_port, _release, _remove_port)


def _create_router(state, ctx, data):
    project_id = _project(ctx, data)
    hints = data.get('availability_zone_hints', [])
    if not isinstance(hints, list) or any(h != 'nova' for h in hints):
        raise _err(404, 'AvailabilityZoneNotFound',
                   f'AvailabilityZone {hints} could not be found.')
    router = _std(project_id, _string(data.get('name', ''), 'name'),
                  _string(data.get('description', ''), 'description'))
    router.update({'admin_state_up': _bool(data.get('admin_state_up', True),
                                           'admin_state_up'),
                   'status': 'ACTIVE', 'external_gateway_info': None, 'routes': [],
                   'availability_zone_hints': list(hints), 'availability_zones': ['nova'],
                   'tags': _tags_of(data), '_interfaces': [], '_gw_port': None,
                   **admin_attrs.router_modes(ctx, data)})
    _check_quota(state, project_id, 'router')
    info = data.get('external_gateway_info')
    if info:
        _set_gateway(state, ctx, router, info, 'create')     # validated before storing
    state.tables['routers'][router['id']] = router
    if router['_gw_port']:
        state.tables['ports'][router['_gw_port']]['device_id'] = router['id']
    return router


def _fips_of_router(state, router_id):
    return [f for f in state.tables['floatingips'].values() if f['router_id'] == router_id]


def _clear_gateway(state, router):
    info = router['external_gateway_info']
    if not info:
        return
    if _fips_of_router(state, router['id']):
        raise _err(409, 'RouterExternalGatewayInUseByFloatingIp',
                   f"Gateway cannot be updated for router {router['id']}, since a gateway "
                   f"to external network {info['network_id']} is required by one or more "
                   "floating IPs.")
    port = state.tables['ports'].get(router['_gw_port'] or '')
    if port:
        _remove_port(state, port)
    router['_gw_port'] = None
    router['external_gateway_info'] = None


def _set_gateway(state, ctx, router, info, action):
    if info is None or info == {}:
        _clear_gateway(state, router)
        return
    if not isinstance(info, dict):
        raise _attr_invalid('external_gateway_info', f"'{info}' is not a dictionary")
    unexpected = set(info) - {'network_id', 'enable_snat', 'external_fixed_ips'}
    if unexpected:
        raise _attr_invalid('external_gateway_info',
                            f"Unexpected keys supplied: {', '.join(sorted(unexpected))}")
    if 'network_id' not in info:
        raise _attr_invalid('external_gateway_info', "Validation of dictionary's keys "
                            f"failed. Expected keys: {{'network_id'}} Provided keys: "
                            f"{set(info)}")
    for key in ('enable_snat', 'external_fixed_ips'):
        if key in info and not ctx.is_admin:
            raise _policy(f'{action}_router:external_gateway_info:{key}')
    net = _get(state, NETWORKS, info['network_id'], ctx)
    if not net['router:external']:
        raise _bad('router', f"Network {net['id']} is not an external network")
    enable_snat = _bool(info.get('enable_snat', True), 'enable_snat')
    current = router['external_gateway_info']
    if current and current['network_id'] == net['id'] and 'external_fixed_ips' not in info:
        current['enable_snat'] = enable_snat
        return
    if current:
        _clear_gateway(state, router)
    requested = info.get('external_fixed_ips')
    port_id = new_id()
    fixed = _allocate(state, net, requested, port_id, OWNER_GW)
    port = _new_port(state, net, '', fixed, device_id=router['id'], device_owner=OWNER_GW,
                     status='ACTIVE', port_id=port_id)
    _bind(port, 'sim-network')
    router['_gw_port'] = port['id']
    router['external_gateway_info'] = {'network_id': net['id'], 'enable_snat': enable_snat,
                                       'external_fixed_ips': [dict(f) for f in fixed]}


def _router_subnets(state, router):
    """(subnet, port) for each interface of the router."""
    ports, subnets = state.tables['ports'], state.tables['subnets']
    out = []
    for port_id in router['_interfaces']:
        port = ports.get(port_id)
        for fixed in (port['fixed_ips'] if port else ()):
            if fixed['subnet_id'] in subnets:
                out.append((subnets[fixed['subnet_id']], port))
    return out


def _validate_routes(state, router, routes):
    if not isinstance(routes, list):
        raise _attr_invalid('routes', f"'{routes}' is not a list")
    connected = [ipaddress.ip_network(s['cidr']) for s, _ in _router_subnets(state, router)]
    own = {f['ip_address'] for _, p in _router_subnets(state, router) for f in p['fixed_ips']}
    out = []
    for route in routes:
        if not isinstance(route, dict) or set(route) != {'destination', 'nexthop'}:
            raise _attr_invalid('routes', f"Invalid data format for hostroute: '{route}'")
        try:
            dest = str(ipaddress.ip_network(route['destination'], strict=False))
        except (TypeError, ValueError):
            raise _attr_invalid('routes', f"'{route['destination']}' is not a valid IP "
                                          "subnet")
        nexthop = _ip(route['nexthop'], 'routes')
        if not any(nexthop in c for c in connected):
            raise _err(400, 'InvalidRoutes', f"Invalid format for routes: {routes}, the "
                       "nexthop is not connected with router")
        if str(nexthop) in own:
            raise _err(400, 'InvalidRoutes', f"Invalid format for routes: {routes}, the "
                       "nexthop is used by router")
        entry = {'destination': dest, 'nexthop': str(nexthop)}
        if entry not in out:
            out.append(entry)
    return out


def _update_router(state, ctx, router, data):
    admin_attrs.update_router_modes(ctx, router, data)
    if 'routes' in data:
        routes = _validate_routes(state, router, data['routes'] or [])
    if 'external_gateway_info' in data:
        _set_gateway(state, ctx, router, data['external_gateway_info'], 'update')
    if 'routes' in data:
        router['routes'] = routes
    for key in ('name', 'description'):
        if key in data:
            router[key] = _string(data[key], key)
    if 'admin_state_up' in data:
        router['admin_state_up'] = _bool(data['admin_state_up'], 'admin_state_up')
    _touch(router)
    return router


def _delete_router(state, ctx, router):
    if router['_interfaces']:
        raise _err(409, 'RouterInUse', f"Router {router['id']} still has ports")
    _clear_gateway(state, router)
    del state.tables['routers'][router['id']]


def _interface_body(req):
    body = req.body if isinstance(req.body, dict) else None
    if body is None:
        raise _bad('router', 'Either subnet_id or port_id must be specified')
    return body


def _interface_info(router, port):
    subnet_ids = [f['subnet_id'] for f in port['fixed_ips']]
    return {'id': router['id'], 'network_id': port['network_id'], 'port_id': port['id'],
            'subnet_id': subnet_ids[0] if subnet_ids else None, 'subnet_ids': subnet_ids,
            'project_id': port['project_id'], 'tenant_id': port['project_id'],
            'tags': list(port['tags'])}


def _check_router_subnet(state, router, subnet):
    new = ipaddress.ip_network(subnet['cidr'])
    for other, _port in _router_subnets(state, router):
        if other['id'] == subnet['id']:
            raise _bad('router', f"Router already has a port on subnet {subnet['id']}")
        if ipaddress.ip_network(other['cidr']).overlaps(new):
            raise _bad('router', f"Cidr {subnet['cidr']} of subnet {subnet['id']} overlaps "
                                 f"with cidr {other['cidr']} of subnet {other['id']}")


def add_router_interface(sim, req, router_id):
    state, ctx = sim.state, req.context
    router = _get(state, ROUTERS, router_id, ctx)
    _check_owner(ROUTERS, router, ctx, 'add_router_interface')
    body = _interface_body(req)
    port_id, subnet_id = body.get('port_id'), body.get('subnet_id')
    if port_id and subnet_id:
        raise _bad('router', 'Cannot specify both subnet-id and port-id')
    if not port_id and not subnet_id:
        raise _bad('router', 'Either subnet_id or port_id must be specified')
    if port_id:
        port = _get(state, PORTS, port_id, ctx)
        if port['device_id'] or port['device_owner']:
            raise _err(409, 'PortInUse', f"Unable to complete operation on port {port_id} "
                       f"for network {port['network_id']}. Port already has an attached "
                       f"device {port['device_id']}.")
        if not port['fixed_ips']:
            raise _bad('router', 'Router port must have at least one fixed IP')
        if len(port['fixed_ips']) > 1:
            raise _bad('router', 'Cannot have multiple IPv4 subnets on router port')
        for fixed in port['fixed_ips']:
            _check_router_subnet(state, router, state.tables['subnets'][fixed['subnet_id']])
        port['device_id'], port['device_owner'] = router['id'], OWNER_RIF
        _bind(port, 'sim-network')
        _touch(port)
    else:
        subnet = _get(state, SUBNETS, subnet_id, ctx)
        if not subnet['gateway_ip']:
            raise _bad('router', 'Subnet for router interface must have a gateway IP')
        _check_router_subnet(state, router, subnet)
        net = state.tables['networks'][subnet['network_id']]
        new_port = new_id()
        fixed = _allocate(state, net, [{'subnet_id': subnet['id'],
                                        'ip_address': subnet['gateway_ip']}],
                          new_port, OWNER_RIF)
        port = _new_port(state, net, subnet['project_id'], fixed, device_id=router['id'],
                         device_owner=OWNER_RIF, status='ACTIVE', port_id=new_port)
        _bind(port, 'sim-network')
    router['_interfaces'].append(port['id'])
    _touch(router)
    return _interface_info(router, port)


def remove_router_interface(sim, req, router_id):
    state, ctx = sim.state, req.context
    router = _get(state, ROUTERS, router_id, ctx)
    _check_owner(ROUTERS, router, ctx, 'remove_router_interface')
    body = _interface_body(req)
    port_id, subnet_id = body.get('port_id'), body.get('subnet_id')
    if not port_id and not subnet_id:
        raise _bad('router', 'Either subnet_id or port_id must be specified')
    ports = state.tables['ports']
    if port_id:
        port = ports.get(port_id) if isinstance(port_id, str) else None
        if port is None or port['id'] not in router['_interfaces']:
            raise _err(404, 'RouterInterfaceNotFound', f"Router {router['id']} does not "
                       f"have an interface with id {port_id}")
        if subnet_id and subnet_id not in [f['subnet_id'] for f in port['fixed_ips']]:
            raise _err(400, 'SubnetMismatchForPort', f'Subnet on port {port_id} does not '
                       f'match the requested subnet {subnet_id}.')
    else:
        subnet = _get(state, SUBNETS, subnet_id, ctx)
        port = next((p for s, p in _router_subnets(state, router) if s['id'] == subnet['id']),
                    None)
        if port is None:
            raise _err(404, 'RouterInterfaceNotFoundForSubnet', f"Router {router['id']} has "
                       f"no interface on subnet {subnet_id}")
    subnets = state.tables['subnets']
    for fixed in port['fixed_ips']:
        subnet = subnets.get(fixed['subnet_id'])
        if subnet is None:
            continue
        cidr = ipaddress.ip_network(subnet['cidr'])
        for fip in _fips_of_router(state, router['id']):
            if fip['fixed_ip_address'] and ipaddress.ip_address(fip['fixed_ip_address']) \
                    in cidr:
                raise _err(409, 'RouterInterfaceInUseByFloatingIP', f"Router interface "
                           f"for subnet {subnet['id']} on router {router['id']} cannot be "
                           "deleted, as it is required by one or more floating IPs.")
        if any(ipaddress.ip_address(r['nexthop']) in cidr for r in router['routes']):
            raise _err(409, 'RouterInterfaceInUseByRoute', f"Router interface for subnet "
                       f"{subnet['id']} on router {router['id']} cannot be deleted, as it "
                       "is required by one or more routes.")
    info = _interface_info(router, port)
    _remove_port(state, port)
    _touch(router)
    return info


def _extraroutes(sim, req, router_id, add):
    state, ctx = sim.state, req.context
    router = _get(state, ROUTERS, router_id, ctx)
    _check_owner(ROUTERS, router, ctx, 'update')
    body = req.body if isinstance(req.body, dict) else {}
    data = body.get('router')
    if not isinstance(data, dict) or set(data) != {'routes'}:
        raise _http400("Unable to find 'router' in request body")
    routes = _validate_routes(state, router, data['routes'])
    if add:
        merged = router['routes'] + [r for r in routes if r not in router['routes']]
    else:
        merged = [r for r in router['routes'] if r not in routes]
    router['routes'] = merged
    _touch(router)
    return {'router': {'id': router['id'], 'name': router['name'],
                       'routes': _copy(router['routes'])}}


def _association(state, ctx, fip, port_id, fixed_ip_address):
    """(port, fixed ip, router id) for associating ``fip``, with Neutron's rules."""
    port = _get(state, PORTS, port_id, ctx)
    if port['project_id'] != fip['project_id'] and not (ctx is None or ctx.is_admin):
        raise _bad('floatingip', f"Cannot process floating IP association with Port "
                                 f"{port_id}, since that port is owned by a different "
                                 "tenant")
    if port['device_owner'].startswith('network:'):
        raise _bad('floatingip', f'Port {port_id} is unable to be assigned a floating IP')
    v4 = [f for f in port['fixed_ips'] if ipaddress.ip_address(f['ip_address']).version == 4]
    if fixed_ip_address:
        chosen = next((f for f in port['fixed_ips']
                       if f['ip_address'] == fixed_ip_address), None)
        if chosen is None:
            raise _bad('floatingip', f'Port {port_id} does not have fixed ip '
                                     f'{fixed_ip_address}')
    else:
        if not v4:
            raise _bad('floatingip', f'Cannot add floating IP to port {port_id} that has '
                                     'no fixed IPv4 addresses')
        if len(v4) > 1:
            raise _bad('floatingip', f'Port {port_id} has multiple fixed IPv4 addresses.  '
                                     'Must provide a specific IPv4 address when assigning a '
                                     'floating IP')
        chosen = v4[0]
    router_id = None
    for router in state.tables['routers'].values():
        info = router['external_gateway_info']
        if not info or info['network_id'] != fip['floating_network_id']:
            continue
        if any(s['id'] == chosen['subnet_id'] for s, _ in _router_subnets(state, router)):
            router_id = router['id']
            break
    if router_id is None:
        raise _err(404, 'ExternalGatewayForFloatingIPNotFound',
                   f"External network {fip['floating_network_id']} is not reachable from "
                   f"subnet {chosen['subnet_id']}.  Therefore, cannot associate Port "
                   f"{port_id} with a Floating IP.")
    for other in state.tables['floatingips'].values():
        if (other['id'] != fip['id'] and other['port_id'] == port['id']
                and other['fixed_ip_address'] == chosen['ip_address']
                and other['floating_network_id'] == fip['floating_network_id']):
            raise _err(409, 'FloatingIPPortAlreadyAssociated',
                       f"Cannot associate floating IP {fip['floating_ip_address']} "
                       f"({fip['id']}) with port {port_id} using fixed IP "
                       f"{chosen['ip_address']}, as that fixed IP already has a floating "
                       f"IP on external network {fip['floating_network_id']}.")
    return port, chosen['ip_address'], router_id


def _create_fip(state, ctx, data):
    if 'floating_network_id' not in data:
        raise _http400("Failed to parse request. Required attribute 'floating_network_id' "
                       "not specified")
    net = _get(state, NETWORKS, data['floating_network_id'], ctx)
    if not net['router:external']:
        raise _bad('floatingip', f"Network {net['id']} is not a valid external network")
    v4 = _network_subnets(state, net, 4)
    if not v4:
        raise _bad('floatingip', f"Network {net['id']} does not contain any IPv4 subnet")
    project_id = _project(ctx, data)
    if data.get('floating_ip_address') is not None and not ctx.is_admin:
        raise _policy('create_floatingip:floating_ip_address')
    description = _string(data.get('description', ''), 'description')
    tags = _tags_of(data)
    if data.get('fixed_ip_address') is not None and not data.get('port_id'):
        raise _bad('floatingip', 'fixed_ip_address cannot be specified without a port_id')
    _check_quota(state, project_id, 'floatingip')
    fip = _std(project_id, description=description)
    del fip['name']
    fip.update({'floating_network_id': net['id'], 'floating_ip_address': None,
                'fixed_ip_address': None, 'port_id': None, 'router_id': None,
                'status': 'DOWN', 'tags': tags, '_port': None})
    requested = None
    if data.get('floating_ip_address') is not None or data.get('subnet_id') is not None:
        entry = {}
        if data.get('subnet_id') is not None:
            entry['subnet_id'] = data['subnet_id']
        if data.get('floating_ip_address') is not None:
            entry['ip_address'] = data['floating_ip_address']
        requested = [entry]
    port_id = new_id()
    try:
        fixed = _allocate(state, net, requested, port_id, OWNER_FIP)
    except ApiError as exc:
        if exc.body['NeutronError']['type'] == 'IpAddressGenerationFailure':
            raise _err(400, 'ExternalIpAddressExhausted', f"Unable to find any IP address "
                       f"on external network {net['id']}.")
        raise
    fip['floating_ip_address'] = fixed[0]['ip_address']
    try:
        if data.get('port_id'):
            port, address, router_id = _association(state, ctx, fip, data['port_id'],
                                                    data.get('fixed_ip_address'))
            fip.update({'port_id': port['id'], 'fixed_ip_address': address,
                        'router_id': router_id, 'status': 'ACTIVE'})
    except ApiError:
        _release(state, fixed)
        raise
    _new_port(state, net, '', fixed, device_id=fip['id'], device_owner=OWNER_FIP,
              status='N/A', port_id=port_id)
    fip['_port'] = port_id
    state.tables['floatingips'][fip['id']] = fip
    return fip


def _update_fip(state, ctx, fip, data):
    if 'description' in data:
        fip['description'] = _string(data['description'], 'description')
    if 'port_id' in data:
        if data['port_id'] is None:
            if data.get('fixed_ip_address') is not None:
                raise _bad('floatingip', 'fixed_ip_address cannot be specified without a '
                                         'port_id')
            _disassociate(fip)
        else:
            port, address, router_id = _association(state, ctx, fip, data['port_id'],
                                                    data.get('fixed_ip_address'))
            fip.update({'port_id': port['id'], 'fixed_ip_address': address,
                        'router_id': router_id, 'status': 'ACTIVE'})
    elif data.get('fixed_ip_address') is not None:
        if not fip['port_id']:
            raise _bad('floatingip', 'fixed_ip_address cannot be specified without a '
                                     'port_id')
        port, address, router_id = _association(state, ctx, fip, fip['port_id'],
                                                data['fixed_ip_address'])
        fip.update({'fixed_ip_address': address, 'router_id': router_id})
    _touch(fip)
    return fip


def _delete_fip(state, ctx, fip):
    port = state.tables['ports'].get(fip['_port'] or '')
    if port:
        _remove_port(state, port)
    del state.tables['floatingips'][fip['id']]
