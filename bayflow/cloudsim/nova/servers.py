"""Servers: list (filters, sorting, paging), show, update, delete and actions."""

import re
import time

from bayflow.cloudsim import errors
from bayflow.cloudsim.nova import consoles
from bayflow.cloudsim.nova.common import (
    DELETE_FRACTION, _STATUSES, _bad, _bool, _check_lock, _check_name, _field,
    _forbidden_policy, _ge, _get_server, _href_id, _links, _paged, _parse_time,
    _require_state, _schedule, _set_state, _status, _touch, _unexpected, _wrapped)
from bayflow.cloudsim.nova.views import _addresses, _server_view


# -- servers: list ------------------------------------------------------------------
_TAG_FILTERS = ('tags', 'tags-any', 'not-tags', 'not-tags-any')
_INDEX_QUERY = {
    'user_id', 'project_id', 'tenant_id', 'launch_index', 'image_ref', 'image', 'kernel_id',
    'ramdisk_id', 'hostname', 'key_name', 'power_state', 'vm_state', 'task_state', 'host',
    'node', 'flavor', 'reservation_id', 'launched_at', 'terminated_at',
    'availability_zone', 'name', 'display_name', 'description', 'display_description',
    'locked_by', 'uuid', 'root_device_name', 'config_drive', 'access_ip_v4',
    'access_ip_v6', 'auto_disk_config', 'progress', 'sort_key', 'sort_dir', 'all_tenants',
    'soft_deleted', 'deleted', 'status', 'changes-since', 'ip', 'ip6', 'created_at',
    'block_device_mapping', 'services', 'metadata', 'system_metadata', 'info_cache',
    'security_groups', 'pci_devices', 'limit', 'marker', 'page_size', 'offset',
}
_JOINED = ('block_device_mapping', 'services', 'metadata', 'system_metadata',
           'info_cache', 'security_groups', 'pci_devices')
_PAGING = ('limit', 'marker', 'sort_key', 'sort_dir', 'page_size', 'offset')
_SORT_FIELDS = {
    'created_at': '_created_ts', 'display_name': 'name', 'uuid': 'id',
    'updated_at': 'updated', 'display_description': 'description',
    'launched_at': 'launched_at', 'key_name': 'key_name', 'vm_state': 'vm_state',
    'task_state': 'task_state', 'power_state': 'power_state', 'user_id': 'user_id',
    'project_id': 'project_id', 'host': 'host', 'node': 'node', 'hostname': 'hostname',
    'availability_zone': 'availability_zone', 'image_ref': 'image_id',
    'access_ip_v4': 'access_ipv4', 'access_ip_v6': 'access_ipv6',
    'config_drive': 'config_drive', 'progress': 'progress', 'locked': 'locked',
    'launch_index': 'launch_index', 'root_device_name': 'root_device_name',
    'locked_by': 'locked_by',
}


# query parameters added by later microversions: ((major, minor), names)
_LATER_QUERY = (((2, 26), _TAG_FILTERS), ((2, 66), ('changes-before',)),
                ((2, 73), ('locked',)))
_LATER_SEARCH = (((2, 5), ('ip6',)),) + _LATER_QUERY + (
    ((2, 83), ('availability_zone', 'config_drive', 'key_name', 'created_at', 'launched_at',
               'terminated_at', 'power_state', 'task_state', 'vm_state', 'progress',
               'user_id')),
    ((2, 90), ('hostname',)))


def _since(req, later):
    return {name for version, names in later if req.microversion >= version
            for name in names}


def _search_options(req):
    """Filters a non-admin may use (servers.py _get_server_search_options)."""
    return {'reservation_id', 'name', 'status', 'image', 'flavor', 'ip', 'changes-since',
            'all_tenants'} | _since(req, _LATER_SEARCH)


def _regex(value):
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(value), re.IGNORECASE)


def _server_ips(state, server, version):
    for items in _addresses(state, server).values():
        for item in items:
            if item.get('version') == version and item.get('OS-EXT-IPS:type') == 'fixed':
                yield item['addr']


