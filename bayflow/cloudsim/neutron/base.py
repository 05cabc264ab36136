"""Neutron building blocks: constants, errors, resource kinds, helpers,
quotas and rendering (addresses and port primitives are in ``ipam``)."""

import ipaddress

from bayflow.cloudsim import errors
from bayflow.cloudsim.state import isotime, new_id


V2 = '/network/v2.0'

OWNER_DHCP = 'network:dhcp'

OWNER_RIF = 'network:router_interface'

OWNER_GW = 'network:router_gateway'

OWNER_FIP = 'network:floatingip'

AUTO_DELETE_OWNERS = (OWNER_DHCP, 'network:distributed', 'network:floatingip_agent_gateway')

L3_OWNERS = (OWNER_RIF, OWNER_GW, OWNER_FIP, 'network:router_interface_distributed',
             'network:ha_router_replicated_interface')

MAX_TAGS, MAX_TAG_LEN = 50, 255


TENANT_MTU, EXTERNAL_MTU = 1450, 1500

QUOTA_DEFAULTS = {'floatingip': 50, 'network': 100, 'port': 500, 'rbac_policy': 10,
                  'router': 10, 'security_group': 10, 'security_group_rule': 100,
                  'subnet': 100, 'subnetpool': -1}

PROTOCOLS = {'ah': 51, 'dccp': 33, 'egp': 8, 'esp': 50, 'gre': 47, 'hopopt': 0, 'icmp': 1,
             'icmpv6': 58, 'igmp': 2, 'ipip': 4, 'ipv6-encap': 41, 'ipv6-frag': 44,
             'ipv6-icmp': 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, 'ipv6-route': 43,
             'ospf': 89, 'pgm': 113, 'rsvp': 46, 'sctp': 132, 'tcp': 6, 'udp': 17,
             'udplite': 136, 'vrrp': 112}

PORT_PROTOCOLS = {6, 17, 33, 132, 136}

ICMP_PROTOCOLS = {1, 58}

# Attributes only an admin sees: provider networks, HA and DVR routers, bindings.
ADMIN_ONLY = {'networks': ('provider:network_type', 'provider:physical_network',
                           'provider:segmentation_id'),
              'routers': ('ha', 'distributed'),
              'ports': ('binding:host_id', 'binding:profile', 'binding:vif_details',
                        'binding:vif_type')}


def _err(status, type_, message):
    return errors.neutron(status, type_, message)


def _http400(message):
    """A validation error of the API layer (webob's HTTPBadRequest)."""
    return _err(400, 'HTTPBadRequest', message)


def _bad(resource, msg):
    return _err(400, 'BadRequest', f'Bad {resource} request: {msg}.')


def _invalid(msg):
    return _err(400, 'InvalidInput', f'Invalid input for operation: {msg}.')


def _attr_invalid(attr, reason):
    return _http400(f'Invalid input for {attr}. Reason: {reason}.')


def _policy(action):
    return _err(403, 'PolicyNotAuthorized', f'rule:{action} is disallowed by policy')


def _no_ip(net_id):
    return _err(409, 'IpAddressGenerationFailure',
                f'No more IP addresses available on network {net_id}.')


class Kind:
    def __init__(self, singular, collection, table, nf_type, nf_message, filters, post,
                 put, bools=(), ints=()):
        self.singular, self.collection, self.table = singular, collection, table
        self.nf_type, self.nf_message = nf_type, nf_message
        self.filters = frozenset(filters) | {'id', 'tenant_id', 'project_id', 'description',
                                             'revision_number'}
        self.post, self.put = frozenset(post), frozenset(put)
        self.bools, self.ints = frozenset(bools), frozenset(ints) | {'revision_number'}

    def not_found(self, rid):
        return _err(404, self.nf_type, self.nf_message.format(rid))


_COMMON_POST = ('name', 'description', 'project_id', 'tenant_id', 'tags')

NETWORKS = Kind('network', 'networks', 'networks', 'NetworkNotFound',
                'Network {} could not be found.',
                ('name', 'admin_state_up', 'status', 'shared', 'router:external', 'mtu')
                + ADMIN_ONLY['networks'],
                _COMMON_POST + ('admin_state_up', 'shared', 'router:external', 'mtu',
                                'port_security_enabled', 'availability_zone_hints')
                + ADMIN_ONLY['networks'],
                ('name', 'description', 'admin_state_up', 'shared', 'router:external',
                 'mtu', 'port_security_enabled') + ADMIN_ONLY['networks'],
                bools=('admin_state_up', 'shared', 'router:external',
                       'port_security_enabled', 'l2_adjacency'),
                ints=('mtu', 'provider:segmentation_id'))

