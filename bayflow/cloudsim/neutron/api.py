"""The HTTP side: generic CRUD handlers, listing (filters, fields, sorting,
pagination), tags, quotas and discovery."""

import ipaddress
from urllib.parse import unquote, urlencode

from bayflow.cloudsim.errors import ApiError
from bayflow.cloudsim.neutron.base import (
    FLOATINGIPS, MAX_TAGS, MAX_TAG_LEN, NETWORKS, PORTS, QUOTA_DEFAULTS, ROUTERS,
    SECURITY_GROUPS, SG_RULES, SUBNETS, V2, _Ctx, _KNOWN, _attr_invalid, _bad, _check_keys,
    _check_owner, _data, _err, _get, _http400, _int, _invalid, _policy, _quota_key, _touch,
    _usage, _validate_tags, _visible, quota_limits, render)
from bayflow.cloudsim.neutron.secgroups import (
    _create_rule, _create_sg, _delete_rule, _delete_sg, _update_sg,
    ensure_default_security_group)
from bayflow.cloudsim.neutron.networks import (
    _create_network, _create_subnet, _delete_network, _delete_subnet, _update_network,
    _update_subnet)
from bayflow.cloudsim.neutron.ports import _api_delete_port, _create_port, _update_port
from bayflow.cloudsim.neutron.l3 import (
    _create_fip, _create_router, _delete_fip, _delete_router, _update_fip, _update_router)


# (alias, name, description, updated): only what the simulator models.
EXTENSIONS = (
    ('allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs',
     '2013-07-23T10:00:00-00:00'),
    ('availability_zone', 'Availability Zone', 'The availability zone extension.',
     '2015-01-01T10:00:00-00:00'),
    ('binding', 'Port Binding',
     'Expose port bindings of a virtual port to external application',
     '2014-02-03T10:00:00-00:00'),
    ('dvr', 'Distributed Virtual Router',
     'Enables configuration of Distributed Virtual Routers.', '2014-06-1T10:00:00-00:00'),
    ('empty-string-filtering', 'Empty String Filtering Extension',
     'Allow filtering by attributes with empty string value', '2018-05-01T10:00:00-00:00'),
    ('ext-gw-mode', 'Neutron L3 Configurable external gateway mode',
     'Extension of the router abstraction for specifying whether SNAT should occur on '
     'the external gateway', '2013-03-28T10:00:00-00:00'),
    ('external-net', 'Neutron external network',
     'Adds external network attribute to network resource.', '2013-01-14T10:00:00-00:00'),
    ('extraroute', 'Neutron Extra Route', 'Extra routes configuration for L3 router',
     '2013-02-01T10:00:00-00:00'),
    ('extraroute-atomic', 'Atomically add/remove extra routes',
     'Edit extra routes of a router on server side by atomically adding/removing extra '
     'routes', '2019-07-10T00:00:00+00:00'),
    ('filter-validation', 'Filter parameters validation',
     'Provides validation on filter parameters.', '2018-07-04T10:00:00-00:00'),
    ('fip-port-details', 'Floating IP Port Details Extension',
     'Add port_details attribute to Floating IP resource', '2018-04-09T10:00:00-00:00'),
    ('l3-ha', 'HA Router extension', 'Adds HA capability to routers.',
     '2014-04-26T00:00:00-00:00'),
    ('l2_adjacency', 'L2 Adjacency', 'Display L2 Adjacency for Neutron Networks.',
     '2016-04-12T16:00:00-00:00'),
    ('net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.',
     '2015-03-25T10:00:00-00:00'),
    ('net-mtu-writable', 'Network MTU (writable)',
     'Provides a writable MTU attribute for a network resource.',
     '2017-07-12T00:00:00-00:00'),
    ('network_availability_zone', 'Network Availability Zone',
     'Availability zone support for network.', '2015-01-01T10:00:00-00:00'),
    ('pagination', 'Pagination support',
     'Extension that indicates that pagination is enabled.', '2016-06-12T00:00:00-00:00'),
    ('port-security', 'Port Security', 'Provides port security', '2012-07-23T10:00:00-00:00'),
    ('port-security-groups-filtering', 'Port filtering on security groups',
     'Provides security groups filtering when listing ports', '2018-01-09T09:00:00-00:00'),
    ('project-id', 'project_id field enabled',
     'Extension that indicates that project_id field is enabled.',
     '2016-09-09T09:09:09-09:09'),
    ('provider', 'Provider Network',
     'Expose mapping of virtual networks to physical networks',
     '2012-09-07T10:00:00-00:00'),
    ('quota_details', 'Quota details management support',
     'Expose functions for quotas usage statistics per project',
     '2017-02-10T10:00:00-00:00'),
    ('quotas', 'Quota management support', 'Expose functions for quotas management per '
     'project', '2012-07-29T10:00:00-00:00'),
    ('router', 'Neutron L3 Router', 'Router abstraction for basic L3 forwarding between L2 '
     'Neutron networks and access to external networks via a NAT gateway.',
     '2012-07-20T10:00:00-00:00'),
    ('router_availability_zone', 'Router Availability Zone',
     'Availability zone support for router.', '2015-01-01T10:00:00-00:00'),
    ('security-group', 'security-group', 'The security groups extension.',
     '2012-10-05T10:00:00-00:00'),
    ('security-groups-rules-belongs-to-default-sg',
     "Security group rule belongs to the project's default security group",
     "Flag to determine if the security group rule belongs to the project's default "
     "security group", '2023-05-23T10:00:00-00:00'),
    ('security-groups-shared-filtering', 'Security group filtering on the shared field',
     'Support filtering security groups on the shared field', '2021-10-05T09:00:00-00:00'),
    ('sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.',
     '2016-06-12T00:00:00-00:00'),
    ('standard-attr-description', 'standard-attr-description',
     'Extension to add descriptions to standard attributes', '2016-02-10T10:00:00-00:00'),
    ('standard-attr-revisions', 'Resource revision numbers',
     'This extension will display the revision number of neutron resources.',
     '2016-04-11T10:00:00-00:00'),
    ('standard-attr-tag', 'Tag support for resources with standard attribute: subnet, '
     'trunk, network_segment_range, router, network, policy, subnetpool, port, '
     'security_group, floatingip', 'Enables to set tag on resources with standard '
     'attribute.', '2017-01-01T00:00:00-00:00'),
    ('standard-attr-timestamp', 'Resource timestamps',
     'Adds created_at and updated_at fields to all Neutron resources that have Neutron '
     'standard attributes.', '2016-09-12T10:00:00-00:00'),
    ('stateful-security-group', 'Stateful security group',
     'Indicates if the security group is stateful or not', '2019-11-26T09:00:00-00:00'),
    ('subnet-external-network', 'Subnet belongs to an external network',
     'Informs if the subnet belongs to an external network', '2024-02-05T18:00:00-00:00'),
    ('tag-creation', 'Tag creation extension',
     'Allow to create multiple tags for a resource', '2024-23-07T10:00:00-00:00'),
)

