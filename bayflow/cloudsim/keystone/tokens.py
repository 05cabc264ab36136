"""Keystone discovery, the catalog and tokens: password auth scoped to a project
the user has a role on, validation, revocation and expiry."""

import time
import uuid

from bayflow.cloudsim import errors
from bayflow.cloudsim.state import isotime
from bayflow.cloudsim.keystone.common import (
    DOMAIN, REGION, _forbidden, _view, effective_roles, is_cloud_admin)


def catalog(base, project_id):
    services = (
        ('identity', 'keystone', f'{base}/identity'),
        ('network', 'neutron', f'{base}/network'),
        ('compute', 'nova', f'{base}/compute/v2.1'),
        ('image', 'glance', f'{base}/image'),
        ('block-storage', 'cinderv3', f'{base}/volume/v3/{project_id}'),
        ('load-balancer', 'octavia', f'{base}/load-balancer'),
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


def _unauthorized():
    return errors.keystone(401, 'The request you have made requires authentication.')


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
        raise _unauthorized()
    state = sim.state
    user_ref = (identity.get('password') or {}).get('user')
    user = _find(state.table('users'), user_ref, 'user')
    if not user or not user.get('enabled', True) or \
            user.get('_password') != user_ref.get('password'):
        raise _unauthorized()
    scope = (auth.get('scope') or {}).get('project')
    project = None
    if scope:
        project = _find(state.table('projects'), scope, 'project')
        if not project or not project.get('enabled', True):
            raise _unauthorized()
    elif user.get('default_project_id'):
        # No scope: the default project, when the user may use it; else unscoped.
        candidate = state.table('projects').get(user['default_project_id'])
        if candidate and candidate.get('enabled', True) and \
                effective_roles(state, user['id'], candidate['id']):
            project = candidate
    roles = []
    if project is not None:
        roles = effective_roles(state, user['id'], project['id'])
        if not roles and is_cloud_admin(state, user['id']):
            # A cloud admin (admin somewhere) may scope anywhere, as admin.
            roles = effective_roles(state, user['id'], None, names=('admin',))
        if not roles:
            raise errors.keystone(401, f"User {user['id']} has no access to project "
                                       f"{project['id']}.")
    now = time.time()
    token = {'id': 'gAAAA' + uuid.uuid4().hex + uuid.uuid4().hex,
             'user_id': user['id'], 'user_name': user['name'],
             'project_id': project['id'] if project else None,
             'project_name': project['name'] if project else None,
             'roles': roles, 'is_admin': any(r['name'] == 'admin' for r in roles),
             'issued': now, 'expires': now + sim.token_ttl}
    state.table('tokens')[token['id']] = token
    return 201, {'token': _token_body(sim, token)}, {'X-Subject-Token': token['id']}


def _token_body(sim, token):
    body = {
        'methods': ['password'],
        'user': {'id': token['user_id'], 'name': token['user_name'], 'domain': DOMAIN,
                 'password_expires_at': None},
        'audit_ids': [uuid.uuid4().hex[:22]],
        'issued_at': isotime(token['issued'], micro=True) + 'Z',
        'expires_at': isotime(token['expires'], micro=True) + 'Z',
    }
    if token['project_id']:
        body.update({
            'project': {'id': token['project_id'], 'name': token['project_name'],
                        'domain': DOMAIN},
            'roles': [dict(r) for r in token['roles']],
            'catalog': catalog(sim.url, token['project_id']),
            'is_domain': False})
    return body


def validate_token(sim, req):
    subject = sim.token(req.headers.get('X-Subject-Token'))
    if subject is None:
        raise errors.keystone(404, 'Could not find token.')
    return 200, {'token': _token_body(sim, subject)}, {'X-Subject-Token': subject['id']}


def revoke_token(sim, req):
    sim.state.table('tokens').pop(req.headers.get('X-Subject-Token') or '', None)
    return 204, None


def revoke_tokens(state, user_id=None, project_id=None):
    """Tokens of a deleted or disabled user or project, or of a removed role, go."""
    tokens = state.table('tokens')
    for token_id, token in list(tokens.items()):
        if (user_id is None or token['user_id'] == user_id) and \
                (project_id is None or token['project_id'] == project_id):
            del tokens[token_id]


def auth_projects(sim, req):
    """GET /v3/auth/projects: the projects the caller may scope a token to."""
    state, ctx = sim.state, req.context
    projects = [p for p in state.table('projects').values()
                if effective_roles(state, ctx.user_id, p['id'])]
    return {'projects': [_view(sim, 'projects', p) for p in projects],
            'links': {'self': f'{sim.url}/identity/v3/auth/projects', 'previous': None,
                      'next': None}}


def get_project(sim, req, project_id):
    """A member sees its own project; an admin any (others are 404, as before)."""
    project = sim.state.table('projects').get(project_id)
    if not project or (project_id != req.context.project_id and not req.context.is_admin):
        raise errors.keystone(404, f'Could not find project: {project_id}.')
    return {'project': _view(sim, 'projects', project)}


def require_admin(req, action):
    if not req.context.is_admin:
        raise _forbidden(action)