SUBNETS = Kind('subnet', 'subnets', 'subnets', 'SubnetNotFound',
               'Subnet {} could not be found.',
               ('name', 'ip_version', 'network_id', 'subnetpool_id', 'cidr', 'gateway_ip',
                'enable_dhcp', 'ipv6_ra_mode', 'ipv6_address_mode', 'router:external'),
               _COMMON_POST + ('network_id', 'cidr', 'ip_version', 'gateway_ip',
                               'allocation_pools', 'dns_nameservers', 'host_routes',
                               'enable_dhcp', 'ipv6_ra_mode', 'ipv6_address_mode',
                               'subnetpool_id', 'prefixlen'),
               ('name', 'description', 'gateway_ip', 'allocation_pools', 'dns_nameservers',
                'host_routes', 'enable_dhcp'),
               bools=('enable_dhcp', 'router:external'), ints=('ip_version',))

PORTS = Kind('port', 'ports', 'ports', 'PortNotFound', 'Port {} could not be found.',
             ('name', 'network_id', 'admin_state_up', 'mac_address', 'fixed_ips',
              'device_id', 'device_owner', 'status', 'binding:host_id', 'security_groups'),
             _COMMON_POST + ('network_id', 'admin_state_up', 'mac_address', 'fixed_ips',
                             'device_id', 'device_owner', 'security_groups',
                             'port_security_enabled', 'allowed_address_pairs',
                             'binding:host_id', 'binding:profile', 'binding:vnic_type'),
             ('name', 'description', 'admin_state_up', 'mac_address', 'fixed_ips',
              'device_id', 'device_owner', 'security_groups', 'port_security_enabled',
              'allowed_address_pairs', 'binding:host_id', 'binding:profile',
              'binding:vnic_type'),
             bools=('admin_state_up', 'port_security_enabled'))

ROUTERS = Kind('router', 'routers', 'routers', 'RouterNotFound',
               'Router {} could not be found',
               ('name', 'admin_state_up') + ADMIN_ONLY['routers'],
               _COMMON_POST + ('admin_state_up', 'external_gateway_info',
                               'availability_zone_hints') + ADMIN_ONLY['routers'],
               ('name', 'description', 'admin_state_up', 'external_gateway_info', 'routes')
               + ADMIN_ONLY['routers'],
               bools=('admin_state_up',) + ADMIN_ONLY['routers'])

FLOATINGIPS = Kind('floatingip', 'floatingips', 'floatingips', 'FloatingIPNotFound',
                   'Floating IP {} could not be found',
                   ('floating_ip_address', 'floating_network_id', 'router_id', 'port_id',
                    'fixed_ip_address', 'status'),
                   ('description', 'project_id', 'tenant_id', 'tags', 'floating_network_id',
                    'port_id', 'fixed_ip_address', 'floating_ip_address', 'subnet_id'),
                   ('description', 'port_id', 'fixed_ip_address'))

SECURITY_GROUPS = Kind('security_group', 'security-groups', 'security_groups',
                       'SecurityGroupNotFound', 'Security group {} does not exist',
                       ('name', 'shared', 'stateful'),
                       _COMMON_POST + ('stateful',), ('name', 'description', 'stateful'),
                       bools=('shared', 'stateful'))

SG_RULES = Kind('security_group_rule', 'security-group-rules', 'security_group_rules',
                'SecurityGroupRuleNotFound', 'Security group rule {} does not exist',
                ('security_group_id', 'remote_group_id', 'direction', 'protocol',
                 'port_range_min', 'port_range_max', 'ethertype', 'remote_ip_prefix',
                 'belongs_to_default_sg'),
                ('description', 'project_id', 'tenant_id', 'security_group_id',
                 'remote_group_id', 'direction', 'protocol', 'port_range_min',
                 'port_range_max', 'ethertype', 'remote_ip_prefix'),
                ('description',),
                bools=('belongs_to_default_sg',), ints=('port_range_min', 'port_range_max'))

KINDS = (NETWORKS, SUBNETS, PORTS, ROUTERS, FLOATINGIPS, SECURITY_GROUPS, SG_RULES)

BY_COLLECTION = {k.collection: k for k in KINDS}


class _Ctx:
    """A caller for the functions Nova uses (no HTTP request behind it)."""

    def __init__(self, project_id, is_admin=False):
        self.project_id, self.is_admin = project_id, is_admin