CREATE = {NETWORKS: _create_network, SUBNETS: _create_subnet, PORTS: _create_port,
          ROUTERS: _create_router, FLOATINGIPS: _create_fip, SECURITY_GROUPS: _create_sg,
          SG_RULES: _create_rule}

UPDATE = {NETWORKS: _update_network, SUBNETS: _update_subnet, PORTS: _update_port,
          ROUTERS: _update_router, FLOATINGIPS: _update_fip, SECURITY_GROUPS: _update_sg}

DELETE = {NETWORKS: _delete_network, SUBNETS: _delete_subnet, PORTS: _api_delete_port,
          ROUTERS: _delete_router, FLOATINGIPS: _delete_fip, SECURITY_GROUPS: _delete_sg,
          SG_RULES: lambda state, ctx, rule: _delete_rule(state, rule)}

_PAGING = {'fields', 'limit', 'marker', 'page_reverse', 'sort_key', 'sort_dir'}

_TAG_FILTERS = ('tags', 'tags-any', 'not-tags', 'not-tags-any')


def _filter_values(kind, key, values):
    if key in kind.bools:
        out = []
        for v in values:
            if v.lower() in ('true', '1'):
                out.append(True)
            elif v.lower() in ('false', '0'):
                out.append(False)
            else:
                raise _attr_invalid(key, f"'{v}' cannot be converted to boolean")
        return out
    if key in kind.ints:
        return [_int(v, key) for v in values]
    if key == 'remote_ip_prefix':
        out = []
        for v in values:
            try:
                out.append(str(ipaddress.ip_network(v, strict=False)))
            except ValueError:
                out.append(v)
        return out
    return values


