"""Keystone v3 of the simulator, and the rules every service shares: request
ids on every response, malformed bodies and unknown paths answered in the
service's own error shape."""

import time

import keystoneauth1.exceptions
import openstack
import pytest
import requests

from tests.functional.cloudsim.conftest import connect

PASSWORD_AUTH = {'auth': {
    'identity': {'methods': ['password'], 'password': {'user': {
        'name': 'demo', 'password': 'demo-password', 'domain': {'name': 'Default'}}}},
    'scope': {'project': {'name': 'demo', 'domain': {'name': 'Default'}}}}}


def _issue(sim, body=PASSWORD_AUTH):
    return requests.post(f'{sim.url}/identity/v3/auth/tokens', json=body, timeout=10)


def test_discovery_documents(sim):
    r = requests.get(f'{sim.url}/identity', headers={'Accept': 'application/json'},
                     timeout=10)
    assert r.status_code == 300
    (version,) = r.json()['versions']['values']
    assert version['id'].startswith('v3.') and version['status'] == 'stable'
    assert version['links'] == [{'rel': 'self', 'href': f'{sim.url}/identity/v3/'}]
    r = requests.get(f'{sim.url}/identity/v3', timeout=10)
    assert r.status_code == 200 and r.json()['version']['id'] == version['id']


def test_auth_url_ending_in_v3_works(sim):
    cfg = sim.clouds_yaml()['clouds']['sim']
    auth = dict(cfg['auth'], auth_url=sim.auth_url + '/v3')
    conn = openstack.connect(**auth, region_name=cfg['region_name'])
    assert conn.image.find_image('coreos').name == 'coreos'
    paths = [c['path'] for c in sim.calls.render()['recent']]
    assert paths[:2] == ['/identity/v3', '/identity/v3/auth/tokens']


def test_token_body(sim):
    r = _issue(sim)
    assert r.status_code == 201
    token_id = r.headers['X-Subject-Token']
    token = r.json()['token']
    for key in ('methods', 'user', 'project', 'roles', 'catalog', 'audit_ids', 'issued_at',
                'expires_at', 'is_domain'):
        assert key in token, key
    assert token['methods'] == ['password']
    assert token['project']['name'] == 'demo' and token['user']['name'] == 'demo'
    assert token['expires_at'].endswith('Z') and token['expires_at'] > token['issued_at']
    assert {r['name'] for r in token['roles']} >= {'member', 'reader'}
    catalog = {s['type']: s for s in token['catalog']}
    assert set(catalog) == {'identity', 'network', 'compute', 'image', 'block-storage',
                            'load-balancer'}
    public = {t: [e['url'] for e in s['endpoints'] if e['interface'] == 'public']
              for t, s in catalog.items()}
    project = token['project']['id']
    assert public == {'identity': [f'{sim.url}/identity'],
                      'network': [f'{sim.url}/network'],
                      'compute': [f'{sim.url}/compute/v2.1'],
                      'image': [f'{sim.url}/image'],
                      'block-storage': [f'{sim.url}/volume/v3/{project}'],
                      'load-balancer': [f'{sim.url}/load-balancer']}
    for service in token['catalog']:
        for endpoint in service['endpoints']:
            assert endpoint['region'] == endpoint['region_id'] == 'RegionOne'
    # validation: GET with the subject token
    r = requests.get(f'{sim.url}/identity/v3/auth/tokens', timeout=10,
                     headers={'X-Auth-Token': token_id, 'X-Subject-Token': token_id})
    assert r.status_code == 200 and r.json()['token']['expires_at'] == token['expires_at']
    r = requests.get(f'{sim.url}/identity/v3/auth/tokens', timeout=10,
                     headers={'X-Auth-Token': token_id, 'X-Subject-Token': 'nope'})
    assert r.status_code == 404 and r.json()['error']['code'] == 404


def test_admin_token_can_scope_to_any_project(sim):
    body = {'auth': {
        'identity': {'methods': ['password'], 'password': {'user': {
            'name': 'admin', 'password': 'admin-password', 'domain': {'name': 'Default'}}}},
        'scope': {'project': {'name': 'demo', 'domain': {'name': 'Default'}}}}}
    r = _issue(sim, body)
    assert r.status_code == 201 and r.json()['token']['project']['name'] == 'demo'
    body['auth']['identity']['password']['user'].update(name='demo', password='demo-password')
    body['auth']['scope']['project']['name'] = 'admin'
    r = _issue(sim, body)
    assert r.status_code == 401


def test_wrong_password_is_401_in_keystone_shape(sim):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': 'demo', 'password': 'wrong', 'domain': {'name': 'Default'}}}}}}
    r = _issue(sim, body)
    assert r.status_code == 401
    assert r.json() == {'error': {'code': 401, 'title': 'Unauthorized', 'message':
                                  'The request you have made requires authentication.'}}
    assert 'X-Subject-Token' not in r.headers
    cfg = sim.clouds_yaml()['clouds']['sim']
    conn = openstack.connect(**dict(cfg['auth'], password='wrong'),
                             region_name=cfg['region_name'])
    with pytest.raises(keystoneauth1.exceptions.http.Unauthorized):
        conn.image.find_image('coreos')


def test_missing_or_bad_token_is_401_per_service(sim, conn):
    project = conn.current_project_id
    for path, key in (('/image/v2/images', None),
                      (f'/volume/v3/{project}/volumes', 'unauthorized'),
                      ('/identity/v3/projects/' + project, 'error')):
        for headers in ({}, {'X-Auth-Token': 'bogus'}):
            r = requests.get(sim.url + path, headers=headers, timeout=10)
            assert r.status_code == 401, path
            body = r.json()
            if key:
                assert body[key]['code'] == 401
            else:
                assert body['code'] == '401 Unauthorized'


