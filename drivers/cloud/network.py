"""Neutron resources of a bay, each find-or-create (safe to run twice):
network, subnet, router, its gateway and interface, security groups and
their rules, ports and floating IPs.

Lookups go by exact name AND bay ownership (full uuid in the name, tags or
description); tags go in the create body when Neutron has ``tag-creation``,
else right after create (a crash in between is covered by the name).
"""

import functools
import ipaddress

from openstack import exceptions as sdk_exc

from bayflow.drivers.cloud import naming
from bayflow.drivers.cloud.base import Plain, looking_first
from bayflow.drivers.cloud.errors import CloudError
from bayflow.exceptions import InvalidParameter

ROUTER_INTERFACE = 'network:router_interface'
RULE_KEYS = ('direction', 'ethertype', 'protocol', 'port_range_min', 'port_range_max',
             'remote_ip_prefix', 'remote_role')


# Neutron's collection of each kind created with a plain POST.
_COLLECTIONS = {'network': 'networks', 'subnet': 'subnets', 'router': 'routers',
                'security_group': 'security-groups', 'port': 'ports',
                'floatingip': 'floatingips'}


def _oldest(items):
    """Of duplicates (never made by bayflow, but legal in Neutron) the oldest."""
    return sorted(items, key=lambda r: (r.created_at or '', r.id))[0] if items else None


