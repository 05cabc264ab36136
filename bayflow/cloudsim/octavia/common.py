"""Octavia's shared parts: error bodies, the resource kinds and their views,
the provisioning state machine and listing (filters, sorting, pagination).

Every object belongs to one load balancer (private ``_lb``); an operation
puts the load balancer and the objects it touches in a PENDING_* status and
sets the load balancer's ``_settle_at``. When that time comes the whole tree
settles at once (PENDING_CREATE/UPDATE -> ACTIVE, PENDING_DELETE -> gone):
while it is pending, the load balancer is immutable (409), as in Octavia.
"""

import time
from urllib.parse import urlencode

from bayflow.cloudsim import errors, neutron
from bayflow.cloudsim.state import isotime

CHILD_FRACTION = 0.25         # a listener/pool/member/monitor change: boot_seconds * this
PENDING = ('PENDING_CREATE', 'PENDING_UPDATE', 'PENDING_DELETE')


class Kind:
    def __init__(self, singular, collection, table, title, fields, updatable,
                 filters=()):
        self.singular, self.collection, self.table = singular, collection, table
        self.title, self.fields = title, fields
        self.updatable = frozenset(updatable)
        self.filters = frozenset(filters) | {'id', 'name', 'description', 'project_id',
                                             'provisioning_status', 'operating_status',
                                             'admin_state_up', 'created_at', 'updated_at'}


_COMMON = ('id', 'name', 'description', 'project_id', 'provisioning_status',
           'operating_status', 'admin_state_up', 'created_at', 'updated_at', 'tags')
LOADBALANCERS = Kind(
    'loadbalancer', 'loadbalancers', 'loadbalancers', 'Load Balancer',
    _COMMON + ('vip_address', 'vip_port_id', 'vip_subnet_id', 'vip_network_id',
               'vip_qos_policy_id', 'provider', 'flavor_id', 'availability_zone',
               'additional_vips', 'vip_vnic_type'),
    ('name', 'description', 'admin_state_up', 'vip_qos_policy_id', 'tags'),
    ('vip_address', 'vip_port_id', 'vip_subnet_id', 'vip_network_id', 'provider',
     'flavor_id', 'availability_zone'))
LISTENERS = Kind(
    'listener', 'listeners', 'listeners', 'Listener',
    _COMMON + ('protocol', 'protocol_port', 'connection_limit', 'default_pool_id',
               'default_tls_container_ref', 'sni_container_refs', 'insert_headers',
               'timeout_client_data', 'timeout_member_connect', 'timeout_member_data',
               'timeout_tcp_inspect', 'client_ca_tls_container_ref',
               'client_authentication', 'client_crl_container_ref', 'allowed_cidrs',
               'tls_ciphers', 'tls_versions', 'alpn_protocols', 'hsts_max_age',
               'hsts_include_subdomains', 'hsts_preload'),
    ('name', 'description', 'admin_state_up', 'connection_limit', 'default_pool_id',
     'default_tls_container_ref', 'sni_container_refs', 'insert_headers',
     'timeout_client_data', 'timeout_member_connect', 'timeout_member_data',
     'timeout_tcp_inspect', 'allowed_cidrs', 'tags'),
    ('protocol', 'protocol_port', 'connection_limit', 'default_pool_id',
     'loadbalancer_id'))
POOLS = Kind(
    'pool', 'pools', 'pools', 'Pool',
    _COMMON + ('protocol', 'lb_algorithm', 'session_persistence', 'healthmonitor_id',
               'tls_enabled', 'tls_ciphers', 'tls_versions', 'alpn_protocols',
               'ca_tls_container_ref', 'crl_container_ref', 'tls_container_ref'),
    ('name', 'description', 'admin_state_up', 'lb_algorithm', 'session_persistence',
     'tags'),
    ('protocol', 'lb_algorithm', 'healthmonitor_id', 'loadbalancer_id', 'listener_id'))
MEMBERS = Kind(
    'member', 'members', 'members', 'Member',
    _COMMON + ('address', 'protocol_port', 'subnet_id', 'weight', 'backup',
               'monitor_address', 'monitor_port', 'vnic_type'),
    ('name', 'admin_state_up', 'weight', 'backup', 'monitor_address', 'monitor_port',
     'tags'),
    ('address', 'protocol_port', 'subnet_id', 'weight', 'backup', 'monitor_address',
     'monitor_port'))
