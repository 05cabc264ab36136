"""Response shapes of the simulator's Neutron against neutron-lib's api-ref samples.

Key sets and value types of create, show and list responses are compared
with the samples (extracted from the neutron-lib sdist at test time). The
``ignore`` lists name ONLY fields of extensions the simulator does not
advertise; a test below checks that none of those extensions is advertised,
so a missing advertised field always fails.
"""

import pytest
import requests

from tests.functional.cloudsim.conftest import Raw, shape_diff

# field -> the extension (alias) that would add it; none of them is advertised.
NOT_ADVERTISED = {
    # networks
    'dns_domain': 'dns-integration', 'ipv4_address_scope': 'address-scope',
    'ipv6_address_scope': 'address-scope', 'pvlan': 'pvlan', 'qinq': 'qinq',
    'vlan_transparent': 'vlan-transparent', 'qos_policy_id': 'qos',
    'is_default': 'auto-allocated-topology',
    # subnets
    'segment_id': 'segment', 'dns_publish_fixed_ip': 'subnet-dns-publish-fixed-ip',
    'service_types': 'subnet-service-types',
    # routers
    'flavor_id': 'l3-flavors', 'service_type_id': 'router-service-type',
    'conntrack_helpers': 'expose-l3-conntrack-helper',
    # ports
    'data_plane_status': 'data-plane-status', 'dns_assignment': 'dns-integration',
    'dns_name': 'dns-integration', 'extra_dhcp_opts': 'extra_dhcp_opt',
    'ip_allocation': 'ip_allocation', 'qos_network_policy_id': 'qos-port-network-policy',
    'propagate_uplink_status': 'uplink-status-propagation', 'pvlan_type': 'pvlan',
    'pvlan_community': 'pvlan', 'hardware_offload_type': 'port-hardware-offload-type',
    'trusted': 'port-trusted-vif', 'resource_request': 'port-resource-request',
    'mac_learning_enabled': 'port-mac-learning', 'hints': 'port-hints',
    # floating IPs
    'port_forwardings': 'expose-port-forwarding-in-fip',
    # security group rules
    'remote_address_group_id': 'security-groups-remote-address-group',
    # quota updates
    'check_limit': 'quota-check-limit', 'force': 'quota-check-limit',
}
NETWORK_IGNORE = ('dns_domain', 'ipv4_address_scope', 'ipv6_address_scope', 'pvlan', 'qinq',
                  'vlan_transparent', 'qos_policy_id', 'is_default')
SUBNET_IGNORE = ('segment_id', 'dns_publish_fixed_ip', 'service_types')
ROUTER_IGNORE = ('flavor_id', 'service_type_id', 'conntrack_helpers')
# what only an admin sees (the provider, l3-ha and dvr extensions are advertised)
ADMIN_ONLY = ('provider:network_type', 'provider:physical_network',
              'provider:segmentation_id', 'ha', 'distributed')
PORT_IGNORE = ('data_plane_status', 'dns_assignment', 'dns_domain', 'dns_name',
               'extra_dhcp_opts', 'ip_allocation', 'qos_network_policy_id', 'qos_policy_id',
               'propagate_uplink_status', 'pvlan_type', 'pvlan_community',
               'hardware_offload_type', 'trusted', 'resource_request',
               'mac_learning_enabled', 'hints')
FIP_IGNORE = ('dns_domain', 'dns_name', 'port_forwardings', 'qos_network_policy_id',
              'qos_policy_id')
SG_IGNORE = ()
RULE_IGNORE = ('remote_address_group_id',)


@pytest.fixture
def api(sim, admin_conn):
    return Raw(sim, admin_conn, '/network/v2.0')


