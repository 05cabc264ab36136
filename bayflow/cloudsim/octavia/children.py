"""Listeners, pools, members and health monitors: create, show, list, update
and delete, each putting its load balancer in PENDING_UPDATE for a while
(Octavia's locking: 409 while the load balancer is PENDING_*)."""

import ipaddress

from bayflow.cloudsim.state import new_id
from bayflow.cloudsim.octavia.common import (
    HEALTHMONITORS, LISTENERS, LOADBALANCERS, MEMBERS, POOLS, error, get, invalid,
    listing, lock, mark, new_record, validation, view)
from bayflow.cloudsim.octavia.loadbalancers import body_of

LISTENER_PROTOCOLS = ('HTTP', 'HTTPS', 'TCP', 'TERMINATED_HTTPS', 'UDP', 'SCTP',
                      'PROMETHEUS')
POOL_PROTOCOLS = ('HTTP', 'HTTPS', 'PROXY', 'PROXYV2', 'TCP', 'UDP', 'SCTP')
ALGORITHMS = ('ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP', 'SOURCE_IP_PORT')
MONITOR_TYPES = ('HTTP', 'HTTPS', 'PING', 'TCP', 'TLS-HELLO', 'UDP-CONNECT', 'SCTP')
# listener protocol -> the pool protocols it may forward to (octavia constants)
COMPATIBLE = {'HTTP': ('HTTP', 'PROXY', 'PROXYV2'),
              'HTTPS': ('HTTPS', 'PROXY', 'PROXYV2', 'TCP'),
              'TCP': ('HTTP', 'HTTPS', 'PROXY', 'PROXYV2', 'TCP'),
              'TERMINATED_HTTPS': ('HTTP', 'PROXY', 'PROXYV2'),
              'UDP': ('UDP',), 'SCTP': ('SCTP',), 'PROMETHEUS': ()}


def _required(spec, key):
    if spec.get(key) is None:
        raise invalid(key, None, 'Mandatory field missing.')
    return spec[key]


def _choice(spec, key, allowed, default=None):
    value = spec.get(key, default)
    if value not in allowed:
        raise invalid(key, value, f"Value should be one of: {', '.join(allowed)}")
    return value


def _integer(spec, key, low, high, default=None):
    value = spec.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(key, value, f'Value should be greater or equal to {low} and lower '
                                  f'or equal to {high}')
    return value


def _lb_of(sim, req, lb_id):
    lb = get(sim, req, LOADBALANCERS, lb_id, ctx_check=False)
    if not req.context.is_admin and lb['project_id'] != req.context.project_id:
        raise error(400, f'Load Balancer {lb_id} not found.')
    return lb


def _store(sim, kind, lb, item, parent=None):
    """Lock the load balancer (409 while it is pending), then store the new
    object; its parent pool, if any, is updated with it."""
    lock(sim.state, lb)
    if parent is not None:
        mark(parent, 'PENDING_UPDATE')
        if kind is HEALTHMONITORS:
            parent['healthmonitor_id'] = item['id']
    sim.state.table(kind.table)[item['id']] = item
    return 201, {kind.singular: view(sim.state, kind, item)}


def listed(sim, req, kind):
    """GET of a collection (listeners, pools, health monitors)."""
    return listing(sim, req, kind, sim.state.table(kind.table).values())


def show(sim, req, kind, rid):
    return {kind.singular: view(sim.state, kind, get(sim, req, kind, rid),
                                req.args('fields'))}


def update(sim, req, kind, rid):
    item = get(sim, req, kind, rid)
    spec = body_of(req, kind, kind.updatable)
    if kind is LISTENERS and spec.get('default_pool_id'):
        _check_default_pool(sim, item['_lb'], item['protocol'], spec['default_pool_id'])
    lock(sim.state, sim.state.table('loadbalancers')[item['_lb']])
    item.update(spec)
    mark(item, 'PENDING_UPDATE')
    return {kind.singular: view(sim.state, kind, item)}


def delete(sim, req, kind, rid):
    """PENDING_DELETE (a pool's members and monitor with it) until settled."""
    item = get(sim, req, kind, rid)
    lock(sim.state, sim.state.table('loadbalancers')[item['_lb']])
    mark(item, 'PENDING_DELETE')
    if kind is POOLS:
        for table in ('members', 'healthmonitors'):
            for other in sim.state.table(table).values():
                if other['_pool'] == rid:
                    mark(other, 'PENDING_DELETE')
    return 204, None


