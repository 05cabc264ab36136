"""Flavors: listing with Nova's filters, create/update/delete, extra specs and
flavor access (a private flavor is usable by the projects on its access list,
kept in the flavor's private ``_projects``)."""

import time

from bayflow.cloudsim import errors
from bayflow.cloudsim.state import new_id
from bayflow.cloudsim.nova.common import (
    _bad, _bool, _check_name, _field, _forbidden_policy, _ge, _links, _micro, _not_found,
    _paged, _wrapped)


def _new_flavor(flavorid, name, ram, vcpus, disk, now, ephemeral=0, swap=0,
                rxtx_factor=1.0, is_public=True, description=None):
    return {'id': flavorid, 'name': name, 'ram': ram, 'vcpus': vcpus, 'disk': disk,
            'ephemeral': ephemeral, 'swap': swap, 'rxtx_factor': rxtx_factor,
            'is_public': is_public, 'disabled': False, 'description': description,
            'extra_specs': {}, 'created_at': _micro(now)}


# -- flavors -----------------------------------------------------------------------
def _flavor_view(sim, req, flavor, detail=True):
    out = {'id': flavor['id'], 'name': flavor['name'],
           'links': _links(sim, 'flavors', flavor['id'])}
    if detail:
        out.update({
            'ram': flavor['ram'], 'disk': flavor['disk'],
            'swap': flavor['swap'] if _ge(req, 2, 75) else (flavor['swap'] or ''),
            'OS-FLV-EXT-DATA:ephemeral': flavor['ephemeral'],
            'OS-FLV-DISABLED:disabled': flavor['disabled'],
            'vcpus': flavor['vcpus'],
            'os-flavor-access:is_public': flavor['is_public'],
            'rxtx_factor': flavor['rxtx_factor'] or '',
        })
    if _ge(req, 2, 55):
        out['description'] = flavor['description']
    if detail and _ge(req, 2, 61):
        out['extra_specs'] = dict(flavor['extra_specs'])
    return out


def usable(flavor, ctx):
    """Nova's flavor query: public, or on the caller's access list, or admin."""
    return flavor['is_public'] or ctx.is_admin or ctx.project_id in flavor.get('_projects', ())


def _get_flavor(sim, req, flavor_id):
    flavor = sim.state.table('flavors').get(flavor_id)
    if flavor is None or not usable(flavor, req.context):
        raise _not_found(f'Flavor {flavor_id} could not be found.')
    return flavor


def list_flavors(sim, req, detail=False):
    ctx = req.context
    is_public = True
    if ctx.is_admin:
        raw = req.arg('is_public')
        if raw is not None:
            if raw.strip().lower() == 'none':
                is_public = None
            else:
                try:
                    is_public = _bool(raw)
                except errors.ApiError:
                    raise _bad(f'Invalid is_public filter [{raw}]')
    filters = []
    for param, field in (('minRam', 'ram'), ('minDisk', 'disk')):
        raw = req.arg(param)
        if raw is not None:
            try:
                minimum = int(raw)
            except ValueError:
                raise _bad(f'Invalid {param} filter [{raw}]')
            filters.append((field, minimum))
    flavors = [f for f in sim.state.table('flavors').values()
               if (is_public is None or f['is_public'] == is_public
                   or (is_public and ctx.project_id in f.get('_projects', ())))
               and (ctx.is_admin or not f['disabled'])
               and all(f[field] >= minimum for field, minimum in filters)]
    sort_key = req.arg('sort_key') or 'flavorid'
    field = {'flavorid': 'id', 'memory_mb': 'ram', 'root_gb': 'disk',
             'ephemeral_gb': 'ephemeral'}.get(sort_key, sort_key)
    if flavors and field not in flavors[0]:
        raise _bad('Sort key supplied was not valid.')
    flavors.sort(key=lambda f: (f[field] is None, f[field]),
                 reverse=(req.arg('sort_dir') or 'asc') == 'desc')
    return _paged(sim, req, flavors, 'flavors', 'flavors/detail' if detail else 'flavors',
                  lambda f: _flavor_view(sim, req, f, detail))


def show_flavor(sim, req, flavor_id):
    return {'flavor': _flavor_view(sim, req, _get_flavor(sim, req, flavor_id))}


def create_flavor(sim, req):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-flavor-manage:create')
    body = req.body if isinstance(req.body, dict) else {}
    spec = body.get('flavor')
    if not isinstance(spec, dict):
        raise _bad("'flavor' is a required property")
    for key in ('name', 'ram', 'vcpus', 'disk'):
        if key not in spec:
            raise _field('flavor', spec, f"'{key}' is a required property")
    _check_name('name', spec['name'])
    values = {}
    for key, minimum in (('ram', 1), ('vcpus', 1), ('disk', 0),
                         ('OS-FLV-EXT-DATA:ephemeral', 0), ('swap', 0)):
        raw = spec.get(key, 0)
        try:
            values[key] = int(raw)
        except (TypeError, ValueError):
            raise _field(key, raw, f"{raw!r} is not of type 'integer', 'string'")
        if values[key] < minimum:
            raise _field(key, raw, f'{raw!r} is less than the minimum of {minimum}')
    flavors = sim.state.table('flavors')
    flavorid = spec.get('id') or new_id()
    flavorid = str(flavorid)
    if any(f['name'] == spec['name'] for f in flavors.values()):
        raise errors.nova(409, f"Flavor with name {spec['name']} already exists.")
    if flavorid in flavors:
        raise errors.nova(409, f'Flavor with ID {flavorid} already exists.')
    flavor = _new_flavor(flavorid, spec['name'], values['ram'], values['vcpus'],
                         values['disk'], time.time(),
                         ephemeral=values['OS-FLV-EXT-DATA:ephemeral'], swap=values['swap'],
                         rxtx_factor=_rxtx(spec.get('rxtx_factor', 1.0)),
                         is_public=_bool(spec.get('os-flavor-access:is_public', True)),
                         description=spec.get('description') if _ge(req, 2, 55) else None)
    flavors[flavorid] = flavor
    return {'flavor': _flavor_view(sim, req, flavor)}