def _filter_servers(sim, req, detail):
    ctx = req.context
    known = set(_INDEX_QUERY) | _since(req, _LATER_QUERY)
    if _ge(req, 2, 75):
        unknown = sorted(k for k in req.query if k not in known and not k.startswith('_'))
        if unknown:
            raise _bad(_unexpected(unknown))
    opts = {k: v for k, v in req.query.items() if k not in _PAGING}
    if not ctx.is_admin:
        allowed = _search_options(req)
        opts = {k: v for k, v in opts.items() if k in allowed}
    for key in opts:
        if key in _JOINED or key.startswith('_'):
            raise _bad(f'Invalid filter field: {key}.')

    def last(key):
        return opts[key][-1]

    checks = []
    if 'status' in opts:
        wanted = {s.upper() for s in opts['status']}
        valid = wanted & _STATUSES
        if not valid:
            if _ge(req, 2, 38):
                raise _bad('Invalid status value')
            return None
        checks.append(lambda s: _status(s) in valid)
    for key in ('changes-since', 'changes-before'):
        if key in opts:
            try:
                stamp = _parse_time(last(key))
            except ValueError:
                raise _bad(f'Invalid filter field: {key}.')
            if key == 'changes-since':
                checks.append(lambda s, t=stamp: s['_updated_ts'] >= t)
            else:
                checks.append(lambda s, t=stamp: s['_updated_ts'] <= t)
    if 'changes-since' in opts and 'changes-before' in opts:
        if _parse_time(last('changes-before')) < _parse_time(last('changes-since')):
            raise _bad('The value of changes-since must be less than or equal to '
                       'changes-before.')
    if 'deleted' in opts:
        try:
            if _bool(last('deleted')):
                return None            # deleted servers are not retained
        except errors.ApiError:
            pass
    for key in ('name', 'display_name'):
        if key in opts:
            pattern = _regex(last(key))
            checks.append(lambda s, p=pattern: bool(p.search(s['name'])))
    for key in ('description', 'display_description'):
        if key in opts:
            pattern = _regex(last(key))
            checks.append(lambda s, p=pattern: bool(p.search(s['description'] or '')))
    for key in ('image', 'image_ref'):
        if key in opts:
            image = _href_id(last(key))
            checks.append(lambda s, i=image: s['image_id'] == i)
    if 'flavor' in opts:
        flavor = _href_id(last('flavor'))
        checks.append(lambda s, f=flavor: s['flavor']['id'] == f)
    for key, version in (('ip', 4), ('ip6', 6)):
        if key in opts:
            pattern = _regex(last(key))
            checks.append(lambda s, p=pattern, v=version: any(
                p.search(a) for a in _server_ips(sim.state, s, v)))
    if _ge(req, 2, 26):
        for key in _TAG_FILTERS:
            if key in opts:
                tags = {t for value in opts[key] for t in value.split(',') if t}
                if key == 'tags':
                    checks.append(lambda s, t=tags: t <= set(s['tags']))
                elif key == 'tags-any':
                    checks.append(lambda s, t=tags: bool(t & set(s['tags'])))
                elif key == 'not-tags':
                    checks.append(lambda s, t=tags: not t <= set(s['tags']))
                else:
                    checks.append(lambda s, t=tags: not t & set(s['tags']))
    if 'locked' in opts:
        locked = _bool(last('locked'))
        checks.append(lambda s, v=locked: bool(s['locked']) == v)
    for key, field in (('key_name', 'key_name'), ('hostname', 'hostname'),
                       ('reservation_id', 'reservation_id'), ('node', 'node'),
                       ('availability_zone', 'availability_zone')):
        if key in opts:
            pattern = _regex(last(key))
            checks.append(lambda s, p=pattern, f=field: bool(p.search(str(s[f] or ''))))
    for key, field in (('vm_state', 'vm_state'), ('task_state', 'task_state'),
                       ('user_id', 'user_id'), ('uuid', 'id'), ('host', 'host')):
        if key in opts:
            values = set(opts[key])
            checks.append(lambda s, v=values, f=field: str(s[f]) in v)
    if 'power_state' in opts:
        values = set(opts['power_state'])
        checks.append(lambda s, v=values: str(s['power_state']) in v)

    all_tenants = False
    if 'all_tenants' in opts:
        raw = last('all_tenants')
        all_tenants = True if raw == '' else _bool(raw)
    if all_tenants:
        if not ctx.is_admin:
            which = 'detail' if detail else 'index'
            raise _forbidden_policy(f'os_compute_api:servers:{which}:get_all_tenants')
        for key in ('project_id', 'tenant_id'):
            if key in opts:
                projects = set(opts[key])
                checks.append(lambda s, p=projects: s['project_id'] in p)
    else:
        checks.append(lambda s, p=ctx.project_id: s['project_id'] == p)
    return checks


def _sorted_servers(req, servers):
    keys = req.query.get('sort_key') or []
    dirs = req.query.get('sort_dir') or []
    pairs = []
    for pos, key in enumerate(keys):
        field = _SORT_FIELDS.get(key)
        if field is None:
            continue                       # nova ignores (or rejects) unknown keys
        direction = dirs[pos] if pos < len(dirs) else (dirs[0] if dirs else 'desc')
        pairs.append((field, direction.lower() != 'asc'))
    if not pairs:
        pairs = [('_created_ts', True)]
    pairs.append(('id', pairs[0][1]))
    for field, reverse in reversed(pairs):
        servers.sort(key=lambda s, f=field: _sort_value(s.get(f)), reverse=reverse)
    return servers


def _sort_value(value):
    # None sorts last ascending (first descending); values of one field share a type.
    return (value is None, '' if value is None else value)


