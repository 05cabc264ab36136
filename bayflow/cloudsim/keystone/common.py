"""Keystone's shared parts: the Default domain, the seeded users, roles and
their implications, role assignments and views."""

import uuid

from bayflow.cloudsim import errors
from bayflow.cloudsim.state import public

DOMAIN = {'id': 'default', 'name': 'Default'}
# (user, password, project, is_admin) seeded so clouds.yaml works verbatim.
USERS = (('demo', 'demo-password', 'demo', False), ('admin', 'admin-password', 'admin', True))
REGION = 'RegionOne'
ROLES = ('admin', 'member', 'reader')
# keystone-manage bootstrap's implied roles: admin -> member -> reader.
IMPLIES = {'admin': ('member',), 'member': ('reader',)}


def role_id(name):
    """The stable id of a seeded role."""
    return uuid.uuid5(uuid.NAMESPACE_DNS, name).hex


def _forbidden(action):
    return errors.keystone(403, 'You are not authorized to perform the requested action: '
                                f'{action}.')


def _not_found(kind, ref):
    return errors.keystone(404, f'Could not find {kind}: {ref}.')


def assignment_key(project_id, user_id, role_id_):
    return f'{project_id}:{user_id}:{role_id_}'


def assign(state, project_id, user_id, role_id_):
    """Give the user the role on the project (once)."""
    key = assignment_key(project_id, user_id, role_id_)
    state.table('role_assignments')[key] = {'id': key, 'project_id': project_id,
                                            'user_id': user_id, 'role_id': role_id_}


def effective_roles(state, user_id, project_id, names=None):
    """``[{id, name}]`` of the roles the user holds on the project (or of the
    roles ``names``), implied roles included, each once."""
    roles = state.table('roles')
    if names is None:
        direct = [roles[a['role_id']] for a in state.table('role_assignments').values()
                  if a['user_id'] == user_id and a['project_id'] == project_id
                  and a['role_id'] in roles]
    else:
        direct = [r for r in roles.values() if r['name'] in names]
    out, queue = [], list(direct)
    by_name = {r['name']: r for r in roles.values()}
    while queue:
        role = queue.pop(0)
        if any(r['id'] == role['id'] for r in out):
            continue
        out.append({'id': role['id'], 'name': role['name']})
        queue.extend(by_name[n] for n in IMPLIES.get(role['name'], ()) if n in by_name)
    return out


def is_cloud_admin(state, user_id):
    admin = role_id('admin')
    return any(a['user_id'] == user_id and a['role_id'] == admin
               for a in state.table('role_assignments').values())


def _view(sim, collection, record):
    out = public(record)
    out['links'] = {'self': f"{sim.url}/identity/v3/{collection}/{record['id']}"}
    return out


def seed(state):
    projects, users = state.table('projects'), state.table('users')
    roles = state.table('roles')
    for name in ROLES:
        roles[role_id(name)] = {'id': role_id(name), 'name': name, 'domain_id': None,
                                'description': None, 'options': {}}
    for user, password, project, is_admin in USERS:
        pid = uuid.uuid5(uuid.NAMESPACE_DNS, f'{project}.project.cloudsim').hex
        uid = uuid.uuid5(uuid.NAMESPACE_DNS, f'{user}.user.cloudsim').hex
        projects[pid] = new_project(pid, project, f'{project} project')
        users[uid] = {'id': uid, 'name': user, 'domain_id': 'default', 'enabled': True,
                      'default_project_id': pid, 'password_expires_at': None,
                      'options': {}, '_password': password}
        assign(state, pid, uid, role_id('admin' if is_admin else 'member'))


def new_project(pid, name, description='', **extra):
    return {'id': pid, 'name': name, 'domain_id': 'default', 'description': description,
            'enabled': True, 'is_domain': False, 'parent_id': 'default', 'tags': [],
            'options': {}, **extra}


def upgrade(state):
    """A world saved before roles existed: its users' admin flags and projects
    become role assignments."""
    if state.table('roles'):
        return
    for name in ROLES:
        state.table('roles')[role_id(name)] = {
            'id': role_id(name), 'name': name, 'domain_id': None, 'description': None,
            'options': {}}
    for user in state.table('users').values():
        project_id = user.pop('_project_id', None)
        is_admin = user.pop('_is_admin', False)
        user.setdefault('default_project_id', project_id)
        user.setdefault('password_expires_at', None)
        user.setdefault('options', {})
        if project_id:
            assign(state, project_id, user['id'], role_id('admin' if is_admin else 'member'))