@pytest.fixture
def world(api, admin_conn):
    """One of everything, with every optional part filled in."""
    public = admin_conn.network.find_network('public', ignore_missing=False)
    w = {'public': public}
    w['network'] = api.post('/networks', {'network': {'name': 'n', 'tags': ['t']}})
    net_id = w['network']['network']['id']
    w['subnet'] = api.post('/subnets', {'subnet': {
        'network_id': net_id, 'cidr': '10.0.0.0/24', 'ip_version': 4, 'name': 's',
        'dns_nameservers': ['8.8.8.8'],
        'host_routes': [{'destination': '10.1.0.0/24', 'nexthop': '10.0.0.9'}]}})
    subnet_id = w['subnet']['subnet']['id']
    w['router'] = api.post('/routers', {'router': {
        'name': 'r', 'external_gateway_info': {'network_id': public.id}}})
    router_id = w['router']['router']['id']
    w['interface'] = api.put(f'/routers/{router_id}/add_router_interface',
                             {'subnet_id': subnet_id})
    w['router'] = api.put(f'/routers/{router_id}', {'router': {
        'routes': [{'destination': '10.2.0.0/24', 'nexthop': '10.0.0.9'}]}})
    w['sg'] = api.post('/security-groups', {'security_group': {'name': 'sg'}})
    sg_id = w['sg']['security_group']['id']
    w['rule'] = api.post('/security-group-rules', {'security_group_rule': {
        'security_group_id': sg_id, 'direction': 'ingress', 'protocol': 'tcp',
        'port_range_min': 22, 'port_range_max': 22, 'remote_ip_prefix': '0.0.0.0/0'}})
    w['port'] = api.post('/ports', {'port': {
        'network_id': net_id, 'name': 'p', 'security_groups': [sg_id],
        'allowed_address_pairs': [{'ip_address': '10.0.0.200'}],
        'binding:host_id': 'sim-compute', 'device_id': 'vm', 'device_owner': 'compute:nova'}})
    port_id = w['port']['port']['id']
    w['fip'] = api.post('/floatingips', {'floatingip': {
        'floating_network_id': public.id, 'port_id': port_id, 'description': 'd'}})
    return w


def check(sample, actual, ignore):
    problems = shape_diff(sample, actual, ignore=ignore)
    assert not problems, '\n'.join(problems)


def test_ignored_fields_belong_to_extensions_not_advertised(api):
    aliases = {e['alias'] for e in api.get('/extensions')['extensions']}
    for field, alias in NOT_ADVERTISED.items():
        assert alias not in aliases, (field, alias)
    ignored = set(NETWORK_IGNORE + SUBNET_IGNORE + ROUTER_IGNORE + PORT_IGNORE + FIP_IGNORE
                  + SG_IGNORE + RULE_IGNORE)
    assert ignored <= set(NOT_ADVERTISED)


def test_networks(api, world, neutron_samples):
    # an admin sees the provider attributes: the provider samples' key set
    show = neutron_samples('networks/network-provider-show-response.json')
    net_id = world['network']['network']['id']
    check(neutron_samples('networks/network-provider-create-response.json'),
          world['network'], NETWORK_IGNORE)
    check(show, api.get(f'/networks/{net_id}'), NETWORK_IGNORE)
    updated = api.put(f'/networks/{net_id}', {'network': {'name': 'n2'}})
    check(show['network'], updated['network'], NETWORK_IGNORE)
    # (the list samples omit tags: compare list items with show)
    listed = api.get('/networks')['networks']
    assert len(listed) == 2
    for item in listed:
        check(show['network'], item, NETWORK_IGNORE)
    public = next(n for n in listed if n['name'] == 'public')
    assert (public['provider:network_type'], public['provider:physical_network'],
            public['provider:segmentation_id']) == ('flat', 'public', None)
    tenant = api.get(f'/networks/{net_id}')['network']
    assert tenant['provider:network_type'] == 'vxlan'
    assert isinstance(tenant['provider:segmentation_id'], int)