def _matcher(kind, req):
    """A predicate for the query's attribute and tag filters (400 on unknown keys)."""
    tests, invalid = [], []
    if 'tenant_id' in req.query and 'project_id' in req.query:
        raise _err(400, 'TenantIdProjectIdFilterConflict',
                   'Both tenant_id and project_id passed as filters.')
    for key, raw in req.query.items():
        if key in _PAGING:
            continue
        if key in _TAG_FILTERS:
            wanted = set(req.args(key))
            if wanted:
                tests.append((key, wanted))
            continue
        if key not in kind.filters:
            invalid.append(key)
            continue
        values = _filter_values(kind, key, raw)
        attr = 'project_id' if key == 'tenant_id' else key
        tests.append((attr, values))
    if invalid:
        raise _http400(f'{invalid} is invalid attribute for filtering')

    def match(item):
        for attr, values in tests:
            if attr in _TAG_FILTERS:
                tags = set(item.get('tags', ()))
                if attr == 'tags' and not values <= tags:
                    return False
                if attr == 'tags-any' and not values & tags:
                    return False
                if attr == 'not-tags' and values <= tags:
                    return False
                if attr == 'not-tags-any' and values & tags:
                    return False
                continue
            if attr == 'fixed_ips':
                if not any(_fixed_match(f, v) for f in item['fixed_ips'] for v in values):
                    return False
                continue
            value = item.get(attr)
            if isinstance(value, list):
                if not any(v in value for v in values):
                    return False
            elif value is None:
                if '' not in values and None not in values:
                    return False
            elif value not in values:
                return False
        return True
    return match


def _fixed_match(fixed, query):
    key, _, value = query.partition('=')
    if key == 'ip_address_substr':
        return value in fixed['ip_address']
    return key in ('ip_address', 'subnet_id') and fixed.get(key) == value


def _sort_key(value):
    if value is None:
        return (0, '')
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))


def _list(sim, req, kind):
    state, ctx = sim.state, req.context
    if kind is SECURITY_GROUPS:
        ensure_default_security_group(state, ctx.project_id)
    match = _matcher(kind, req)
    fields = req.args('fields')
    limit_text = req.arg('limit')
    limit = None
    if limit_text not in (None, ''):
        try:
            limit = int(limit_text)
            if limit < 0:
                raise ValueError
        except ValueError:
            raise _bad('limit', f"Limit must be an integer 0 or greater and not "
                                f"'{limit_text}'")
        limit = limit or None
    marker = req.arg('marker')
    page_reverse = (req.arg('page_reverse') or 'false').lower() == 'true'
    sort_keys, sort_dirs = req.args('sort_key'), req.args('sort_dir')
    if len(sort_keys) != len(sort_dirs):
        raise _http400('The number of sort_keys and sort_dirs must be same')
    bad_keys = [k for k in sort_keys if k not in _KNOWN[kind.table]]
    if bad_keys:
        raise _http400(f'{bad_keys} is invalid attribute for sort_keys')
    bad_dirs = [d for d in sort_dirs if d not in ('asc', 'desc')]
    if bad_dirs:
        raise _http400(f"{bad_dirs} is invalid value for sort_dirs, valid value is 'asc' "
                       "and 'desc'")
    sorts = list(zip(sort_keys, [d == 'asc' for d in sort_dirs]))
    table = state.tables[kind.table]
    items = [item for item in table.values()
             if _visible(state, kind, item, ctx) and match(item)]
    if sorts or limit:
        if 'id' not in dict(sorts):
            sorts.append(('id', True))
        for key, ascending in reversed(sorts):
            items.sort(key=lambda item: _sort_key(item.get(key)), reverse=not ascending)
    links = []
    if limit:
        if marker:
            index = next((i for i, item in enumerate(items) if item['id'] == marker), None)
            if index is None:
                items = []
            elif page_reverse:
                items = items[max(0, index - limit):index]
            else:
                items = items[index + 1:index + 1 + limit]
        elif page_reverse:
            items = items[-limit:]
        else:
            items = items[:limit]
        links = _pagination_links(sim, req, kind, items, limit, page_reverse)
    body = {kind.collection.replace('-', '_'):
            [render(state, kind, item, ctx, fields) for item in items]}
    if links:
        body[kind.collection.replace('-', '_') + '_links'] = links
    return body