def list_servers(sim, req, detail=False):
    checks = _filter_servers(sim, req, detail)
    if checks is None:
        servers = []
    else:
        servers = [s for s in sim.state.table('servers').values()
                   if all(check(s) for check in checks)]
    servers = _sorted_servers(req, servers)
    if detail:
        def render(s):
            return _server_view(sim, req, s)
    else:
        def render(s):
            return {'id': s['id'], 'name': s['name'], 'links': _links(sim, 'servers', s['id'])}
    return _paged(sim, req, servers, 'servers', 'servers/detail' if detail else 'servers',
                  render)


def show_server(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    return {'server': _server_view(sim, req, server, show_groups=True)}


# -- servers: update, delete, actions ------------------------------------------------------
def update_server(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    spec = _wrapped(req, 'server', ('name', 'accessIPv4', 'accessIPv6', 'OS-DCF:diskConfig'),
                    since=(((2, 19), 'description'), ((2, 90), 'hostname')))
    if 'name' in spec:
        _check_name('name', spec['name'])
    if 'description' in spec and spec['description'] is not None:
        if not isinstance(spec['description'], str) or len(spec['description']) > 255:
            raise _field('description', spec['description'], 'is not a valid description')
    if 'hostname' in spec:
        _check_name('hostname', spec['hostname'])
    if 'OS-DCF:diskConfig' in spec and spec['OS-DCF:diskConfig'] not in ('AUTO', 'MANUAL'):
        raise _field('OS-DCF:diskConfig', spec['OS-DCF:diskConfig'],
                     "is not one of ['AUTO', 'MANUAL']")
    for key, field in (('name', 'name'), ('description', 'description'),
                       ('hostname', 'hostname'), ('accessIPv4', 'access_ipv4'),
                       ('accessIPv6', 'access_ipv6'), ('OS-DCF:diskConfig', 'disk_config')):
        if key in spec:
            server[field] = spec[key]
    _touch(server)
    full = _ge(req, 2, 75)
    return {'server': _server_view(sim, req, server, show_groups=True, full=full)}


def delete_server(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    _check_lock(req, server)
    if server['task_state'] == 'deleting':
        return 204, None
    now = time.time()
    _set_state(server, now, task_state='deleting')
    _schedule(sim.state, server, 'deleted',
              now + max(float(sim.state.boot_seconds), 0.0) * DELETE_FRACTION)
    return 204, None


def server_action(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    body = req.body
    if not isinstance(body, dict) or len(body) != 1:
        raise _bad('Malformed request body')
    (action, arg), = body.items()
    if action in consoles.ACTIONS:
        return consoles.ACTIONS[action](sim, req, server, action, arg)
    now = time.time()
    delay = max(float(sim.state.boot_seconds), 0.0) * DELETE_FRACTION
    ctx = req.context
    if action == 'lock':
        if arg is not None and not isinstance(arg, dict):
            raise _field('lock', arg, f"{arg!r} is not of type 'object', 'null'")
        reason = (arg or {}).get('locked_reason') if _ge(req, 2, 73) else None
        server['locked'] = True
        server['locked_by'] = 'owner' if ctx.project_id == server['project_id'] else 'admin'
        server['locked_reason'] = reason
        return 202, None
    if action == 'unlock':
        if server['locked'] and server['locked_by'] == 'admin' and not ctx.is_admin:
            raise _forbidden_policy('os_compute_api:os-lock-server:unlock:unlock_override')
        server['locked'], server['locked_by'], server['locked_reason'] = False, None, None
        return 202, None
    if action == 'os-stop':
        _check_lock(req, server)
        _require_state(server, 'stop', ('active', 'error'))
        _set_state(server, now, task_state='powering-off')
        _schedule(sim.state, server, 'stopped', now + delay)
        return 202, None
    if action == 'os-start':
        _check_lock(req, server)
        _require_state(server, 'start', ('stopped',))
        _set_state(server, now, task_state='powering-on')
        _schedule(sim.state, server, 'running', now + delay)
        return 202, None
    if action == 'reboot':
        _check_lock(req, server)
        kind = (arg or {}).get('type') if isinstance(arg, dict) else None
        if kind not in ('SOFT', 'HARD', 'soft', 'hard'):
            raise _field('type', kind, f"{kind!r} is not one of ['HARD', 'Hard', 'hard', "
                                       "'SOFT', 'Soft', 'soft']")
        hard = kind.upper() == 'HARD'
        states = ('active', 'stopped', 'paused', 'suspended', 'error') if hard \
            else ('active',)
        _require_state(server, 'reboot', states)
        _set_state(server, now, task_state='reboot_started_hard' if hard
                   else 'reboot_started')
        _schedule(sim.state, server, 'running', now + delay)
        return 202, None
    raise _bad(f'There is no such action: {action}')
