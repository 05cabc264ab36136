"""Keystone's admin API: the Default domain, projects, users, roles and
project role assignments (keystone's legacy policy: admin for the writes and
the listings, a user may read itself and list its own projects)."""

from bayflow.cloudsim import errors
from bayflow.cloudsim.state import new_id
from bayflow.cloudsim.keystone.common import (
    DOMAIN, _forbidden, _not_found, _view, assign, assignment_key, effective_roles,
    new_project)
from bayflow.cloudsim.keystone.tokens import require_admin, revoke_tokens

_DOMAIN = {**DOMAIN, 'description': 'The default domain', 'enabled': True, 'tags': [],
           'options': {}}
_PROJECT_FIELDS = ('name', 'description', 'enabled', 'domain_id', 'parent_id', 'is_domain',
                   'tags', 'options')
_USER_RESERVED = ('id', 'links', 'password_expires_at', 'domain_id')


def _listing(sim, req, collection, items):
    query = '&'.join(f'{k}={v[-1]}' for k, v in sorted(req.query.items()))
    url = f'{sim.url}/identity/v3/{collection}' + (f'?{query}' if query else '')
    return {collection: [_view(sim, collection, i) for i in items],
            'links': {'self': url, 'previous': None, 'next': None}}


def _filtered(req, items, keys):
    """Keystone's exact-match list filters (booleans as 'true'/'false')."""
    for key in keys:
        value = req.arg(key)
        if value is None:
            continue
        if key in ('enabled', 'is_domain'):
            wanted = value.lower() not in ('0', 'false', 'no', 'off')
            items = [i for i in items if bool(i.get(key, True)) == wanted]
        else:
            items = [i for i in items if i.get(key) == value]
    return sorted(items, key=lambda i: i['name'])


def _body(req, key):
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise errors.keystone(400, f"Invalid input for field '{key}': '{key}' is a required "
                                   "property")
    return body[key]


def _text(entity, field, value, required=False, limit=255):
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise errors.keystone(400, f"Invalid input for field '{field}': {value!r} is not a "
                                   f"valid {entity} {field}")
    return value


def _bool(field, value):
    if not isinstance(value, bool):
        raise errors.keystone(400, f"Invalid input for field '{field}': {value!r} is not of "
                                   "type 'boolean'")
    return value


def _record(sim, table, kind, rid):
    record = sim.state.table(table).get(rid)
    if record is None:
        raise _not_found(kind, rid)
    return record


def _list(sim, req, table, filters):
    """An admin's listing of a whole table (identity:list_<table>)."""
    require_admin(req, f'identity:list_{table}')
    return _listing(sim, req, table, _filtered(req, sim.state.table(table).values(),
                                                filters))


def _domain(domain_id):
    if domain_id not in (None, 'default'):
        raise _not_found('domain', domain_id)
    return 'default'


# -- domains ---------------------------------------------------------------------
def list_domains(sim, req):
    return _listing(sim, req, 'domains', _filtered(req, [_DOMAIN], ('name', 'enabled')))


def get_domain(sim, req, domain_id):
    if domain_id != 'default':
        raise _not_found('domain', domain_id)
    return {'domain': _view(sim, 'domains', _DOMAIN)}


# -- projects -----------------------------------------------------------------------
def _project(sim, project_id):
    return _record(sim, 'projects', 'project', project_id)


def list_projects(sim, req):
    return _list(sim, req, 'projects', ('name', 'domain_id', 'enabled', 'parent_id',
                                        'is_domain'))


def _check_unique_name(sim, table, name, skip=None):
    for item in sim.state.table(table).values():
        if item['name'] == name and item['id'] != skip:
            return item
    return None


