"""Neutron v2.0: networks, subnets (IPAM), ports, routers, floating IPs,
security groups, tags, quotas, filters, sorting and pagination.

Modules: ``base`` (errors, resource kinds, helpers, quotas, rendering),
``ipam`` (addresses and port primitives), ``networks`` (networks, subnets,
DHCP ports), ``ports``, ``secgroups``, ``l3`` (routers, floating IPs),
``admin_attrs`` (provider networks, HA and DVR routers: what admins see and
set) and ``api`` (HTTP handlers: CRUD, listing, tags, quotas, discovery).

The rules are those of ``spec/openstack-api-reference.md`` sections 2.2 and
5; messages and error types are neutron-lib's (``NeutronError`` bodies).
Stored resources are what the API renders plus private ``_`` keys:
subnets keep ``_used`` (ip -> owner id), routers ``_interfaces`` (port ids)
and ``_gw_port``, floating IPs ``_port``, security groups ``_rules`` and
``_default``. Only IPv4 is modelled (an IPv6 subnet is refused with a 400).

Nova calls the module-level functions below (``create_port``,
``bind_port``, ``unbind_port``, ``delete_port``, ``server_addresses``,
``get_network``, ``get_port``, ``find_security_group``) while holding
``state.lock``; they raise :class:`errors.ApiError` (Neutron bodies) on
rule violations.
"""

from bayflow.cloudsim.errors import ApiError
from bayflow.cloudsim.neutron.api import (
    UPDATE, _add_tag, _add_tags, _check_tag, _create, _delete, _get_tags, _list, _remove_tag,
    _remove_tags, _set_tags, _show, _update, availability_zones, default_quota, delete_quota,
    list_extensions, list_quotas, quota_details, quota_tenant, resources, show_extension,
    show_quota, update_quota, versions)
from bayflow.cloudsim.neutron.base import EXTERNAL_MTU, KINDS, V2, _Ctx, quota_limits
from bayflow.cloudsim.neutron.l3 import (
    _extraroutes, add_router_interface, remove_router_interface)
from bayflow.cloudsim.neutron.networks import _create_network, _create_subnet, get_network
from bayflow.cloudsim.neutron.ports import (
    bind_port, create_port, delete_port, get_port, server_addresses, unbind_port)
from bayflow.cloudsim.neutron.secgroups import (
    ensure_default_security_group, find_security_group)

__all__ = ('ApiError', 'PUBLIC_NET_ID', 'PUBLIC_SUBNET_ID', 'bind_port', 'create_port',
           'delete_port', 'ensure_default_security_group', 'find_security_group',
           'get_network', 'get_port', 'quota_limits', 'register', 'seed',
           'server_addresses', 'unbind_port')


PUBLIC_NET_ID = 'a3b2c1d0-0000-4000-8000-00000000e4e7'
PUBLIC_SUBNET_ID = 'a3b2c1d0-0000-4000-8000-00000000e5b7'


def seed(state):
    """External network ``public`` (admin project) with ``public-subnet``."""
    ctx = _Ctx(state.project_id('admin'), True)
    _create_network(state, ctx, {'name': 'public', 'router:external': True,
                                 'shared': False, 'mtu': EXTERNAL_MTU,
                                 'provider:network_type': 'flat',
                                 'provider:physical_network': 'public'}, rid=PUBLIC_NET_ID)
    _create_subnet(state, ctx, {
        'network_id': PUBLIC_NET_ID, 'name': 'public-subnet', 'cidr': '172.24.4.0/24',
        'ip_version': 4, 'gateway_ip': '172.24.4.1', 'enable_dhcp': False,
        'allocation_pools': [{'start': '172.24.4.2', 'end': '172.24.4.254'}]},
        rid=PUBLIC_SUBNET_ID)


def register(router, state):
    state.on_seed(seed)
    add = router.add
    add('GET', '/network', versions, 'network', auth=False)
    add('GET', V2, resources, 'network')
    add('GET', f'{V2}/extensions', list_extensions, 'network')
    add('GET', f'{V2}/extensions/{{alias}}', show_extension, 'network')
    add('GET', f'{V2}/availability_zones', availability_zones, 'network')
    add('GET', f'{V2}/quotas', list_quotas, 'network')
    add('GET', f'{V2}/quotas/tenant', quota_tenant, 'network')
    add('GET', f'{V2}/quotas/project', quota_tenant, 'network')
    add('GET', f'{V2}/quotas/{{project_id}}', show_quota, 'network')
    add('PUT', f'{V2}/quotas/{{project_id}}', update_quota, 'network')
    add('DELETE', f'{V2}/quotas/{{project_id}}', delete_quota, 'network')
    add('GET', f'{V2}/quotas/{{project_id}}/default', default_quota, 'network')
    add('GET', f'{V2}/quotas/{{project_id}}/details', quota_details, 'network')
    add('PUT', f'{V2}/routers/{{router_id}}/add_router_interface', add_router_interface,
        'network')
    add('PUT', f'{V2}/routers/{{router_id}}/remove_router_interface',
        remove_router_interface, 'network')
    add('PUT', f'{V2}/routers/{{router_id}}/add_extraroutes',
        lambda sim, req, router_id: _extraroutes(sim, req, router_id, True), 'network')
    add('PUT', f'{V2}/routers/{{router_id}}/remove_extraroutes',
        lambda sim, req, router_id: _extraroutes(sim, req, router_id, False), 'network')
    for kind in KINDS:
        base = f'{V2}/{kind.collection}'
        item = base + '/{rid}'

        def bind(fn, kind=kind):
            return lambda sim, req, **params: fn(sim, req, kind, **params)
        add('GET', base, bind(_list), 'network')
        add('POST', base, bind(_create), 'network')
        add('GET', item, bind(_show), 'network')
        add('DELETE', item, bind(_delete), 'network')
        if kind in UPDATE:
            add('PUT', item, bind(_update), 'network')
        add('GET', item + '/tags', bind(_get_tags), 'network')
        add('PUT', item + '/tags', bind(_set_tags), 'network')
        add('POST', item + '/tags', bind(_add_tags), 'network')
        add('DELETE', item + '/tags', bind(_remove_tags), 'network')
        add('GET', item + '/tags/{tag}', bind(_check_tag), 'network')
        add('PUT', item + '/tags/{tag}', bind(_add_tag), 'network')
        add('DELETE', item + '/tags/{tag}', bind(_remove_tag), 'network')