# -- listeners ---------------------------------------------------------------------
def create_listener(sim, req):
    spec = body_of(req, LISTENERS, LISTENERS.updatable | {
        'loadbalancer_id', 'protocol', 'protocol_port', 'project_id', 'tenant_id'})
    lb = _lb_of(sim, req, _required(spec, 'loadbalancer_id'))
    protocol = _choice(spec, 'protocol', LISTENER_PROTOCOLS)
    port = _integer(spec, 'protocol_port', 1, 65535)
    if port is None:
        raise invalid('protocol_port', None, 'Mandatory field missing.')
    if protocol == 'TERMINATED_HTTPS' and not (spec.get('default_tls_container_ref')
                                               or spec.get('sni_container_refs')):
        raise validation('An SNI or default certificate container reference must be '
                         'provided for TERMINATED_HTTPS listeners.')
    for other in sim.state.table('listeners').values():
        if other['_lb'] == lb['id'] and other['protocol_port'] == port and \
                (other['protocol'] == 'UDP') == (protocol == 'UDP'):
            raise error(409, 'Another Listener on this Load Balancer is already using '
                             f'protocol {protocol} and protocol_port {port}')
    pool_id = spec.get('default_pool_id')
    if pool_id:
        _check_default_pool(sim, lb['id'], protocol, pool_id)
    item = new_record(req, LISTENERS, spec, lb['id'], id=new_id(), protocol=protocol,
                      protocol_port=port, default_pool_id=pool_id)
    item.update({
        'connection_limit': _integer(spec, 'connection_limit', -1, 1000000, -1),
        'default_tls_container_ref': spec.get('default_tls_container_ref'),
        'sni_container_refs': list(spec.get('sni_container_refs') or ()),
        'insert_headers': dict(spec.get('insert_headers') or {}),
        'timeout_client_data': spec.get('timeout_client_data', 50000),
        'timeout_member_connect': spec.get('timeout_member_connect', 5000),
        'timeout_member_data': spec.get('timeout_member_data', 50000),
        'timeout_tcp_inspect': spec.get('timeout_tcp_inspect', 0),
        'client_ca_tls_container_ref': None, 'client_authentication': 'NONE',
        'client_crl_container_ref': None,
        'allowed_cidrs': list(spec.get('allowed_cidrs') or ()) or None,
        'tls_ciphers': None, 'tls_versions': None, 'alpn_protocols': None,
        'hsts_max_age': None, 'hsts_include_subdomains': False, 'hsts_preload': False})
    return _store(sim, LISTENERS, lb, item)


def _check_default_pool(sim, lb_id, protocol, pool_id):
    pool = sim.state.table('pools').get(pool_id)
    if pool is None or pool['_lb'] != lb_id:
        raise error(400, f'Pool {pool_id} not found.')
    if pool['protocol'] not in COMPATIBLE[protocol]:
        raise validation(f"The pool protocol '{pool['protocol']}' is invalid while the "
                         f"listener protocol is '{protocol}'.")


# -- pools ---------------------------------------------------------------------------
def create_pool(sim, req):
    spec = body_of(req, POOLS, POOLS.updatable | {
        'loadbalancer_id', 'listener_id', 'protocol', 'project_id', 'tenant_id',
        'healthmonitor', 'members', 'tls_enabled', 'tls_container_ref',
        'ca_tls_container_ref', 'crl_container_ref', 'tls_ciphers', 'tls_versions',
        'alpn_protocols'})
    protocol = _choice(spec, 'protocol', POOL_PROTOCOLS)
    algorithm = _choice(spec, 'lb_algorithm', ALGORITHMS)
    if spec.get('healthmonitor') or spec.get('members'):
        raise validation('Creating members and a health monitor with the pool is not '
                         'modelled by the simulator: create them one by one.')
    listener = None
    if spec.get('listener_id'):
        listener = get(sim, req, LISTENERS, spec['listener_id'])
        if listener['default_pool_id']:
            raise error(409, 'This listener already has a default pool')
        if protocol not in COMPATIBLE[listener['protocol']]:
            raise validation(f"The pool protocol '{protocol}' is invalid while the "
                             f"listener protocol is '{listener['protocol']}'.")
        lb_id = listener['_lb']
        if spec.get('loadbalancer_id') and spec['loadbalancer_id'] != lb_id:
            raise validation('The listener is not on the supplied load balancer.')
    elif spec.get('loadbalancer_id'):
        lb_id = spec['loadbalancer_id']
    else:
        raise validation('listener_id or loadbalancer_id must be specified.')
    lb = _lb_of(sim, req, lb_id)
    persistence = spec.get('session_persistence')
    if persistence is not None and (not isinstance(persistence, dict) or persistence.get(
            'type') not in ('SOURCE_IP', 'HTTP_COOKIE', 'APP_COOKIE')):
        raise invalid('session_persistence', persistence,
                      'Value should be one of: SOURCE_IP, HTTP_COOKIE, APP_COOKIE')
    item = new_record(req, POOLS, spec, lb['id'], id=new_id(), protocol=protocol,
                      lb_algorithm=algorithm, session_persistence=persistence,
                      healthmonitor_id=None, tls_enabled=bool(spec.get('tls_enabled')),
                      tls_ciphers=None, tls_versions=None, alpn_protocols=None,
                      ca_tls_container_ref=spec.get('ca_tls_container_ref'),
                      crl_container_ref=spec.get('crl_container_ref'),
                      tls_container_ref=spec.get('tls_container_ref'))
    if listener is not None:
        lock(sim.state, lb)
        listener['default_pool_id'] = item['id']
        mark(listener, 'PENDING_UPDATE')
        sim.state.table('pools')[item['id']] = item
        return 201, {'pool': view(sim.state, POOLS, item)}
    return _store(sim, POOLS, lb, item)