def test_members_see_the_plain_samples(sim, conn, world, neutron_samples):
    member = Raw(sim, conn, '/network/v2.0')
    net = member.post('/networks', {'network': {'name': 'mine'}})
    check(neutron_samples('networks/network-create-response.json'), net, NETWORK_IGNORE)
    check(neutron_samples('networks/network-show-response.json'),
          member.get(f"/networks/{net['network']['id']}"), NETWORK_IGNORE)
    router = member.post('/routers', {'router': {'name': 'r'}})['router']
    assert not set(ADMIN_ONLY) & set(router)
    check(neutron_samples('routers/router-show-response.json')['router'], router,
          ROUTER_IGNORE + ('ha', 'distributed'))


def test_subnets(api, world, neutron_samples):
    subnet_id = world['subnet']['subnet']['id']
    check(neutron_samples('subnets/subnet-create-response.json'), world['subnet'],
          SUBNET_IGNORE)
    check(neutron_samples('subnets/subnet-show-response.json'),
          api.get(f'/subnets/{subnet_id}'), SUBNET_IGNORE)
    check(neutron_samples('subnets/subnets-list-response.json'), api.get('/subnets'),
          SUBNET_IGNORE)


def test_routers(api, world, neutron_samples):
    router_id = world['router']['router']['id']
    check(neutron_samples('routers/router-create-response.json'), world['router'],
          ROUTER_IGNORE)
    check(neutron_samples('routers/router-show-response.json'),
          api.get(f'/routers/{router_id}'), ROUTER_IGNORE)
    check(neutron_samples('routers/routers-list-response.json'), api.get('/routers'),
          ROUTER_IGNORE)
    check(neutron_samples('routers/router-add-interface-response.json'),
          world['interface'], ())
    # the interface is needed by the floating IP and the route: 409, as in Neutron
    r = requests.put(f'{api.base}/routers/{router_id}/remove_router_interface',
                     json={'port_id': world['interface']['port_id']},
                     headers=api.headers, timeout=10)
    assert r.status_code == 409
    assert set(r.json()['NeutronError']) == {'type', 'message', 'detail'}
    check(neutron_samples('routers/router-add-extraroutes-response.json'),
          api.put(f'/routers/{router_id}/add_extraroutes', {'router': {'routes': [
              {'destination': '10.3.0.0/24', 'nexthop': '10.0.0.9'}]}}), ())


def test_ports(api, world, neutron_samples):
    # port-show-response.json lacks the binding:* fields of the advertised
    # "binding" extension: the port-bind-* samples show a bound port with them,
    # port-update-response.json an unbound one (empty binding:vif_details).
    bound = neutron_samples('ports/port-bind-show-response.json')
    port_id = world['port']['port']['id']
    check(bound, world['port'], PORT_IGNORE)
    check(bound, api.get(f'/ports/{port_id}'), PORT_IGNORE)
    check(neutron_samples('ports/ports-bind-list-response.json'),
          api.get(f'/ports?id={port_id}'), PORT_IGNORE)
    # (port-bind-update-response.json shows a failed binding: empty vif_details)
    check(bound, api.put(f'/ports/{port_id}', {'port': {'name': 'p2'}}), PORT_IGNORE)
    unbound = api.put(f'/ports/{port_id}', {'port': {
        'binding:host_id': '', 'device_id': '', 'device_owner': ''}})
    assert unbound['port']['status'] == 'DOWN'
    check(neutron_samples('ports/port-update-response.json'), unbound, PORT_IGNORE)
    listed = api.get('/ports')['ports']
    owners = {p['device_owner'] for p in listed}
    assert owners >= {'network:dhcp', 'network:router_gateway', 'network:router_interface',
                      'network:floatingip'}
    for item in listed:
        check(neutron_samples('ports/port-update-response.json')['port']
              if not item['binding:vif_details'] else bound['port'], item, PORT_IGNORE)


