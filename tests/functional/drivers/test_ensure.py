"""Every ensure_* is idempotent, marks what it makes as the bay's (full uuid
in names and tags) and never adopts another bay's look-alike."""

import concurrent.futures
import threading

import pytest

from bayflow.drivers.cloud import naming
from bayflow.exceptions import InvalidParameter
from tests.functional.drivers.conftest import BayParts
from tests.functional.drivers.scenarios import EXPECTED, RULES, SCENARIOS


@pytest.mark.parametrize('scenario', SCENARIOS, ids=repr)
def test_ensure_twice_makes_one(scenario, parts, sim_admin):
    scenario.prepare(parts)
    first = scenario.call(parts)
    second = scenario.call(parts)
    assert first == second or scenario.kind == 'server'    # status moves on
    assert scenario.count(parts, sim_admin) == EXPECTED.get(scenario.kind, 1)


def test_full_bay_shape(parts, sim_admin, bay_uuid):
    parts.full(masters=1, minions=2)
    res = sim_admin.resources()
    tags = sorted(naming.tags(bay_uuid))
    (net,) = sim_admin.named('networks', f'bf-{bay_uuid}-private')
    (subnet,) = sim_admin.named('subnets', f'bf-{bay_uuid}-subnet')
    assert (subnet['cidr'], subnet['dns_nameservers']) == ('10.0.0.0/24', ['8.8.8.8'])
    (router,) = sim_admin.named('routers', f'bf-{bay_uuid}-router')
    assert router['external_gateway_info']['network_id'] == parts.ext()
    for item in (net, subnet, router):
        assert item['tags'] == tags
    groups = {g['name']: g for g in res['security_groups'] if bay_uuid in g['name']}
    assert set(groups) == {f'bf-{bay_uuid}-master', f'bf-{bay_uuid}-minion'}
    master_rules = [r for r in res['security_group_rules']
                    if r['security_group_id'] == groups[f'bf-{bay_uuid}-master']['id']]
    assert {r['remote_group_id'] for r in master_rules} == {
        None, groups[f'bf-{bay_uuid}-minion']['id']}
    for role, index in (('master', 0), ('minion', 0), ('minion', 1)):
        name = naming.server_name(bay_uuid, role, index)
        (port,) = sim_admin.named('ports', name + '-port')
        (server,) = sim_admin.named('servers', name)
        (volume,) = sim_admin.named('volumes', name + '-docker')
        assert port['tags'] == tags and port['device_id'] == server['id']
        assert port['security_groups'] == [groups[f'bf-{bay_uuid}-{role}']['id']]
        assert port['allowed_address_pairs'][0]['ip_address'] == '10.100.0.0/16'
        assert set(server['tags']) == set(tags)
        assert server['metadata']['bayflow-bay'] == bay_uuid
        assert volume['metadata']['bayflow-bay'] == bay_uuid
        assert volume['size'] == 5 and volume['attachments'][0]['server_id'] == server['id']
        (fip,) = [f for f in res['floatingips'] if f['port_id'] == port['id']]
        assert fip['description'] == f'bayflow-bay={bay_uuid}'


def test_prefix_sharing_bays_never_adopt(cloud, sim_admin):
    one = '12345678-aaaa-4aaa-8aaa-000000000001'
    two = '12345678-aaaa-4aaa-8aaa-000000000002'
    first, second = BayParts(cloud, one), BayParts(cloud, two)
    for parts in (first, second):
        parts.fip()
    assert first.network()['id'] != second.network()['id']
    assert first.port()['id'] != second.port()['id']
    assert first.fip()['id'] != second.fip()['id']
    assert len([n for n in sim_admin.resources('networks')
                if n['name'].startswith('bf-12345678')]) == 2


def test_a_named_resource_without_tags_is_adopted_and_tagged(cloud, bay_uuid):
    """What a crash between create and tagging leaves (clouds without Neutron's
    tag-creation): the full-uuid name makes it the bay's."""
    made = cloud.conn.network.create_network(name=naming.network_name(bay_uuid))
    assert cloud.ensure_network(bay_uuid)['id'] == made.id
    assert set(cloud.conn.network.get_network(made.id).tags) == set(naming.tags(bay_uuid))


def test_tags_set_after_create_without_tag_creation(cloud, bay_uuid):
    cloud._capabilities['neutron-tag-creation'] = False      # as on an older Neutron
    router = cloud.ensure_router(bay_uuid)
    assert set(cloud.conn.network.get_router(router['id']).tags) == set(naming.tags(bay_uuid))
    assert cloud.bay_inventory(bay_uuid)['routers'][0]['id'] == router['id']


def test_identity_is_the_session(cloud, conn_session):
    assert cloud.identity() == {'project_id': conn_session.current_project_id,
                                'user_id': conn_session.current_user_id}


def test_threads_sharing_one_cloud(parts, sim_admin, bay_uuid):
    """The engine fans one task out over threads that share one Cloud."""
    parts.subnet()
    parts.groups()
    barrier = threading.Barrier(6)

    def one(index):
        barrier.wait(timeout=10)
        return parts.port('minion', index)['id']
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(one, range(6)))
    assert len(set(ids)) == 6
    assert len([p for p in sim_admin.resources('ports')
                if p['name'].startswith(f'bf-{bay_uuid}-minion-')]) == 6


@pytest.mark.parametrize('bad', ['1234', 'not-a-uuid', '12345678123456781234567812345678'])
def test_a_bay_uuid_must_be_full(cloud, bad):
    with pytest.raises(InvalidParameter, match='bay_uuid'):
        cloud.ensure_network(bad)


def test_roles_are_plain_words(cloud, bay_uuid):
    with pytest.raises(InvalidParameter, match='role'):
        cloud.ensure_security_group(bay_uuid, 'kube-master')


def test_rules_go_in_one_bulk_and_a_refused_bulk_adds_the_rest(cloud, bay_uuid, sim_admin):
    """A group's rules are one POST; when Neutron refuses the bulk because one
    exists (a first run cannot know: it does not look), the rest are added."""
    from bayflow.drivers.cloud import base as cloud_base
    groups = {role: cloud.ensure_security_group(bay_uuid, role) for role in RULES}
    master = groups['master']
    rules = RULES['master']
    # One of them made beforehand, as a lost answer of an earlier try would leave it.
    assert cloud.ensure_security_group_rules(master, rules[:1], groups) == 1
    with cloud_base.first_run():
        assert cloud.ensure_security_group_rules(master, rules, groups) == 1
    mine = [r for r in sim_admin.resources()['security_group_rules']
            if r['security_group_id'] == master['id'] and r.get('protocol') == 'tcp']
    assert len(mine) == 2
    calls_before = len(sim_admin.calls())
    assert cloud.ensure_security_group_rules(groups['minion'], RULES['minion'], groups) == 2
    posts = [c for c in sim_admin.calls()[calls_before:]
             if c['method'] == 'POST' and c['path'].endswith('/security-group-rules')]
    assert len(posts) == 1
