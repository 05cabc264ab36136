"""Security groups and rules, with each project's automatic ``default`` group."""

import ipaddress

from bayflow.cloudsim.neutron.base import (
    ICMP_PROTOCOLS, PORT_PROTOCOLS, PROTOCOLS, SECURITY_GROUPS, _attr_invalid, _bool,
    _check_owner, _check_quota, _err, _get, _http400, _project, _std, _string, _tags_of,
    _touch)


def find_security_group(state, project_id, name_or_id):
    """Nova's security_groups=[{"name"}] lookup: by id, then by name in the project.

    Creates the project's default group on first use. 404 SecurityGroupNotFound;
    409 NoUniqueMatch when the name is ambiguous."""
    ensure_default_security_group(state, project_id)
    groups = state.tables['security_groups']
    sg = groups.get(name_or_id) if isinstance(name_or_id, str) else None
    if sg is not None and sg['project_id'] == project_id:
        return sg
    named = [g for g in groups.values()
             if g['project_id'] == project_id and g['name'] == name_or_id]
    if len(named) > 1:
        raise _err(409, 'NoUniqueMatch', f"Multiple security groups found matching "
                   f"'{name_or_id}'. Use an ID to be more specific.")
    if not named:
        raise SECURITY_GROUPS.not_found(name_or_id)
    return named[0]


def ensure_default_security_group(state, project_id):
    """The project's ``default`` group, created (with its 4 rules) on first use."""
    if not project_id:
        return None
    for sg in state.tables['security_groups'].values():
        if sg['_default'] and sg['project_id'] == project_id:
            return sg
    sg = _new_sg(state, project_id, 'default', 'Default security group', default=True)
    for ethertype in ('IPv4', 'IPv6'):
        _new_rule(state, sg, 'ingress', ethertype, remote_group_id=sg['id'])
    return sg


def _new_sg(state, project_id, name, description, default=False, stateful=True):
    sg = _std(project_id, name, description)
    sg.update({'stateful': stateful, 'shared': False, '_rules': [], '_default': default})
    state.tables['security_groups'][sg['id']] = sg
    for ethertype in ('IPv4', 'IPv6'):
        _new_rule(state, sg, 'egress', ethertype)
    return sg


def _new_rule(state, sg, direction, ethertype, protocol=None, port_range_min=None,
              port_range_max=None, remote_ip_prefix=None, remote_group_id=None,
              description='', project_id=None):
    rule = _std(project_id or sg['project_id'], description=description)
    del rule['name']
    rule.update({'security_group_id': sg['id'], 'direction': direction,
                 'ethertype': ethertype, 'protocol': protocol,
                 'port_range_min': port_range_min, 'port_range_max': port_range_max,
                 'remote_ip_prefix': remote_ip_prefix, 'remote_group_id': remote_group_id,
                 'belongs_to_default_sg': sg['_default']})
    state.tables['security_group_rules'][rule['id']] = rule
    sg['_rules'].append(rule['id'])
    return rule


def _create_sg(state, ctx, data):
    project_id = _project(ctx, data)
    name = _string(data.get('name', ''), 'name')
    if name == 'default':
        raise _err(409, 'SecurityGroupDefaultAlreadyExists',
                   'Default security group already exists.')
    description = _string(data.get('description', ''), 'description')
    stateful = _bool(data.get('stateful', True), 'stateful')
    tags = _tags_of(data)
    ensure_default_security_group(state, project_id)
    _check_quota(state, project_id, 'security_group')
    sg = _new_sg(state, project_id, name, description, stateful=stateful)
    sg['tags'] = tags
    return sg


def _update_sg(state, ctx, sg, data):
    if 'name' in data:
        name = _string(data['name'], 'name')
        if sg['_default'] and name != 'default':
            raise _err(409, 'SecurityGroupCannotUpdateDefault',
                       'Updating default security group not allowed.')
        if not sg['_default'] and name == 'default':
            raise _err(409, 'SecurityGroupDefaultAlreadyExists',
                       'Default security group already exists.')
        sg['name'] = name
    if 'description' in data:
        sg['description'] = _string(data['description'], 'description')
    if 'stateful' in data:
        stateful = _bool(data['stateful'], 'stateful')
        if stateful != sg['stateful'] and any(
                sg['id'] in p['security_groups'] for p in state.tables['ports'].values()):
            raise _err(409, 'SecurityGroupInUse', f"Security Group {sg['id']} in use.")
        sg['stateful'] = stateful
    _touch(sg)
    return sg


def _delete_sg(state, ctx, sg):
    if sg['_default'] and not ctx.is_admin:
        raise _err(409, 'SecurityGroupCannotRemoveDefault',
                   'Insufficient rights for removing default security group.')
    if any(sg['id'] in p['security_groups'] for p in state.tables['ports'].values()):
        raise _err(409, 'SecurityGroupInUse', f"Security Group {sg['id']} in use.")
    rules = state.tables['security_group_rules']
    for rule_id in list(sg['_rules']):
        rules.pop(rule_id, None)
    for rule in [r for r in rules.values() if r['remote_group_id'] == sg['id']]:
        _delete_rule(state, rule)
    del state.tables['security_groups'][sg['id']]


def _protocol_number(protocol):
    if protocol is None:
        return None
    return PROTOCOLS.get(protocol, None if not str(protocol).isdigit() else int(protocol))