def create_project(sim, req):
    require_admin(req, 'identity:create_project')
    spec = _body(req, 'project')
    name = _text('project', 'name', spec.get('name'), required=True, limit=64)
    _domain(spec.get('domain_id'))
    if _check_unique_name(sim, 'projects', name):
        raise errors.keystone(409, 'Conflict occurred attempting to store project - it is '
                                   'not permitted to have two projects with the same name '
                                   f'in the same domain : {name}.')
    if spec.get('parent_id') not in (None, 'default'):
        _project(sim, spec['parent_id'])
    project = new_project(new_id().replace('-', ''), name,
                          _text('project', 'description', spec.get('description')) or '',
                          parent_id=spec.get('parent_id') or 'default')
    if 'enabled' in spec:
        project['enabled'] = _bool('enabled', spec['enabled'])
    if 'tags' in spec:
        project['tags'] = _tags(spec['tags'])
    sim.state.table('projects')[project['id']] = project
    return 201, {'project': _view(sim, 'projects', project)}


def _tags(tags):
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= 255
                                             and '/' not in t and ',' not in t
                                             for t in tags) or len(tags) > 80:
        raise errors.keystone(400, f"Invalid input for field 'tags': {tags!r} is not a "
                                   "valid list of project tags")
    return list(dict.fromkeys(tags))


def update_project(sim, req, project_id):
    require_admin(req, 'identity:update_project')
    project = _project(sim, project_id)
    spec = _body(req, 'project')
    for key in ('id', 'domain_id', 'is_domain', 'parent_id'):
        if key in spec and spec[key] != project.get(key):
            raise errors.keystone(400, f"Invalid input for field '{key}': the {key} of a "
                                       "project cannot be changed")
    if 'name' in spec:
        name = _text('project', 'name', spec['name'], required=True, limit=64)
        if _check_unique_name(sim, 'projects', name, skip=project_id):
            raise errors.keystone(409, 'Conflict occurred attempting to store project - it '
                                       'is not permitted to have two projects with the same '
                                       f'name in the same domain : {name}.')
        project['name'] = name
    if 'description' in spec:
        project['description'] = _text('project', 'description', spec['description']) or ''
    if 'tags' in spec:
        project['tags'] = _tags(spec['tags'])
    if 'enabled' in spec:
        project['enabled'] = _bool('enabled', spec['enabled'])
        if not project['enabled']:
            revoke_tokens(sim.state, project_id=project_id)
    return {'project': _view(sim, 'projects', project)}


def _delete(sim, req, table, kind, rid):
    """A project or a user goes, with its role assignments and tokens."""
    require_admin(req, f'identity:delete_{kind}')
    _record(sim, table, kind, rid)
    del sim.state.table(table)[rid]
    _drop_assignments(sim, **{f'{kind}_id': rid})
    revoke_tokens(sim.state, **{f'{kind}_id': rid})
    return 204, None


def delete_project(sim, req, project_id):
    return _delete(sim, req, 'projects', 'project', project_id)


def user_projects(sim, req, user_id):
    """GET /v3/users/{id}/projects: the projects a user has a role on."""
    if req.context.user_id != user_id:
        require_admin(req, 'identity:list_user_projects')
    _user(sim, user_id)
    state = sim.state
    projects = [p for p in state.table('projects').values()
                if effective_roles(state, user_id, p['id'])]
    return _listing(sim, req, 'projects', _filtered(req, projects, ('name', 'enabled')))


# -- users ----------------------------------------------------------------------------
def _user(sim, user_id):
    return _record(sim, 'users', 'user', user_id)


def list_users(sim, req):
    return _list(sim, req, 'users', ('name', 'domain_id', 'enabled'))


def get_user(sim, req, user_id):
    if req.context.user_id != user_id:
        require_admin(req, 'identity:get_user')
    return {'user': _view(sim, 'users', _user(sim, user_id))}


