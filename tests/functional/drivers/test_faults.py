"""Transient faults are retried inside the call without duplicates (even when
the cloud did the work and lost the answer); permanent ones fail with one
line naming the resource, the cloud's text and the request id."""

import re

import pytest

from bayflow.drivers.cloud import CloudError, naming, not_ready
from tests.functional.drivers.conftest import make_cloud
from tests.functional.drivers.scenarios import EXPECTED, SCENARIOS

TRANSIENT = {
    '503': {'status': 503},
    'drop': {'drop': True},
    '503 after effect': {'status': 503, 'after_effect': True},
    'drop after effect': {'drop': True, 'after_effect': True},
}
REQUEST_ID = r'request req-[0-9a-f-]{36}'


@pytest.mark.parametrize('fault', TRANSIENT.values(), ids=TRANSIENT.keys())
@pytest.mark.parametrize('scenario', SCENARIOS, ids=repr)
def test_transient_fault_is_retried_without_duplicates(scenario, fault, parts, sim_admin):
    scenario.prepare(parts)
    rule = sim_admin.fault(method=scenario.method, path=scenario.path, **fault)
    scenario.call(parts)
    assert sim_admin.fired(rule) == 1
    assert scenario.count(parts, sim_admin) == EXPECTED.get(scenario.kind, 1)


@pytest.mark.parametrize('status', [400, 403])
@pytest.mark.parametrize('scenario', SCENARIOS, ids=repr)
def test_permanent_fault_names_resource_text_and_request(scenario, status, parts,
                                                         sim_admin):
    scenario.prepare(parts)
    rule = sim_admin.fault(method=scenario.method, path=scenario.path, status=status)
    with pytest.raises(CloudError) as caught:
        scenario.call(parts)
    assert sim_admin.fired(rule) == 1        # not retried
    assert re.fullmatch(re.escape(scenario.failure(parts)) + 'Injected fault by the '
                        rf'simulator\. \(HTTP {status}, {REQUEST_ID}\)', str(caught.value))
    assert caught.value.request_id in str(caught.value)


def test_transient_fault_that_outlasts_the_retries(parts, sim_admin, conn_session):
    cloud = make_cloud(conn_session, retries=2)
    rule = sim_admin.fault(method='POST', path=r'/v2.0/networks$', status=503, times=None)
    with pytest.raises(CloudError, match=r'still failing after 3 tries') as caught:
        cloud.ensure_network(parts.uuid)
    assert sim_admin.fired(rule) == 3
    assert f'network bf-{parts.uuid}-private' in str(caught.value)
    assert caught.value.status == 503


def test_in_use_is_retried_then_reported(parts, sim_admin):
    """Neutron's 409 SubnetInUse (a port not yet let go of) is transient."""
    parts.port()
    with pytest.raises(CloudError, match=r'One or more ports have an IP allocation.*'
                                         r'still failing after 4 tries.*HTTP 409'):
        parts.cloud.delete_subnet_if_present(parts.subnet()['id'])
    assert len([c for c in sim_admin.calls() if c['method'] == 'DELETE'
                and '/subnets/' in c['path']]) == 4


def test_quota_is_permanent(parts, sim_admin, admin_cloud):
    """Neutron's OverQuota is a 409 that is not "in use": no retry."""
    project = parts.cloud.identity()['project_id']
    admin_cloud.conn.network.update_quota(project, networks=0)
    with pytest.raises(CloudError, match=r"Quota exceeded for resources: \['network'\]") \
            as caught:
        parts.network()
    assert caught.value.status == 409
    assert len([c for c in sim_admin.calls() if c['path'].endswith('/networks')
                and c['method'] == 'POST']) == 1


def test_user_data_never_in_an_error(parts, sim_admin):
    secret = '-----BEGIN RSA PRIVATE KEY-----\nMIIsecret\n'
    parts.port()
    with pytest.raises(CloudError) as caught:
        parts.cloud.ensure_server(parts.uuid, 'master', 0, parts.image(), '2', 'testkey',
                                  parts.port()['id'], user_data=secret * 3000)
    assert 'MIIsecret' not in str(caught.value)
    assert 'TUlJc2VjcmV0' not in str(caught.value)     # base64 of it
    assert caught.value.status == 400


def test_server_build_error(parts, sim_admin):
    parts.port()
    sim_admin.fault(method='POST', path=r'/servers$', build_error=True)
    server = parts.server()
    with pytest.raises(CloudError, match='No valid host was found') as caught:
        parts.wait_ready('server', server)
    assert f"cannot build server {server['name']}:" in str(caught.value)
    with pytest.raises(CloudError, match='went to ERROR'):       # and on a re-run
        parts.cloud.ensure_server(parts.uuid, 'master', 0, parts.image(), '2', 'testkey',
                                  parts.port()['id'])


def test_volume_build_error(parts, sim_admin):
    sim_admin.fault(method='POST', path=r'/volumes$', build_error=True)
    volume = dict(parts.volume(), name=naming.volume_name(parts.uuid, 'master', 0))
    with pytest.raises(CloudError, match='the volume went to error') as caught:
        parts.wait_ready('volume', volume)
    assert volume['name'] in str(caught.value)
    with pytest.raises(CloudError, match='went to error'):
        parts.attachment()


def test_a_gone_volume_is_an_error_and_an_unlisted_server_still_pending():
    """A volume list does not lag its create, so a missing one was deleted;
    a server just made may not be listed yet."""
    gone = {'id': '6f1e3d7c-0000-4000-8000-000000000000', 'name': 'v'}
    with pytest.raises(CloudError, match='the volume is gone'):
        not_ready('volume', [gone], {})
    assert not_ready('server', [dict(gone, name='s')], {}) == ['s']
    assert not_ready('volume', [gone], {gone['id']: {'status': 'attaching'}},
                     moving={gone['id']}) == []
    assert not_ready('volume', [gone], {gone['id']: {'status': 'attaching'}}) == ['v']