def test_revoked_token_makes_the_sdk_reauthenticate(sim, conn):
    assert conn.image.find_image('coreos')
    first_token = conn.auth_token
    r = requests.post(f'{sim.url}/_sim/tokens/expire', timeout=10)
    assert r.status_code == 204
    sim.calls.reset()
    assert [i.name for i in conn.image.images(name='coreos')] == ['coreos']
    calls = [(c['method'], c['path'], c['status']) for c in sim.calls.render()['recent']]
    assert calls == [('GET', '/image/v2/images', 401),
                     ('POST', '/identity/v3/auth/tokens', 201),
                     ('GET', '/image/v2/images', 200)]
    assert conn.auth_token != first_token


def test_expired_token_is_refused(sim):
    saved = sim.token_ttl
    sim.token_ttl = 0.3
    try:
        token = _issue(sim).headers['X-Subject-Token']
        deadline = time.monotonic() + 10
        while sim.token(token) is not None:       # bounded wait on the sim's state
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        sim.token_ttl = saved
    r = requests.get(f'{sim.url}/image/v2/images', headers={'X-Auth-Token': token},
                     timeout=10)
    assert r.status_code == 401
    # an openstacksdk connection whose token expired re-authenticates
    conn = connect(sim)
    conn.authorize()
    sim.expire_tokens()
    assert conn.block_storage.find_volume('nothing') is None


def test_request_id_on_every_response(sim, conn):
    project = conn.current_project_id
    token = conn.auth_token
    checks = [
        ('GET', '/identity', {}, None, 300),
        ('POST', '/identity/v3/auth/tokens', {}, {'auth': {}}, 400),
        ('GET', '/image/v2/images', {'X-Auth-Token': token}, None, 200),
        ('GET', '/image/v2/images/nope', {'X-Auth-Token': token}, None, 404),
        ('GET', '/image/v2/images', {}, None, 401),
        ('POST', f'/volume/v3/{project}/volumes', {'X-Auth-Token': token},
         {'volume': {'size': 5000}}, 413),
        ('DELETE', '/image', {}, None, 405),
        ('GET', '/nowhere/at/all', {}, None, 404),
        ('GET', '/_sim/faults', {}, None, 200),
    ]
    seen = set()
    for method, path, headers, body, status in checks:
        r = requests.request(method, sim.url + path, headers=headers, json=body,
                             timeout=10)
        assert r.status_code == status, (method, path, r.text)
        request_id = r.headers['X-Openstack-Request-Id']
        assert request_id.startswith('req-') and request_id not in seen
        seen.add(request_id)
    recent = sim.calls.render()['recent']
    assert recent[-1]['request_id'] == request_id


def _route_exists(sim, method, path):
    return not isinstance(sim.router.match(method, path), int)


@pytest.mark.parametrize('service,method,path,check', [
    ('identity', 'POST', '/identity/v3/auth/tokens',
     lambda b: b['error']['code'] == 400 and b['error']['title'] == 'Bad Request'),
    ('image', 'POST', '/image/v2/images',
     lambda b: b['code'] == '400 Bad Request'),
    ('volume', 'POST', '/volume/v3/{project}/volumes',
     lambda b: b['badRequest']['code'] == 400),
    ('network', 'POST', '/network/v2.0/networks',
     lambda b: b['NeutronError']['type'] and b['NeutronError']['detail'] == ''),
    ('compute', 'POST', '/compute/v2.1/servers',
     lambda b: b['badRequest']['code'] == 400),
])
def test_malformed_json_is_the_services_400(sim, conn, service, method, path, check):
    path = path.format(project=conn.current_project_id)
    if not _route_exists(sim, method, path):
        pytest.skip(f'{service} does not serve {method} {path} in this build')
    for raw in (b'{"not": json', b'\xff\xfe', b'[1, 2', b'{"a": 1}}'):
        r = requests.request(method, sim.url + path, data=raw, timeout=10,
                             headers={'X-Auth-Token': conn.auth_token,
                                      'Content-Type': 'application/json'})
        assert r.status_code == 400, (service, raw, r.text)
        assert r.headers['Content-Type'].startswith('application/json')
        assert check(r.json()), r.text
        assert r.headers['X-Openstack-Request-Id']


@pytest.mark.parametrize('path,check', [
    ('/identity/v3/nothing', lambda b: b['error']['code'] == 404),
    ('/image/v2/nothing', lambda b: b['code'] == '404 Not Found'),
    ('/volume/v3/{project}/nothing', lambda b: b['itemNotFound']['code'] == 404),
    ('/network/v2.0/nothing', lambda b: b['NeutronError']['type']),
    ('/compute/v2.1/nothing', lambda b: b['itemNotFound']['code'] == 404),
])
def test_unknown_path_is_the_services_404(sim, conn, path, check):
    path = path.format(project=conn.current_project_id)
    r = requests.get(sim.url + path, headers={'X-Auth-Token': conn.auth_token},
                     timeout=10)
    assert r.status_code == 404
    assert check(r.json()), r.text
    assert r.headers['X-Openstack-Request-Id']


def test_project_lookup(sim, conn, admin_conn):
    project = conn.current_project_id
    r = requests.get(f'{sim.url}/identity/v3/projects/{project}', timeout=10,
                     headers={'X-Auth-Token': conn.auth_token})
    assert r.status_code == 200 and r.json()['project']['name'] == 'demo'
    other = admin_conn.current_project_id
    r = requests.get(f'{sim.url}/identity/v3/projects/{other}', timeout=10,
                     headers={'X-Auth-Token': conn.auth_token})
    assert r.status_code == 404