def _apply_user(sim, user, spec):
    if 'name' in spec:
        name = _text('user', 'name', spec['name'], required=True)
        if _check_unique_name(sim, 'users', name, skip=user['id']):
            raise errors.keystone(409, 'Conflict occurred attempting to store user - '
                                       f'Duplicate entry found with name {name} at domain '
                                       'ID default.')
        user['name'] = name
    if 'password' in spec:
        user['_password'] = _text('user', 'password', spec['password'], limit=4096)
    if 'enabled' in spec:
        user['enabled'] = _bool('enabled', spec['enabled'])
    if 'default_project_id' in spec:
        if spec['default_project_id'] is not None:
            _project(sim, spec['default_project_id'])
        user['default_project_id'] = spec['default_project_id']
    for key, value in spec.items():
        if key not in ('name', 'password', 'enabled', 'default_project_id') \
                and key not in _USER_RESERVED:
            user[key] = value           # keystone keeps extra attributes (email, ...)


def create_user(sim, req):
    require_admin(req, 'identity:create_user')
    spec = _body(req, 'user')
    if 'name' not in spec:
        raise errors.keystone(400, "Invalid input for field 'user': 'name' is a required "
                                   "property")
    _domain(spec.get('domain_id'))
    user = {'id': new_id().replace('-', ''), 'name': None, 'domain_id': 'default',
            'enabled': True, 'password_expires_at': None, 'options': {},
            '_password': None}
    _apply_user(sim, user, spec)
    sim.state.table('users')[user['id']] = user
    return 201, {'user': _view(sim, 'users', user)}


def update_user(sim, req, user_id):
    require_admin(req, 'identity:update_user')
    user = _user(sim, user_id)
    spec = _body(req, 'user')
    if 'domain_id' in spec and spec['domain_id'] != 'default':
        raise errors.keystone(400, "Invalid input for field 'domain_id': the domain_id of "
                                   "a user cannot be changed")
    _apply_user(sim, user, {k: v for k, v in spec.items() if k != 'domain_id'})
    if 'password' in spec or user['enabled'] is False:
        revoke_tokens(sim.state, user_id=user_id)
    return {'user': _view(sim, 'users', user)}


def change_password(sim, req, user_id):
    """POST /v3/users/{id}/password: a user's own change (original checked)."""
    user = _user(sim, user_id)
    if req.context.user_id != user_id:
        raise _forbidden('identity:change_password')
    spec = _body(req, 'user')
    if spec.get('original_password') != user['_password']:
        raise errors.keystone(401, 'The request you have made requires authentication.')
    user['_password'] = _text('user', 'password', spec.get('password'), required=True,
                              limit=4096)
    revoke_tokens(sim.state, user_id=user_id)
    return 204, None


def delete_user(sim, req, user_id):
    return _delete(sim, req, 'users', 'user', user_id)


# -- roles ------------------------------------------------------------------------------
def _role(sim, role_id_):
    return _record(sim, 'roles', 'role', role_id_)


def list_roles(sim, req):
    return _list(sim, req, 'roles', ('name', 'domain_id'))


def get_role(sim, req, role_id_):
    require_admin(req, 'identity:get_role')
    return {'role': _view(sim, 'roles', _role(sim, role_id_))}


def create_role(sim, req):
    require_admin(req, 'identity:create_role')
    spec = _body(req, 'role')
    name = _text('role', 'name', spec.get('name'), required=True)
    if _check_unique_name(sim, 'roles', name):
        raise errors.keystone(409, 'Conflict occurred attempting to store role - Duplicate '
                                   f'entry found with name {name}.')
    role = {'id': new_id().replace('-', ''), 'name': name, 'domain_id': None,
            'description': _text('role', 'description', spec.get('description')),
            'options': {}}
    sim.state.table('roles')[role['id']] = role
    return 201, {'role': _view(sim, 'roles', role)}


def delete_role(sim, req, role_id_):
    require_admin(req, 'identity:delete_role')
    _role(sim, role_id_)
    del sim.state.table('roles')[role_id_]
    _drop_assignments(sim, role_id=role_id_)
    return 204, None