def _copy(value):
    """A deep copy of plain JSON data (faster than copy.deepcopy)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _std(project_id, name='', description=''):
    now = isotime()
    return {'id': new_id(), 'name': name, 'description': description,
            'project_id': project_id, 'tenant_id': project_id, 'tags': [],
            'created_at': now, 'updated_at': now, 'revision_number': 0}


def _touch(item):
    item['revision_number'] += 1
    item['updated_at'] = isotime()


def _visible(state, kind, item, ctx):
    if ctx is None or ctx.is_admin or item.get('project_id') == ctx.project_id:
        return True
    if kind is NETWORKS:
        return item['shared'] or item['router:external']
    if kind is SUBNETS:
        net = state.tables['networks'].get(item['network_id'])
        return bool(net and net['shared'])
    if kind is PORTS:
        net = state.tables['networks'].get(item['network_id'])
        return bool(net and net['project_id'] == ctx.project_id)
    if kind is SG_RULES:
        sg = state.tables['security_groups'].get(item['security_group_id'])
        return bool(sg and sg['project_id'] == ctx.project_id)
    return False


def _get(state, kind, rid, ctx=None):
    item = state.tables[kind.table].get(rid) if isinstance(rid, str) else None
    if item is None or not _visible(state, kind, item, ctx):
        raise kind.not_found(rid)
    return item


def _check_owner(kind, item, ctx, action):
    """Neutron's admin_or_owner policy on a resource the caller can see."""
    if ctx is not None and not ctx.is_admin and item.get('project_id') != ctx.project_id:
        raise _policy(f'{action}_{kind.singular}')


def _data(req, kind, method):
    """The resource dict of a POST/PUT body, with Neutron's attribute checks."""
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get(kind.singular), dict):
        if method == 'POST' and isinstance(body, dict) and isinstance(
                body.get(kind.collection.replace('-', '_')), list):
            return None     # bulk
        raise _http400(f"Unable to find '{kind.singular}' in request body")
    return _check_keys(body[kind.singular], kind, method)