def _rxtx(raw):
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise _field('rxtx_factor', raw, f"{raw!r} is not of type 'number', 'string'")
    if value <= 0:
        raise _field('rxtx_factor', raw, f'{raw!r} is less than the minimum of 0')
    return value


def delete_flavor(sim, req, flavor_id):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-flavor-manage:delete')
    if sim.state.table('flavors').pop(flavor_id, None) is None:
        raise _not_found(f'Flavor {flavor_id} could not be found.')
    return 202, None


def list_extra_specs(sim, req, flavor_id):
    return {'extra_specs': dict(_get_flavor(sim, req, flavor_id)['extra_specs'])}


def show_extra_spec(sim, req, flavor_id, key):
    flavor = _get_flavor(sim, req, flavor_id)
    if key not in flavor['extra_specs']:
        raise _not_found(f'Flavor {flavor_id} has no extra specs with key {key}.')
    return {key: flavor['extra_specs'][key]}


def _extra_specs_body(body):
    specs = body.get('extra_specs') if isinstance(body, dict) else None
    if not isinstance(specs, dict):
        raise _bad("'extra_specs' is a required property")
    for key, value in specs.items():
        if not isinstance(value, (str, int, float, bool)) or not 1 <= len(key) <= 255:
            raise _field(key, value, 'invalid extra spec')
    return {k: str(v) for k, v in specs.items()}


def create_extra_specs(sim, req, flavor_id):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-flavor-extra-specs:create')
    flavor = _get_flavor(sim, req, flavor_id)
    specs = _extra_specs_body(req.body)
    flavor['extra_specs'].update(specs)
    return {'extra_specs': specs}


def update_extra_spec(sim, req, flavor_id, key):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-flavor-extra-specs:update')
    flavor = _get_flavor(sim, req, flavor_id)
    body = req.body if isinstance(req.body, dict) else {}
    if key not in body:
        raise _bad('Request body and URI mismatch')
    if len(body) > 1:
        raise _bad('Request body contains too many items')
    flavor['extra_specs'][key] = str(body[key])
    return {key: flavor['extra_specs'][key]}


def delete_extra_spec(sim, req, flavor_id, key):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-flavor-extra-specs:delete')
    flavor = _get_flavor(sim, req, flavor_id)
    if flavor['extra_specs'].pop(key, None) is None:
        raise _not_found(f'Flavor {flavor_id} has no extra specs with key {key}.')
    return 200, None


def update_flavor(sim, req, flavor_id):
    """PUT (2.55): only the description changes."""
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-flavor-manage:update')
    spec = _wrapped(req, 'flavor', ('description',))
    if 'description' not in spec:
        raise _field('flavor', spec, "'description' is a required property")
    description = spec['description']
    if description is not None and (not isinstance(description, str)
                                    or len(description) > 65535):
        raise _field('description', description, 'is not a valid description')
    flavor = _get_flavor(sim, req, flavor_id)
    flavor['description'] = description
    return {'flavor': _flavor_view(sim, req, flavor)}


# -- flavor access -------------------------------------------------------------------
def _access_body(flavor):
    return {'flavor_access': [{'flavor_id': flavor['id'], 'tenant_id': project_id}
                              for project_id in flavor.get('_projects', ())]}


def list_flavor_access(sim, req, flavor_id):
    flavor = _get_flavor(sim, req, flavor_id)
    if flavor['is_public']:
        raise _not_found('Access list not available for public flavors.')
    return _access_body(flavor)


def flavor_action(sim, req, flavor_id):
    """addTenantAccess / removeTenantAccess (admin); the project must exist
    (nova asks Keystone: 400 otherwise, as nova's verify_project_id)."""
    body = req.body
    if not isinstance(body, dict) or len(body) != 1:
        raise _bad('Malformed request body')
    (action, args), = body.items()
    rules = {'addTenantAccess': 'add_tenant_access',
             'removeTenantAccess': 'remove_tenant_access'}
    if action not in rules:
        raise _bad(f'There is no such action: {action}')
    if not req.context.is_admin:
        raise _forbidden_policy(f'os_compute_api:os-flavor-access:{rules[action]}')
    if not isinstance(args, dict) or not isinstance(args.get('tenant'), str) \
            or not args['tenant']:
        raise _field(action, args, "'tenant' is a required property")
    project_id = args['tenant']
    known = project_id in sim.state.table('projects')
    if action == 'addTenantAccess' and not known:
        raise _bad(f'Project ID {project_id} is not a valid project.')
    flavor = sim.state.table('flavors').get(flavor_id)
    if flavor is None:
        raise _not_found(f'Flavor {flavor_id} could not be found.')
    projects = flavor.setdefault('_projects', [])
    if action == 'addTenantAccess':
        if _ge(req, 2, 7) and flavor['is_public']:
            raise errors.nova(409, 'Can not add access to a public flavor.')
        if project_id in projects:
            raise errors.nova(409, f'Flavor access already exists for flavor {flavor_id} '
                                   f'and project {project_id} combination.')
        projects.append(project_id)
    else:
        if project_id not in projects:
            raise _not_found(f'Flavor access not found for {flavor_id} / {project_id} '
                             'combination.')
        projects.remove(project_id)
    return _access_body(flavor)
