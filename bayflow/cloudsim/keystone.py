"""Keystone v3: discovery, password auth, token validation and expiry."""

import time
import uuid

from bayflow.cloudsim import errors
from bayflow.cloudsim.state import isotime, new_id

DOMAIN = {'id': 'default', 'name': 'Default'}
# (user, password, project, is_admin) seeded so clouds.yaml works verbatim.
USERS = (('demo', 'demo-password', 'demo', False), ('admin', 'admin-password', 'admin', True))
REGION = 'RegionOne'


class Context:
    """The authenticated caller of one request."""

    def __init__(self, token):
        self.token = token['id']
        self.user_id = token['user_id']
        self.user_name = token['user_name']
        self.project_id = token['project_id']
        self.project_name = token['project_name']
        self.is_admin = token['is_admin']


def seed(state):
    projects, users = state.table('projects'), state.table('users')
    for user, password, project, is_admin in USERS:
        pid = uuid.uuid5(uuid.NAMESPACE_DNS, f'{project}.project.cloudsim').hex
        uid = uuid.uuid5(uuid.NAMESPACE_DNS, f'{user}.user.cloudsim').hex
        projects[pid] = {'id': pid, 'name': project, 'domain_id': 'default',
                         'description': f'{project} project', 'enabled': True,
                         'is_domain': False, 'parent_id': 'default', 'tags': []}
        users[uid] = {'id': uid, 'name': user, 'domain_id': 'default', 'enabled': True,
                      '_password': password, '_project_id': pid, '_is_admin': is_admin}


def catalog(base, project_id):
    services = (
        ('identity', 'keystone', f'{base}/identity'),
        ('network', 'neutron', f'{base}/network'),
        ('compute', 'nova', f'{base}/compute/v2.1'),
        ('image', 'glance', f'{base}/image'),
        ('block-storage', 'cinderv3', f'{base}/volume/v3/{project_id}'),
    )
    return [{'type': stype, 'name': name, 'id': uuid.uuid5(uuid.NAMESPACE_URL, stype).hex,
             'endpoints': [{'id': uuid.uuid5(uuid.NAMESPACE_URL, stype + iface).hex,
                            'interface': iface, 'region': REGION, 'region_id': REGION,
                            'url': url} for iface in ('public', 'internal', 'admin')]}
            for stype, name, url in services]


def _version(base):
    return {'id': 'v3.14', 'status': 'stable', 'updated': '2020-04-07T00:00:00Z',
            'links': [{'rel': 'self', 'href': f'{base}/identity/v3/'}],
            'media-types': [{'base': 'application/json',
                             'type': 'application/vnd.openstack.identity-v3+json'}]}


def versions(sim, req):
    return 300, {'versions': {'values': [_version(sim.url)]}}


def version(sim, req):
    return {'version': _version(sim.url)}


def _find(table, ref, what):
    """A user or project by id, or by name (domain is always Default here)."""
    if not isinstance(ref, dict):
        raise errors.keystone(400, f'Invalid {what} reference.')
    if ref.get('id'):
        return table.get(ref['id'])
    for item in table.values():
        if item['name'] == ref.get('name'):
            return item
    return None


def issue_token(sim, req):
    body = req.body if isinstance(req.body, dict) else None
    auth = (body or {}).get('auth')
    if not isinstance(auth, dict):
        raise errors.keystone(400, "Expecting to find auth in request body.")
    identity = auth.get('identity')
    if not isinstance(identity, dict):
        raise errors.keystone(400, "Invalid input for field 'auth': 'identity' is a "
                                   "required property")
    if not isinstance(identity.get('methods'), list):
        raise errors.keystone(400, "Invalid input for field 'identity': 'methods' is a "
                                   "required property")
    if 'password' not in identity['methods']:
        raise errors.keystone(401, 'The request you have made requires authentication.')
    user_ref = (identity.get('password') or {}).get('user')
    user = _find(sim.state.table('users'), user_ref, 'user')
    if not user or user['_password'] != user_ref.get('password'):
        raise errors.keystone(401, 'The request you have made requires authentication.')
    scope = (auth.get('scope') or {}).get('project')
    project = (_find(sim.state.table('projects'), scope, 'project') if scope
               else sim.state.table('projects').get(user['_project_id']))
    if not project:
        raise errors.keystone(401, 'The request you have made requires authentication.')
    if project['id'] != user['_project_id'] and not user['_is_admin']:
        raise errors.keystone(401, f"User {user['id']} has no access to project "
                                   f"{project['id']}.")
    now = time.time()
    token = {'id': 'gAAAA' + uuid.uuid4().hex + uuid.uuid4().hex,
             'user_id': user['id'], 'user_name': user['name'],
             'project_id': project['id'], 'project_name': project['name'],
             'is_admin': user['_is_admin'], 'issued': now, 'expires': now + sim.token_ttl}
    sim.state.table('tokens')[token['id']] = token
    return 201, {'token': _token_body(sim, token)}, {'X-Subject-Token': token['id']}


def _token_body(sim, token):
    role = 'admin' if token['is_admin'] else 'member'
    return {
        'methods': ['password'],
        'user': {'id': token['user_id'], 'name': token['user_name'], 'domain': DOMAIN,
                 'password_expires_at': None},
        'project': {'id': token['project_id'], 'name': token['project_name'],
                    'domain': DOMAIN},
        'roles': [{'id': uuid.uuid5(uuid.NAMESPACE_DNS, r).hex, 'name': r}
                  for r in ([role, 'reader'] if role == 'member' else [role, 'member', 'reader'])],
        'catalog': catalog(sim.url, token['project_id']),
        'audit_ids': [uuid.uuid4().hex[:22]],
        'issued_at': isotime(token['issued'], micro=True) + 'Z',
        'expires_at': isotime(token['expires'], micro=True) + 'Z',
        'is_domain': False,
    }


def validate_token(sim, req):
    subject = sim.token(req.headers.get('X-Subject-Token'))
    if subject is None:
        raise errors.keystone(404, 'Could not find token.')
    return 200, {'token': _token_body(sim, subject)}, {'X-Subject-Token': subject['id']}


def revoke_token(sim, req):
    sim.state.table('tokens').pop(req.headers.get('X-Subject-Token') or '', None)
    return 204, None


def get_project(sim, req, project_id):
    project = sim.state.table('projects').get(project_id)
    if not project or (project_id != req.context.project_id and not req.context.is_admin):
        raise errors.keystone(404, f'Could not find project: {project_id}.')
    return {'project': {k: v for k, v in project.items() if not k.startswith('_')}}


def register(router, state):
    state.on_seed(seed)
    router.add('GET', '/identity', versions, 'identity', auth=False)
    router.add('GET', '/identity/v3', version, 'identity', auth=False)
    router.add('POST', '/identity/v3/auth/tokens', issue_token, 'identity', auth=False)
    router.add('GET', '/identity/v3/auth/tokens', validate_token, 'identity')
    router.add('HEAD', '/identity/v3/auth/tokens', validate_token, 'identity')
    router.add('DELETE', '/identity/v3/auth/tokens', revoke_token, 'identity')
    router.add('GET', '/identity/v3/projects/{project_id}', get_project, 'identity')