# -- members -------------------------------------------------------------------------
def create_member(sim, req, pool_id):
    pool = get(sim, req, POOLS, pool_id)
    spec = body_of(req, MEMBERS, MEMBERS.updatable | {
        'address', 'protocol_port', 'subnet_id', 'project_id', 'tenant_id', 'vnic_type'})
    address = _required(spec, 'address')
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        raise invalid('address', address, 'Value should be IPv4 or IPv6 format')
    port = _integer(spec, 'protocol_port', 1, 65535)
    if port is None:
        raise invalid('protocol_port', None, 'Mandatory field missing.')
    if spec.get('subnet_id') and spec['subnet_id'] not in sim.state.table('subnets'):
        raise error(400, f"Subnet {spec['subnet_id']} not found.")
    for other in sim.state.table('members').values():
        if other['_pool'] == pool_id and other['address'] == address and \
                other['protocol_port'] == port:
            raise error(409, f'Another member on this pool is already using ip {address} '
                             f'on protocol_port {port}')
    item = new_record(req, MEMBERS, spec, pool['_lb'], id=new_id(), address=address,
                      protocol_port=port, subnet_id=spec.get('subnet_id'),
                      weight=_integer(spec, 'weight', 0, 256, 1),
                      backup=bool(spec.get('backup', False)),
                      monitor_address=spec.get('monitor_address'),
                      monitor_port=_integer(spec, 'monitor_port', 1, 65535),
                      vnic_type='normal', _pool=pool_id)
    return _store(sim, MEMBERS, sim.state.table('loadbalancers')[pool['_lb']], item, pool)


def _member(sim, req, pool_id, member_id):
    get(sim, req, POOLS, pool_id)
    member = sim.state.table('members').get(member_id)
    if member is None or member['_pool'] != pool_id:
        raise error(404, f'Member {member_id} not found.')
    return member


def list_members(sim, req, pool_id):
    get(sim, req, POOLS, pool_id)
    return listing(sim, req, MEMBERS, [m for m in sim.state.table('members').values()
                                       if m['_pool'] == pool_id])


def member_call(sim, req, pool_id, member_id, call):
    """show, update or delete of a member addressed through its pool."""
    _member(sim, req, pool_id, member_id)
    return call(sim, req, MEMBERS, member_id)


# -- health monitors ---------------------------------------------------------------------
def create_healthmonitor(sim, req):
    spec = body_of(req, HEALTHMONITORS, HEALTHMONITORS.updatable | {
        'pool_id', 'type', 'project_id', 'tenant_id'})
    pool = get(sim, req, POOLS, _required(spec, 'pool_id'))
    kind = _choice(spec, 'type', MONITOR_TYPES)
    delay = _integer(spec, 'delay', 0, 2147483647)
    timeout = _integer(spec, 'timeout', 0, 2147483647)
    retries = _integer(spec, 'max_retries', 1, 10)
    for key, value in (('delay', delay), ('timeout', timeout), ('max_retries', retries)):
        if value is None:
            raise invalid(key, None, 'Mandatory field missing.')
    if pool['healthmonitor_id']:
        raise error(409, 'This pool already has a health monitor')
    http = kind in ('HTTP', 'HTTPS')
    item = new_record(req, HEALTHMONITORS, spec, pool['_lb'], id=new_id(), type=kind,
                      delay=delay, timeout=timeout, max_retries=retries,
                      max_retries_down=_integer(spec, 'max_retries_down', 1, 10, 3),
                      http_method=spec.get('http_method', 'GET') if http else None,
                      url_path=spec.get('url_path', '/') if http else None,
                      expected_codes=spec.get('expected_codes', '200') if http else None,
                      http_version=spec.get('http_version', 1.0) if http else None,
                      domain_name=spec.get('domain_name'), _pool=pool['id'])
    return _store(sim, HEALTHMONITORS, sim.state.table('loadbalancers')[pool['_lb']], item,
                  pool)