class NetworkMixin:

    # -- tags ----------------------------------------------------------------
    def _tag_on_create(self):
        def has_it():
            return any(e.alias == 'tag-creation' for e in self.network.extensions())

        def probe():
            return self._call('read', 'extension', 'tag-creation', has_it)
        return self._capability('neutron-tag-creation', probe)

    def _neutron_create(self, create, bay, **attrs):
        """Create with the bay's tags (in the body when Neutron allows it)."""
        if self._tag_on_create():
            return create(tags=naming.tags(bay), **attrs)
        resource = create(**attrs)
        if isinstance(resource, Plain):
            collection = _COLLECTIONS[resource.get('_kind')]
            sdk_exc.raise_from_response(self.network.put(
                f'/{collection}/{resource.id}/tags', json={'tags': naming.tags(bay)}))
        else:
            self.network.set_tags(resource, naming.tags(bay))
        return resource

    def _create_neutron_json(self, kind, **attrs):
        """A resource made with a plain POST (see CloudBase._create_json): the
        network, subnet and router are the first links of the bay's critical
        path, made while dozens of volumes and ports compete for the CPU."""
        item = self._create_json('network', f'/{_COLLECTIONS[kind]}', kind, attrs)
        item['_kind'] = kind
        return item

    def _neutron_find(self, listing, bay, name, **filters):
        """The bay's resource called ``name``, its tags repaired if a crash
        came between create and tagging; None when there is none."""
        found = _oldest([r for r in listing(name=name, **filters) if r.name == name])
        if found is not None and not set(naming.tags(bay)) <= set(found.tags or ()):
            self.network.set_tags(found, sorted(set(found.tags or ()) | set(naming.tags(bay))))
        return found

    def _ensure_neutron(self, kind, listing, create, bay, name, filters=None, **attrs):
        filters = filters or {}
        return self._ensure(
            kind, name, lambda: self._neutron_find(listing, bay, name, **filters),
            lambda: self._neutron_create(create, bay, name=name, **filters, **attrs))

    # -- network, subnet, router --------------------------------------------
    def ensure_network(self, bay_uuid):
        """``{'id', 'name'}`` of the bay's private network."""
        net = self._ensure_neutron('network', self.network.networks,
                                   functools.partial(self._create_neutron_json, 'network'),
                                   bay_uuid,
                                   naming.network_name(bay_uuid))
        return {'id': net.id, 'name': net.name}

    def ensure_subnet(self, bay_uuid, network_id, cidr='10.0.0.0/24', dns_nameservers=()):
        """``{'id', 'name', 'network_id', 'cidr', 'gateway_ip'}`` of the bay's
        IPv4 subnet (``dns_nameservers``: one address or a list)."""
        if isinstance(dns_nameservers, str):
            dns_nameservers = [dns_nameservers]
        dns_nameservers = [d for d in dns_nameservers or () if d]
        subnet = self._ensure_neutron(
            'subnet', self.network.subnets,
            functools.partial(self._create_neutron_json, 'subnet'), bay_uuid,
            naming.subnet_name(bay_uuid), {'network_id': network_id},
            cidr=cidr, ip_version=4, dns_nameservers=dns_nameservers)
        return {'id': subnet.id, 'name': subnet.name, 'network_id': subnet.network_id,
                'cidr': subnet.cidr, 'gateway_ip': subnet.gateway_ip}

    def ensure_router(self, bay_uuid):
        """``{'id', 'name'}`` of the bay's router (no gateway yet)."""
        router = self._ensure_neutron('router', self.network.routers,
                                      functools.partial(self._create_neutron_json, 'router'),
                                      bay_uuid,
                                      naming.router_name(bay_uuid))
        return {'id': router.id, 'name': router.name}

    def ensure_router_gateway(self, router_id, external_network_id):
        """Set the router's gateway on the external network with
        ``update_router(external_gateway_info=...)`` unless it is there."""
        def find():
            router = self.network.get_router(router_id)
            info = router.external_gateway_info or {}
            return router if info.get('network_id') == external_network_id else None
        def set_it():
            body = {'router': {'external_gateway_info': {'network_id': external_network_id}}}
            return Plain(self._send_json('put', 'network', f'/routers/{router_id}', body)['router'])
        router = self._ensure('router gateway', router_id, find, set_it, action='set')
        info = router.external_gateway_info or {}
        return {'router_id': router.id, 'network_id': info.get('network_id'),
                'external_ips': [f['ip_address'] for f in info.get('external_fixed_ips') or ()]}

    def _router_interface_port(self, router_id, subnet_id):
        for port in self.network.ports(device_id=router_id, device_owner=ROUTER_INTERFACE):
            if any(f.get('subnet_id') == subnet_id for f in port.fixed_ips or ()):
                return port.id
        return None

    def ensure_router_interface(self, router_id, subnet_id):
        """``{'router_id', 'subnet_id', 'port_id'}``: the router's interface
        on the subnet, added unless already attached."""
        port_id = self._ensure(
            'router interface', f'{router_id} on subnet {subnet_id}',
            lambda: self._router_interface_port(router_id, subnet_id),
            lambda: self._send_json('put', 'network', f'/routers/{router_id}/add_router_interface',
                                   {'subnet_id': subnet_id})['port_id'],
            action='add')
        return {'router_id': router_id, 'subnet_id': subnet_id, 'port_id': port_id}

    # -- security groups ------------------------------------------------------
    def ensure_security_group(self, bay_uuid, role):
        """``{'id', 'name', 'role'}`` of the bay's group for ``role`` (rules
        come from :meth:`ensure_security_group_rules`)."""
        name = naming.security_group_name(bay_uuid, role)
        group = self._ensure_neutron(
            'security group', self.network.security_groups,
            functools.partial(self._create_neutron_json, 'security_group'), bay_uuid, name,
            description=f'bayflow bay {bay_uuid}: {role}')
        return {'id': group.id, 'name': group.name, 'role': role}

    def ensure_security_group_rules(self, group, rules, groups):
        """Add the missing ``rules`` (plain dicts, see RULE_KEYS) to ``group``
        (a dict from ensure_security_group); ``remote_role`` names another
        role's group in ``groups`` ({role: group dict}). Returns the number of
        rules created.

        They go in one bulk POST, which Neutron makes all or none; when it
        refuses them as a whole because some exist already (a retry of a bulk
        it took, say), the group is looked at and the rest added one at a
        time, a 409 "already exists" meaning done."""
        wanted = list({_rule_key(b): b for b in (self._rule_body(group, rule, groups)
                                                 for rule in rules)}.values())

        def existing():
            return {_rule_key(r.to_dict()) for r in
                    self.network.security_group_rules(security_group_id=group['id'])}
        # A first run has nothing to find.
        have = (self._call('read', 'security group', group['name'], existing)
                if looking_first() else set())
        missing = [body for body in wanted if _rule_key(body) not in have]
        if len(missing) > 1:
            if self._call('create', 'security group rules',
                          f"{group['name']} {'; '.join(_describe(b) for b in missing)}",
                          self._create_rules, missing):
                return len(missing)
            have = self._call('read', 'security group', group['name'], existing)
            missing = [body for body in missing if _rule_key(body) not in have]
        created = 0
        for body in missing:
            created += bool(self._call('create', 'security group rule',
                                       f"{group['name']} {_describe(body)}",
                                       self._create_rule, body))
        return created

    def _create_rules(self, bodies):
        """One bulk POST; False when Neutron refused it because a rule exists."""
        return self._already_exists_is_false(
            self._send_json, 'post', 'network', '/security-group-rules',
            {'security_group_rules': bodies})

    def _create_rule(self, body):
        """A plain POST (see CloudBase._create_json); False if it exists already."""
        return self._already_exists_is_false(
            self._create_json, 'network', '/security-group-rules', 'security_group_rule', body)

    @staticmethod
    def _already_exists_is_false(post, *args):
        try:
            post(*args)
            return True
        except sdk_exc.ConflictException as exc:
            if 'already exists' in (exc.details or str(exc)):
                return False
            raise

    @staticmethod
    def _rule_body(group, rule, groups):
        unknown = set(rule) - set(RULE_KEYS)
        if unknown or 'direction' not in rule:
            raise InvalidParameter('security group rule', rule,
                                   f'a dict with direction and only {", ".join(RULE_KEYS)}')
        body = {k: rule[k] for k in RULE_KEYS[:-1] if rule.get(k) is not None}
        body.setdefault('ethertype', 'IPv4')
        body['security_group_id'] = group['id']
        remote = rule.get('remote_role')
        if remote is not None:
            if remote not in groups:
                raise InvalidParameter('remote_role', remote,
                                       f'one of the bay\'s roles: {", ".join(sorted(groups))}')
            body['remote_group_id'] = groups[remote]['id']
        return body

    def ensure_security_groups(self, bay_uuid, rules_by_role):
        """Every role's group first, then their rules (a rule may name another
        role's group). Returns ``{role: {'id', 'name', 'role'}}``."""
        groups = {role: self.ensure_security_group(bay_uuid, role) for role in rules_by_role}
        for role, rules in rules_by_role.items():
            self.ensure_security_group_rules(groups[role], rules, groups)
        return groups

    # -- ports and floating IPs -------------------------------------------------
    def ensure_port(self, bay_uuid, role, index, network_id, subnet_id,
                    security_group_ids=(), allowed_address_pairs=()):
        """``{'id', 'name', 'network_id', 'fixed_ip', 'mac_address'}`` of the
        port of server ``role``-``index`` (its only NIC). Security groups are
        ids or the dicts ensure_security_group returns; address pairs are CIDR
        strings or ``{'ip_address'[, 'mac_address']}`` dicts."""
        pairs = [p if isinstance(p, dict) else {'ip_address': p}
                 for p in allowed_address_pairs or ()]
        groups = [g['id'] if isinstance(g, dict) else g for g in security_group_ids or ()]
        attrs = {'fixed_ips': [{'subnet_id': subnet_id}], 'security_groups': groups}
        if pairs:
            attrs['allowed_address_pairs'] = pairs
        port = self._ensure_neutron('port', self.network.ports,
                                    functools.partial(self._create_neutron_json, 'port'),
                                    bay_uuid, naming.port_name(bay_uuid, role, index),
                                    {'network_id': network_id}, **attrs)
        fixed = [f['ip_address'] for f in port.fixed_ips or ()
                 if f.get('subnet_id') == subnet_id] or \
            [f['ip_address'] for f in port.fixed_ips or ()]
        return {'id': port.id, 'name': port.name, 'network_id': port.network_id,
                'fixed_ip': fixed[0] if fixed else None, 'mac_address': port.mac_address}

    def ensure_floating_ip(self, bay_uuid, port_id, external_network_id):
        """``{'id', 'address', 'port_id'}``: a floating IP created already
        bound to the port, found again by ``port_id`` (description and tags
        carry the bay). A floating IP on the port that is not the bay's is an
        error, never adopted."""
        name = f'of bay {bay_uuid} on port {port_id}'

        def find():
            fips = list(self.network.ips(port_id=port_id))
            ours = [f for f in fips
                    if naming.owned(bay_uuid, tag_list=f.tags, description=f.description)]
            if fips and not ours:
                raise CloudError('create', 'floating IP', name,
                                 f'the port already has floating IP '
                                 f'{fips[0].floating_ip_address} ({fips[0].id}), which is '
                                 f'not bay {bay_uuid}\'s')
            return _oldest(ours)

        def create():
            return self._neutron_create(functools.partial(self._create_neutron_json,
                                                          'floatingip'), bay_uuid,
                                        floating_network_id=external_network_id,
                                        port_id=port_id,
                                        description=naming.bay_tag(bay_uuid))
        fip = self._ensure('floating IP', name, find, create)
        return {'id': fip.id, 'address': fip.floating_ip_address, 'port_id': fip.port_id}


def _norm_prefix(prefix):
    if prefix in (None, '', '0.0.0.0/0', '::/0'):
        return None
    try:
        return str(ipaddress.ip_network(prefix, strict=False))
    except ValueError:
        return prefix


def _rule_key(rule):
    """What makes two rules the same to Neutron (SecurityGroupRuleExists)."""
    protocol = rule.get('protocol')
    return (rule.get('direction'), rule.get('ether_type', rule.get('ethertype')) or 'IPv4',
            str(protocol).lower() if protocol is not None else None,
            rule.get('port_range_min'), rule.get('port_range_max'),
            _norm_prefix(rule.get('remote_ip_prefix')), rule.get('remote_group_id'))


def _describe(body):
    ports = ''
    if body.get('port_range_min') is not None:
        ports = f" {body['port_range_min']}-{body.get('port_range_max')}"
    remote = body.get('remote_ip_prefix') or body.get('remote_group_id') or 'any'
    return f"{body['direction']} {body.get('protocol') or 'any'}{ports} from {remote}"