def _pagination_links(sim, req, kind, items, limit, page_reverse):
    """Neutron's api_common.get_pagination_links."""
    base = f'{sim.url}{V2}/{kind.collection}'
    params = [(k, v) for k, values in req.query.items() for v in values]
    links = []
    if not (len(items) < limit and not page_reverse):
        query = [(k, v) for k, v in params if k not in ('marker', 'page_reverse')]
        if items:
            query.append(('marker', items[-1]['id']))
        links.append({'rel': 'next', 'href': f'{base}?{urlencode(query)}'})
    if not (len(items) < limit and page_reverse):
        query = [(k, v) for k, v in params if k not in ('marker', 'page_reverse')]
        if items:
            query.append(('marker', items[0]['id']))
        query.append(('page_reverse', 'True'))
        links.append({'rel': 'previous', 'href': f'{base}?{urlencode(query)}'})
    return links


def _show(sim, req, kind, rid):
    item = _get(sim.state, kind, rid, req.context)
    return {kind.singular: render(sim.state, kind, item, req.context, req.args('fields'))}


def _create(sim, req, kind):
    state, ctx = sim.state, req.context
    data = _data(req, kind, 'POST')
    if data is not None:
        item = CREATE[kind](state, ctx, data)
        return 201, {kind.singular: render(state, kind, item, ctx)}
    created = []            # bulk: all or nothing
    try:
        for entry in req.body[kind.collection.replace('-', '_')]:
            if not isinstance(entry, dict) or not isinstance(entry.get(kind.singular, entry),
                                                             dict):
                raise _http400(f"Unable to find '{kind.singular}' in request body")
            entry = entry.get(kind.singular, entry)
            created.append(CREATE[kind](state, ctx, _check_keys(entry, kind, 'POST')))
    except ApiError:
        for item in reversed(created):
            if item['id'] in state.tables[kind.table]:
                DELETE[kind](state, _Ctx(item['project_id'], True), item)
        raise
    return 201, {kind.collection.replace('-', '_'):
                 [render(state, kind, item, ctx) for item in created]}


def _update(sim, req, kind, rid):
    state, ctx = sim.state, req.context
    item = _get(state, kind, rid, ctx)
    data = _data(req, kind, 'PUT')
    if data is None:
        raise _http400(f"Unable to find '{kind.singular}' in request body")
    _check_owner(kind, item, ctx, 'update')
    item = UPDATE[kind](state, ctx, item, data)
    return {kind.singular: render(state, kind, item, ctx)}


def _delete(sim, req, kind, rid):
    state, ctx = sim.state, req.context
    item = _get(state, kind, rid, ctx)
    _check_owner(kind, item, ctx, 'delete')
    DELETE[kind](state, ctx, item)
    return 204, None


def _tag_parent(sim, req, kind, rid, modify=True):
    item = _get(sim.state, kind, rid, req.context)
    if modify:
        _check_owner(kind, item, req.context, 'update')
    return item


def _tag_name(tag):
    tag = unquote(tag)
    if len(tag) > MAX_TAG_LEN:
        raise _invalid(f"'{tag}' exceeds maximum length of {MAX_TAG_LEN}")
    return tag


def _get_tags(sim, req, kind, rid):
    return {'tags': list(_tag_parent(sim, req, kind, rid, False)['tags'])}


def _check_tag(sim, req, kind, rid, tag):
    item = _tag_parent(sim, req, kind, rid, False)
    tag = unquote(tag)
    if tag not in item['tags']:
        raise _err(404, 'TagNotFound', f'Tag {tag} could not be found.')
    return 204, None


def _set_tags(sim, req, kind, rid):
    item = _tag_parent(sim, req, kind, rid)
    if not isinstance(req.body, dict) or 'tags' not in req.body:
        raise _invalid('Invalid tags body')
    item['tags'] = _validate_tags(req.body['tags'])
    _touch(item)
    return {'tags': list(item['tags'])}


def _add_tags(sim, req, kind, rid):
    item = _tag_parent(sim, req, kind, rid)
    if not isinstance(req.body, dict) or 'tags' not in req.body:
        raise _invalid('Invalid tags body')
    tags = _validate_tags(req.body['tags'])
    item['tags'] = _validate_tags(sorted(set(item['tags']) | set(tags)))
    _touch(item)
    return 201, {'tags': list(item['tags'])}