# -- role assignments -------------------------------------------------------------------
def _drop_assignments(sim, **match):
    table = sim.state.table('role_assignments')
    for key, a in list(table.items()):
        if all(a[k] == v for k, v in match.items()):
            del table[key]


def _triple(sim, project_id, user_id, role_id_):
    return _project(sim, project_id), _user(sim, user_id), _role(sim, role_id_)


def grant(sim, req, project_id, user_id, role_id_):
    require_admin(req, 'identity:create_grant')
    _triple(sim, project_id, user_id, role_id_)
    assign(sim.state, project_id, user_id, role_id_)
    return 204, None


def check_grant(sim, req, project_id, user_id, role_id_):
    require_admin(req, 'identity:check_grant')
    _triple(sim, project_id, user_id, role_id_)
    if assignment_key(project_id, user_id, role_id_) not in \
            sim.state.table('role_assignments'):
        raise errors.keystone(404, f'Could not find role assignment with role: {role_id_}, '
                                   f'user or group: {user_id}, project, domain, or system: '
                                   f'{project_id}.')
    return 204, None


def revoke_grant(sim, req, project_id, user_id, role_id_):
    check_grant(sim, req, project_id, user_id, role_id_)
    del sim.state.table('role_assignments')[assignment_key(project_id, user_id, role_id_)]
    revoke_tokens(sim.state, user_id=user_id, project_id=project_id)
    return 204, None


def list_grants(sim, req, project_id, user_id):
    require_admin(req, 'identity:list_grants')
    _project(sim, project_id)
    _user(sim, user_id)
    roles = sim.state.table('roles')
    found = [roles[a['role_id']] for a in sim.state.table('role_assignments').values()
             if a['project_id'] == project_id and a['user_id'] == user_id
             and a['role_id'] in roles]
    return _listing(sim, req, 'roles', sorted(found, key=lambda r: r['name']))


def list_role_assignments(sim, req):
    """GET /v3/role_assignments with user.id, scope.project.id, role.id filters;
    ``effective`` adds the implied roles, ``include_names`` the names."""
    require_admin(req, 'identity:list_role_assignments')
    state = sim.state
    filters = {'user_id': req.arg('user.id'), 'project_id': req.arg('scope.project.id'),
               'role_id': req.arg('role.id')}
    effective = req.arg('effective') is not None
    raw = req.arg('include_names')
    names = raw is not None and raw.lower() not in ('0', 'false', 'no', 'off')
    rows = []
    for a in state.table('role_assignments').values():
        roles = ([{'id': a['role_id']}] if not effective else
                 effective_roles(state, a['user_id'], None,
                                 names=(state.table('roles').get(a['role_id'], {})
                                        .get('name'),)))
        rows.extend({**a, 'role_id': r['id']} for r in roles)
    rows = [r for r in rows if all(v is None or r[k] == v for k, v in filters.items())]
    rows = list({(r['project_id'], r['user_id'], r['role_id']): r for r in rows}.values())
    return {'role_assignments': [_assignment_view(sim, r, names) for r in rows],
            'links': {'self': f'{sim.url}/identity/v3/role_assignments', 'previous': None,
                      'next': None}}


def _assignment_view(sim, row, names):
    state = sim.state
    role = {'id': row['role_id']}
    user = {'id': row['user_id']}
    project = {'id': row['project_id']}
    if names:
        role['name'] = state.table('roles').get(row['role_id'], {}).get('name')
        user.update(name=state.table('users').get(row['user_id'], {}).get('name'),
                    domain=dict(DOMAIN))
        project.update(name=state.table('projects').get(row['project_id'], {}).get('name'),
                       domain=dict(DOMAIN))
    url = (f"{sim.url}/identity/v3/projects/{row['project_id']}/users/{row['user_id']}"
           f"/roles/{row['role_id']}")
    return {'role': role, 'user': user, 'scope': {'project': project},
            'links': {'assignment': url}}