def test_floating_ips(api, world, neutron_samples):
    fip_id = world['fip']['floatingip']['id']
    check(neutron_samples('floatingips/floatingip-create-response.json'), world['fip'],
          FIP_IGNORE)
    check(neutron_samples('floatingips/floatingip-show-response.json'),
          api.get(f'/floatingips/{fip_id}'), FIP_IGNORE)
    check(neutron_samples('floatingips/floating-ips-list-response.json'),
          api.get('/floatingips'), FIP_IGNORE)
    check(neutron_samples('floatingips/floatingip-disassociate-response.json'),
          api.put(f'/floatingips/{fip_id}', {'floatingip': {'port_id': None}}), FIP_IGNORE)
    check(neutron_samples('floatingips/floatingip-update-response.json'),
          api.put(f'/floatingips/{fip_id}', {'floatingip': {
              'port_id': world['port']['port']['id']}}), FIP_IGNORE)


def test_security_groups_and_rules(api, world, neutron_samples):
    sg_id = world['sg']['security_group']['id']
    create_sample = neutron_samples('security-groups/security-group-create-response.json')
    for rule in create_sample['security_group']['security_group_rules']:
        if 'revisio[n_number' in rule:      # a typo in the sample
            rule['revision_number'] = rule.pop('revisio[n_number')
    check(create_sample, world['sg'], SG_IGNORE + RULE_IGNORE)
    show_sample = neutron_samples('security-groups/security-group-show-response.json')
    check(show_sample, api.get(f'/security-groups/{sg_id}'), SG_IGNORE + RULE_IGNORE)
    check(neutron_samples('security-groups/security-groups-list-response.json'),
          api.get('/security-groups'), SG_IGNORE + RULE_IGNORE)
    # security-group-rule-show-response.json omits description and tags (both
    # advertised: standard-attr-description, standard-attr-tag); the rules inside
    # security-group-show-response.json carry them.
    rule_sample = {'security_group_rule': show_sample['security_group']
                   ['security_group_rules'][0]}
    rule_id = world['rule']['security_group_rule']['id']
    check(rule_sample, world['rule'], RULE_IGNORE)
    check(rule_sample, api.get(f'/security-group-rules/{rule_id}'), RULE_IGNORE)
    listed = api.get('/security-group-rules')['security_group_rules']
    for item in listed:
        check(rule_sample['security_group_rule'], item, RULE_IGNORE)
    # the other samples agree on everything but description/tags
    check(neutron_samples('security-groups/security-group-rule-show-response.json'),
          api.get(f'/security-group-rules/{rule_id}'),
          RULE_IGNORE + ('description', 'tags'))


def test_discovery_quotas_and_tags(sim, api, world, neutron_samples):
    versions = requests.get(f'{sim.url}/network', timeout=10).json()
    check(neutron_samples('networks/versions-list-response.json'), versions, ())
    check(neutron_samples('networks/version-show-response.json'), api.get(''), ())
    check(neutron_samples('extensions/extensions-list-response.json'),
          api.get('/extensions'), ())
    check(neutron_samples('extensions/extension-show-response.json'),
          api.get('/extensions/router'), ())
    project = world['network']['network']['project_id']
    check(neutron_samples('quotas/quotas-list-for-project-response.json'),
          api.get(f'/quotas/{project}'), ())
    request = neutron_samples('quotas/quotas-update-request.json')
    for key in ('check_limit', 'force'):        # the quota-check-limit extension
        request['quota'].pop(key)
    updated = api.put(f'/quotas/{project}', request)
    check(neutron_samples('quotas/quotas-update-response.json'), updated, ())
    check(neutron_samples('quotas/quotas-list-response.json'), api.get('/quotas'), ())
    details = api.get(f'/quotas/{project}/details')
    # (the sample shows a subset of the resources; floatingip and router exist too)
    check(neutron_samples('quota_details/quota-details-show-for-project-response.json'),
          {'quota': {k: v for k, v in details['quota'].items()
                     if k not in ('floatingip', 'router')}}, ())
    net_id = world['network']['network']['id']
    check(neutron_samples('tag/tag-update-response.json'),
          api.put(f'/networks/{net_id}/tags', neutron_samples('tag/tag-update-request.json')),
          ())
    check(neutron_samples('tag/tag-obtain-response.json'),
          api.get(f'/networks/{net_id}/tags'), ())