def _check_keys(data, kind, method):
    if not isinstance(data, dict):
        raise _http400(f"Unable to find '{kind.singular}' in request body")
    allowed = kind.post if method == 'POST' else kind.put
    unknown = []
    for key in data:
        if key in allowed:
            continue
        if key in _KNOWN[kind.table]:
            if method == 'POST':
                raise _http400(f"Attribute '{key}' not allowed in POST")
            raise _http400(f'Cannot update read-only attribute {key}')
        unknown.append(key)
    if unknown:
        raise _http400(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    return data


def _bool(value, attr):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ('true', 'false', '1', '0'):
        return value.lower() in ('true', '1')
    raise _attr_invalid(attr, f"'{value}' cannot be converted to boolean")


def _string(value, attr, max_len=255):
    if not isinstance(value, str):
        raise _attr_invalid(attr, f"'{value}' is not a valid string")
    if max_len is not None and len(value) > max_len:
        raise _attr_invalid(attr, f"'{value}' exceeds maximum length of {max_len}")
    return value


def _int(value, attr, low=None, high=None):
    try:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        raise _attr_invalid(attr, f"'{value}' is not an integer")
    if low is not None and number < low:
        raise _attr_invalid(attr, f"'{value}' is too small - must be at least '{low}'")
    if high is not None and number > high:
        raise _attr_invalid(attr, f"'{value}' is too large - must be no larger than "
                                  f"'{high}'")
    return number


def _ip(value, attr='ip_address'):
    try:
        if not isinstance(value, str):
            raise ValueError
        return ipaddress.ip_address(value)
    except ValueError:
        raise _attr_invalid(attr, f"'{value}' is not a valid IP address")


def _project(ctx, data):
    """The owner a create names (admins may create for another project)."""
    asked = data.get('project_id') or data.get('tenant_id')
    if (data.get('project_id') and data.get('tenant_id')
            and data['project_id'] != data['tenant_id']):
        raise _http400("'project_id' and 'tenant_id' do not match")
    if asked and asked != ctx.project_id and not ctx.is_admin:
        raise _http400("Specifying 'project_id' or 'tenant_id' other than the "
                       "authenticated project in request requires admin privileges")
    return asked or ctx.project_id


def _tags_of(data):
    """``tags`` in a create body (tag-creation extension)."""
    if 'tags' not in data:
        return []
    return _validate_tags(data['tags'])


def _validate_tags(tags):
    if not isinstance(tags, list):
        raise _invalid(f"'{tags}' is not a list")
    seen = set()
    for tag in tags:
        if not isinstance(tag, str):
            raise _invalid(f"'{tag}' is not a valid string")
        if len(tag) > MAX_TAG_LEN:
            raise _invalid(f"'{tag}' exceeds maximum length of {MAX_TAG_LEN}")
        if tag in seen:
            raise _invalid(f"Duplicate items in the list: '{tag}'")
        seen.add(tag)
    if len(tags) > MAX_TAGS:
        raise _invalid(f'The number of tags exceeds the per-resource limit of {MAX_TAGS}')
    return sorted(tags)


def _quota_key(project_id):
    return f'neutron:{project_id}'


def quota_limits(state, project_id):
    limits = dict(QUOTA_DEFAULTS)
    limits.update(state.tables['quotas'].get(_quota_key(project_id), {}).get('limits', {}))
    return limits


_QUOTA_TABLES = {'network': 'networks', 'subnet': 'subnets', 'port': 'ports',
                 'router': 'routers', 'floatingip': 'floatingips',
                 'security_group': 'security_groups',
                 'security_group_rule': 'security_group_rules'}


def _usage(state, project_id, resource):
    table = _QUOTA_TABLES.get(resource)
    if table is None:
        return 0
    return sum(1 for item in state.tables[table].values()
               if item.get('project_id') == project_id)


def _check_quota(state, project_id, resource, count=1):
    limit = quota_limits(state, project_id)[resource]
    if limit >= 0 and _usage(state, project_id, resource) + count > limit:
        raise _err(409, 'OverQuota', f"Quota exceeded for resources: ['{resource}'].")


_KNOWN = {}     # table -> every attribute the API shows (filled below)


def render(state, kind, item, ctx=None, fields=None):
    out = {k: _copy(v) for k, v in item.items() if not k.startswith('_')}
    if kind is SECURITY_GROUPS:
        rules = state.tables['security_group_rules']
        out['security_group_rules'] = [render(state, SG_RULES, rules[r])
                                       for r in item['_rules'] if r in rules]
    elif kind is FLOATINGIPS:
        port = state.tables['ports'].get(item['port_id'] or '')
        out['port_details'] = None if port is None else {
            k: port[k] for k in ('name', 'network_id', 'mac_address', 'admin_state_up',
                                 'status', 'device_id', 'device_owner')}
    if ctx is not None and not ctx.is_admin:
        for key in ADMIN_ONLY.get(kind.table, ()):
            out.pop(key, None)
    if fields:
        out = {k: v for k, v in out.items() if k in fields}
    return out


_STD_KEYS = ('id', 'name', 'description', 'project_id', 'tenant_id', 'tags', 'created_at',
             'updated_at', 'revision_number')

_KNOWN.update({
    'networks': set(_STD_KEYS) | {'admin_state_up', 'shared', 'router:external', 'mtu',
                                  'status', 'subnets', 'port_security_enabled',
                                  'availability_zone_hints', 'availability_zones',
                                  'l2_adjacency', *ADMIN_ONLY['networks']},
    'subnets': set(_STD_KEYS) | {'network_id', 'cidr', 'ip_version', 'gateway_ip',
                                 'allocation_pools', 'dns_nameservers', 'host_routes',
                                 'enable_dhcp', 'ipv6_address_mode', 'ipv6_ra_mode',
                                 'subnetpool_id', 'router:external'},
    'ports': set(_STD_KEYS) | {'network_id', 'admin_state_up', 'mac_address', 'fixed_ips',
                               'device_id', 'device_owner', 'status', 'security_groups',
                               'port_security_enabled', 'allowed_address_pairs',
                               'binding:host_id', 'binding:vif_type', 'binding:vnic_type',
                               'binding:profile', 'binding:vif_details'},
    'routers': set(_STD_KEYS) | {'admin_state_up', 'status', 'external_gateway_info',
                                 'routes', 'availability_zone_hints', 'availability_zones',
                                 *ADMIN_ONLY['routers']},
    'floatingips': (set(_STD_KEYS) - {'name'}) | {
        'floating_network_id', 'floating_ip_address', 'fixed_ip_address', 'port_id',
        'router_id', 'status', 'port_details'},
    'security_groups': set(_STD_KEYS) | {'stateful', 'shared', 'security_group_rules'},
    'security_group_rules': (set(_STD_KEYS) - {'name'}) | {
        'security_group_id', 'direction', 'ethertype', 'protocol', 'port_range_min',
        'port_range_max', 'remote_ip_prefix', 'remote_group_id', 'belongs_to_default_sg'},
})