def _add_tag(sim, req, kind, rid, tag):
    item = _tag_parent(sim, req, kind, rid)
    tag = _tag_name(tag)
    if tag not in item['tags']:
        if len(item['tags']) >= MAX_TAGS:
            raise _invalid(f'The number of tags exceeds the per-resource limit of '
                           f'{MAX_TAGS}')
        item['tags'] = sorted(item['tags'] + [tag])
        _touch(item)
    return 201, None


def _remove_tag(sim, req, kind, rid, tag):
    item = _tag_parent(sim, req, kind, rid)
    tag = unquote(tag)
    if tag not in item['tags']:
        raise _err(404, 'TagNotFound', f'Tag {tag} could not be found.')
    item['tags'] = [t for t in item['tags'] if t != tag]
    _touch(item)
    return 204, None


def _remove_tags(sim, req, kind, rid):
    item = _tag_parent(sim, req, kind, rid)
    if item['tags']:
        item['tags'] = []
        _touch(item)
    return 204, None


def _quota_body(req):
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get('quota'), dict):
        raise _http400("Unable to find 'quota' in request body")
    limits = {}
    unknown = [k for k in body['quota'] if k not in QUOTA_DEFAULTS]
    if unknown:
        raise _http400(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    for key, value in body['quota'].items():
        limits[key] = _int(value, key, -1)
    return limits


def _quota_access(req, project_id):
    ctx = req.context
    if not ctx.is_admin and project_id != ctx.project_id:
        raise _policy('get_quota')


def list_quotas(sim, req):
    if not req.context.is_admin:
        raise _policy('get_quota')
    out = []
    for key, entry in sim.state.tables['quotas'].items():
        if key.startswith('neutron:'):
            pid = key.split(':', 1)[1]
            out.append(dict(quota_limits(sim.state, pid), project_id=pid, tenant_id=pid))
    return {'quotas': out}


def show_quota(sim, req, project_id):
    _quota_access(req, project_id)
    return {'quota': quota_limits(sim.state, project_id)}


def default_quota(sim, req, project_id):
    _quota_access(req, project_id)
    return {'quota': dict(QUOTA_DEFAULTS)}


def quota_details(sim, req, project_id):
    _quota_access(req, project_id)
    limits = quota_limits(sim.state, project_id)
    return {'quota': {name: {'limit': limit, 'used': _usage(sim.state, project_id, name),
                             'reserved': 0} for name, limit in limits.items()}}


def update_quota(sim, req, project_id):
    if not req.context.is_admin:
        raise _policy('update_quota')
    limits = _quota_body(req)
    entry = sim.state.tables['quotas'].setdefault(_quota_key(project_id),
                                                  {'project_id': project_id, 'limits': {}})
    entry['limits'].update(limits)
    return {'quota': quota_limits(sim.state, project_id)}


def delete_quota(sim, req, project_id):
    if not req.context.is_admin:
        raise _policy('delete_quota')
    sim.state.tables['quotas'].pop(_quota_key(project_id), None)
    return 204, None


def quota_tenant(sim, req):
    return {'tenant': {'tenant_id': req.context.project_id}}


def versions(sim, req):
    return {'versions': [{'id': 'v2.0', 'status': 'CURRENT',
                          'links': [{'href': f'{sim.url}{V2}', 'rel': 'self'}]}]}


def resources(sim, req):
    names = [('network', 'networks'), ('subnet', 'subnets'), ('port', 'ports'),
             ('router', 'routers'), ('floatingip', 'floatingips'),
             ('security_group', 'security-groups'),
             ('security_group_rule', 'security-group-rules'), ('quota', 'quotas'),
             ('extension', 'extensions'), ('availability_zone', 'availability_zones')]
    return {'resources': [{'name': name, 'collection': coll,
                           'links': [{'href': f'{sim.url}{V2}/{coll}', 'rel': 'self'}]}
                          for name, coll in names]}


def _extension(entry):
    alias, name, description, updated = entry
    return {'alias': alias, 'name': name, 'description': description, 'updated': updated,
            'links': []}


def list_extensions(sim, req):
    return {'extensions': [_extension(e) for e in EXTENSIONS]}


def show_extension(sim, req, alias):
    for entry in EXTENSIONS:
        if entry[0] == unquote(alias):
            return {'extension': _extension(entry)}
    raise _err(404, 'HTTPNotFound', f'Extension with alias {unquote(alias)} does not exist')


def availability_zones(sim, req):
    return {'availability_zones': [
        {'name': 'nova', 'resource': resource, 'state': 'available'}
        for resource in ('network', 'router')]}