HEALTHMONITORS = Kind(
    'healthmonitor', 'healthmonitors', 'healthmonitors', 'Health Monitor',
    _COMMON + ('type', 'delay', 'timeout', 'max_retries', 'max_retries_down',
               'http_method', 'url_path', 'expected_codes', 'http_version',
               'domain_name'),
    ('name', 'admin_state_up', 'delay', 'timeout', 'max_retries', 'max_retries_down',
     'http_method', 'url_path', 'expected_codes', 'http_version', 'domain_name', 'tags'),
    ('type', 'delay', 'timeout', 'max_retries', 'max_retries_down', 'http_method',
     'url_path', 'expected_codes', 'pool_id'))
KINDS = (LOADBALANCERS, LISTENERS, POOLS, MEMBERS, HEALTHMONITORS)


# -- errors ---------------------------------------------------------------------
def error(status, message):
    """Octavia's (wsme) error body."""
    return errors.octavia(status, message)


def not_found(kind, rid):
    return error(404, f'{kind.title} {rid} not found.')


def invalid(field, value, reason):
    return error(400, f"Invalid input for field/attribute {field}. Value: '{value}'. "
                      f'{reason}')


def validation(detail):
    return error(400, f'Validation failure: {detail}')


def forbidden():
    return error(403, 'Policy does not allow this request to be performed.')


# -- lookups and views -------------------------------------------------------------
def get(sim, req, kind, rid, ctx_check=True):
    item = sim.state.table(kind.table).get(rid)
    if item is None or item['provisioning_status'] == 'DELETED':
        raise not_found(kind, rid)
    ctx = req.context
    if ctx_check and not ctx.is_admin and item['project_id'] != ctx.project_id:
        raise forbidden()
    return item


def children(state, lb_id, kind):
    return [i for i in state.table(kind.table).values() if i['_lb'] == lb_id]


def view(state, kind, item, fields=None):
    out = {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
           for k, v in item.items() if not k.startswith('_')}
    lb_ref = [{'id': item['_lb']}]
    if kind is LOADBALANCERS:
        out['listeners'] = [{'id': i['id']} for i in children(state, item['id'], LISTENERS)]
        out['pools'] = [{'id': i['id']} for i in children(state, item['id'], POOLS)]
    elif kind is LISTENERS:
        out['loadbalancers'] = lb_ref
        out['l7policies'] = []
    elif kind is POOLS:
        out['loadbalancers'] = lb_ref
        out['listeners'] = [{'id': i['id']} for i in state.table('listeners').values()
                            if i['default_pool_id'] == item['id']]
        out['members'] = [{'id': m['id']} for m in state.table('members').values()
                          if m['_pool'] == item['id']]
    elif kind is HEALTHMONITORS:
        out['pools'] = [{'id': item['_pool']}]
    if fields:
        out = {k: v for k, v in out.items() if k in fields}
    return out


def new_record(req, kind, spec, lb_id, **values):
    ctx = req.context
    project_id = spec.get('project_id') or ctx.project_id
    if project_id != ctx.project_id and not ctx.is_admin:
        raise forbidden()
    now = isotime(micro=True)[:19]
    item = {'id': None, 'name': spec.get('name') or '', 'description':
            spec.get('description') or '', 'project_id': project_id,
            'provisioning_status': 'PENDING_CREATE', 'operating_status': 'OFFLINE',
            'admin_state_up': spec.get('admin_state_up', True), 'created_at': now,
            'updated_at': None, 'tags': list(spec.get('tags') or ()), '_lb': lb_id}
    item.update(values)
    return item


# -- the state machine -------------------------------------------------------------
def _pending_lbs(state):
    """Ids of load balancers with a settle time."""
    return state.watch('loadbalancers', lambda lb: lb.get('_settle_at'))


def check_mutable(lb):
    if lb['provisioning_status'] in PENDING:
        raise error(409, f"Load Balancer {lb['id']} is immutable and cannot be updated.")


def lock(state, lb, fraction=CHILD_FRACTION, status='PENDING_UPDATE', new=False):
    """The load balancer goes pending (409 if it already is, unless ``new``);
    its tree settles after ``boot_seconds * fraction``."""
    if not new:
        check_mutable(lb)
    lb['provisioning_status'] = status
    lb['_settle_at'] = time.time() + max(float(state.boot_seconds), 0.0) * fraction
    _pending_lbs(state).add(lb['id'])


def mark(item, status):
    item['provisioning_status'] = status
    item['updated_at'] = isotime(micro=True)[:19]


def advance(state, now):
    pending = _pending_lbs(state)
    if not pending:
        return
    for lb_id in list(pending):
        lb = state.table('loadbalancers').get(lb_id)
        if lb is None:
            pending.discard(lb_id)
        elif lb['_settle_at'] <= now:
            pending.discard(lb_id)
            lb['_settle_at'] = None
            _settle(state, lb)


