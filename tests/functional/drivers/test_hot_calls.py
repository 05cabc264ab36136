"""The lean JSON transport under a bay's hot calls (drivers.cloud.http): what
keystoneauth and requests did for them still happens; and looks at many bays'
servers share their calls (drivers.cloud.coalesce)."""

import concurrent.futures
import socket
import uuid

import pytest
import requests
from keystoneauth1 import exceptions as ksa_exc

from bayflow.drivers.cloud import errors, http, naming
from tests.functional.drivers.conftest import BayParts, make_cloud


def test_an_expired_token_is_renewed_once_and_the_call_made(cloud, sim, sim_admin,
                                                            bay_uuid):
    cloud.server_statuses(bay_uuid)  # a token in hand
    sim.expire_tokens()
    assert cloud.server_statuses(bay_uuid) == {}
    statuses = [c['status'] for c in sim_admin.calls()
                if c['template'] == '/compute/v2.1/servers/detail']
    assert statuses[-2:] == [401, 200]


def test_microversion_and_json_headers_reach_the_cloud(cloud, parts):
    """2.52 takes tags in a create's JSON body (an older Nova refuses them);
    2.26 lists servers with their tags."""
    server = parts.server()
    listed = cloud._list_servers({'name': f"^{server['name']}$"})
    assert [s['tags'] for s in listed] == [naming.tags(parts.uuid)]


def test_a_refused_connection_is_keystoneauths_transient_failure(sim):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    transport = http.JsonTransport(_Session(), pool_size=2)
    with pytest.raises(ksa_exc.ConnectFailure) as caught:
        transport.request('get', f'http://127.0.0.1:{port}/servers')
    assert errors.is_transient(caught.value)


def test_a_proxied_endpoint_goes_through_openstacksdk(monkeypatch, conn_session, sim,
                                                      bay_uuid):
    transport = http.JsonTransport(_Session(), pool_size=2)
    monkeypatch.setenv('HTTP_PROXY', 'http://proxy.example:3128')
    monkeypatch.setenv('NO_PROXY', '')
    assert not transport.direct('http://cloud.example:8774/v2.1/servers')
    monkeypatch.setenv('NO_PROXY', 'cloud.example')
    assert transport.direct('http://cloud.example:9696/v2.0/ports')
    monkeypatch.delenv('HTTP_PROXY')
    cloud = make_cloud(conn_session)
    cloud._transport = transport  # the simulator taken for a proxied endpoint:
    transport._direct = {sim.url.split('//', 1)[1].split('/', 1)[0]: False}
    transport.request = None      # the transport is not used
    assert cloud.server_statuses(bay_uuid) == {}


class _Session:
    """What the transport reads of a keystoneauth session."""
    verify, cert, timeout = True, None, 5

    def get_auth_headers(self):
        return {'X-Auth-Token': 'not-a-token'}

    def invalidate(self):
        pass


def test_looks_at_several_bays_servers_at_once_share_calls(cloud, sim, sim_admin):
    """Each bay gets its own servers; bays looking at the same moment share a
    list call (drivers.cloud.coalesce), the cloud filtering by all their names."""
    bays = [BayParts(cloud, str(uuid.uuid4())) for _ in range(2)]
    servers = {bay.uuid: bay.server()['id'] for bay in bays}
    idle = str(uuid.uuid4())  # a bay with no server (yet)
    sim.latency = 0.05        # calls overlap
    asked = [*servers, idle] * 4
    before = _server_lists(sim_admin)
    with concurrent.futures.ThreadPoolExecutor(len(asked)) as pool:
        found = list(pool.map(cloud.server_statuses, asked))
    for bay, statuses in zip(asked, found):
        assert list(statuses) == ([servers[bay]] if bay in servers else [])
    assert _server_lists(sim_admin) - before < len(asked)


def _server_lists(sim_admin):
    return requests.get(sim_admin.url + 'calls', timeout=10).json()['counts'].get(
        'GET /compute/v2.1/servers/detail', 0)