def _create_rule(state, ctx, data):
    for key in ('security_group_id', 'direction'):
        if key not in data:
            raise _http400(f"Failed to parse request. Required attribute '{key}' not "
                           "specified")
    sg = _get(state, SECURITY_GROUPS, data['security_group_id'], ctx)
    _check_owner(SECURITY_GROUPS, sg, ctx, 'update')
    direction = data['direction']
    if direction not in ('ingress', 'egress'):
        raise _attr_invalid('direction', f"{direction} is not in ['ingress', 'egress']")
    ethertype = data.get('ethertype', 'IPv4') or 'IPv4'
    ethertype = {'ipv4': 'IPv4', 'ipv6': 'IPv6'}.get(str(ethertype).lower())
    if ethertype is None:
        raise _attr_invalid('ethertype', f"{data.get('ethertype')} is not in "
                                         "['IPv4', 'IPv6']")
    protocol = data.get('protocol')
    if protocol is not None:
        text = str(protocol).lower()
        if text == 'any':
            protocol = None
        elif text.isdigit() and 0 <= int(text) <= 255:
            protocol = str(int(text))
        elif text in PROTOCOLS:
            protocol = text
        else:
            raise _err(400, 'SecurityGroupRuleInvalidProtocol',
                       f"Security group rule protocol {protocol} not supported. Only "
                       f"protocol values {[None] + sorted(PROTOCOLS)} and integer "
                       "representations [0 to 255] are supported.")
    ports = {}
    for key in ('port_range_min', 'port_range_max'):
        value = data.get(key)
        if value is not None:
            try:
                if isinstance(value, bool):
                    raise ValueError
                value = int(value)
                if not 0 <= value <= 65535:
                    raise ValueError
            except (TypeError, ValueError):
                raise _err(400, 'SecurityGroupInvalidPortValue',
                           f'Invalid value for port {data.get(key)}')
        ports[key] = value
    low, high = ports['port_range_min'], ports['port_range_max']
    number = _protocol_number(protocol)
    if (low is not None or high is not None):
        if protocol is None:
            raise _err(400, 'SecurityGroupProtocolRequiredWithPorts',
                       'Must also specify protocol if port range is given.')
        if number in PORT_PROTOCOLS:
            if low == 0 or high == 0:
                raise _err(400, 'SecurityGroupInvalidPortValue', 'Invalid value for port 0')
            if low is None or high is None or low > high:
                raise _err(400, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, '
                           'port_range_min must be <= port_range_max')
        elif number in ICMP_PROTOCOLS:
            for field, attr, value in (('type', 'port_range_min', low),
                                       ('code', 'port_range_max', high)):
                if value is not None and value > 255:
                    raise _err(400, 'SecurityGroupInvalidIcmpValue',
                               f'Invalid value for ICMP {field} ({attr}) {value}. It must '
                               'be 0 to 255.')
            if low is None and high is not None:
                raise _err(400, 'SecurityGroupMissingIcmpType',
                           f'ICMP code (port-range-max) {high} is provided but ICMP type '
                           '(port-range-min) is missing.')
        else:
            raise _err(400, 'SecurityGroupInvalidProtocolForPortRange',
                       f'Invalid protocol {protocol} for port range, only supported for '
                       'TCP, UDP, UDPLITE, SCTP and DCCP.')
    prefix = data.get('remote_ip_prefix')
    remote_group = data.get('remote_group_id')
    if prefix is not None and remote_group is not None:
        raise _err(400, 'SecurityGroupRemoteGroupAndRemoteIpPrefix',
                   'Only remote_ip_prefix or remote_group_id may be provided.')
    if prefix is not None:
        try:
            if not isinstance(prefix, str):
                raise ValueError
            network = ipaddress.ip_network(prefix, strict=False)
        except ValueError:
            raise _err(400, 'InvalidCIDR', f'Invalid CIDR {prefix} given as IP prefix.')
        if f'IPv{network.version}' != ethertype:
            raise _err(400, 'SecurityGroupRuleParameterConflict',
                       f'Conflicting value ethertype {ethertype} for CIDR {prefix}')
        prefix = str(network)
    if remote_group is not None:
        remote_group = _get(state, SECURITY_GROUPS, remote_group, ctx)['id']
    description = _string(data.get('description', ''), 'description')
    project_id = _project(ctx, data) if ('project_id' in data or 'tenant_id' in data) \
        else sg['project_id']
    key = _rule_key(direction, ethertype, protocol, low, high, prefix, remote_group)
    rules = state.tables['security_group_rules']
    for rule_id in sg['_rules']:
        rule = rules[rule_id]
        if _rule_key(rule['direction'], rule['ethertype'], rule['protocol'],
                     rule['port_range_min'], rule['port_range_max'],
                     rule['remote_ip_prefix'], rule['remote_group_id']) == key:
            raise _err(409, 'SecurityGroupRuleExists',
                       f'Security group rule already exists. Rule id is {rule_id}.')
    _check_quota(state, project_id, 'security_group_rule')
    rule = _new_rule(state, sg, direction, ethertype, protocol, low, high, prefix,
                     remote_group, description, project_id)
    _touch(sg)
    return rule


def _rule_key(direction, ethertype, protocol, low, high, prefix, remote_group):
    if prefix in ('0.0.0.0/0', '::/0'):
        prefix = None
    return (direction, ethertype, _protocol_number(protocol), low, high, prefix,
            remote_group)


def _delete_rule(state, rule):
    sg = state.tables['security_groups'].get(rule['security_group_id'])
    if sg and rule['id'] in sg['_rules']:
        sg['_rules'].remove(rule['id'])
        _touch(sg)
    state.tables['security_group_rules'].pop(rule['id'], None)