def _settle(state, lb):
    for kind in (HEALTHMONITORS, MEMBERS, POOLS, LISTENERS):
        table = state.table(kind.table)
        for item in children(state, lb['id'], kind):
            if item['provisioning_status'] == 'PENDING_DELETE':
                _forget(state, kind, item)
                del table[item['id']]
            elif item['provisioning_status'] in PENDING:
                mark(item, 'ACTIVE')
    if lb['provisioning_status'] == 'PENDING_DELETE':
        if lb['_vip_owned']:
            neutron.delete_port(state, lb['vip_port_id'])
        del state.table('loadbalancers')[lb['id']]
        return
    if lb['provisioning_status'] in PENDING:
        mark(lb, 'ERROR' if lb.pop('_build_error', False) else 'ACTIVE')
    operating(state, lb)


def _forget(state, kind, item):
    """References to a deleted object go with it."""
    if kind is POOLS:
        for listener in state.table('listeners').values():
            if listener['default_pool_id'] == item['id']:
                listener['default_pool_id'] = None
    elif kind is HEALTHMONITORS:
        pool = state.table('pools').get(item['_pool'])
        if pool is not None:
            pool['healthmonitor_id'] = None


def operating(state, lb):
    """Operating statuses once settled: what Octavia's health manager reports
    for healthy amphorae and members (OFFLINE when administratively down)."""
    if lb['provisioning_status'] == 'ERROR':
        lb['operating_status'] = 'ERROR'
        return
    lb['operating_status'] = 'ONLINE' if lb['admin_state_up'] else 'OFFLINE'
    pools = {p['id']: p for p in children(state, lb['id'], POOLS)}
    for kind in (LISTENERS, POOLS, HEALTHMONITORS):
        for item in children(state, lb['id'], kind):
            item['operating_status'] = 'ONLINE' if item['admin_state_up'] else 'OFFLINE'
    for member in children(state, lb['id'], MEMBERS):
        pool = pools.get(member['_pool'])
        if not member['admin_state_up']:
            member['operating_status'] = 'OFFLINE'
        elif pool is not None and pool['healthmonitor_id']:
            member['operating_status'] = 'ONLINE'
        else:
            member['operating_status'] = 'NO_MONITOR'


# -- listing -------------------------------------------------------------------------
_PAGING = ('limit', 'marker', 'page_reverse', 'sort', 'sort_key', 'sort_dir', 'fields')


def _matches(value, wanted):
    if isinstance(value, bool):
        return str(value).lower() == wanted.lower()
    return str(value) == wanted


def listing(sim, req, kind, items):
    """Octavia's list: the caller's project (all for an admin), exact filters,
    sort (``sort=key:dir`` or sort_key/sort_dir), limit/marker with links."""
    ctx = req.context
    items = [i for i in items if i['provisioning_status'] != 'DELETED'
             and (ctx.is_admin or i['project_id'] == ctx.project_id)]
    for key, values in req.query.items():
        if key in _PAGING or key not in kind.filters and key not in kind.fields:
            continue
        items = [i for i in items if _matches(i.get(key), values[-1])]
    sort = req.arg('sort')
    keys = [part.split(':') for part in sort.split(',')] if sort else \
        [[req.arg('sort_key', 'created_at'), req.arg('sort_dir', 'asc')]]
    for key_dir in reversed(keys):
        key, direction = key_dir[0], (key_dir[1] if len(key_dir) > 1 else 'asc')
        if key not in kind.fields:
            raise error(400, f"Supplied sort key '{key}' is not valid.")
        if direction not in ('asc', 'desc'):
            raise error(400, f"Supplied sort direction '{direction}' is not valid.")
        items.sort(key=lambda i, k=key: (i.get(k) is None, str(i.get(k) or '')),
                   reverse=direction == 'desc')
    limit = req.arg('limit')
    links = []
    if req.arg('marker'):
        ids = [i['id'] for i in items]
        if req.arg('marker') not in ids:
            raise error(400, f"Supplied pagination marker '{req.arg('marker')}' is not "
                             "valid.")
        items = items[ids.index(req.arg('marker')) + 1:]
    if limit is not None:
        try:
            limit = int(limit)
            if limit < 0:
                raise ValueError
        except ValueError:
            raise error(400, f"Supplied pagination limit '{limit}' is not valid.")
        if len(items) > limit:
            params = [(k, v) for k, vs in req.query.items() if k != 'marker' for v in vs]
            params.append(('marker', items[limit - 1]['id'] if limit else ''))
            links.append({'rel': 'next', 'href': f'{sim.url}/load-balancer/v2/lbaas/'
                                                 f'{kind.collection}?{urlencode(params)}'})
        items = items[:limit]
    fields = req.args('fields')
    body = {kind.collection: [view(sim.state, kind, i, fields) for i in items],
            f'{kind.collection}_links': links}
    return body
