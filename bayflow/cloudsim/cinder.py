"""Cinder v3: version discovery, volumes, volume metadata and actions, quotas,
limits, volume types and availability zones.

The ``volumes`` table holds each volume as agreed with Nova (which attaches and
detaches by editing ``status`` and ``attachments`` itself): id, project_id,
name, description, status, size, attachments (``{server_id, attachment_id,
volume_id, device, id, host_name, attached_at}``), metadata, bootable
(``"true"``/``"false"``, as Cinder renders it), created_at, updated_at,
availability_zone, volume_type, multiattach, encrypted, user_id, plus a few
more Cinder fields and private ``_`` timers.

Time-driven changes (``creating`` -> ``available``/``error`` after
``state.boot_seconds``, ``deleting`` -> gone) are applied by an advancer that
only looks at the volumes still in transition.
"""

import ast
import functools
import json
import re
import time
import uuid
from urllib.parse import urlencode

from bayflow.cloudsim import errors
from bayflow.cloudsim.router import Response
from bayflow.cloudsim.state import isotime

MIN_VERSION, MAX_VERSION = (3, 0), (3, 71)
UPDATED = '2023-08-31T00:00:00Z'
DEFAULT_AZ = 'nova'
DEFAULT_TYPE = '__DEFAULT__'
VOLUME_TYPES = (
    ('__DEFAULT__', 'Default Volume Type', {}),
    ('lvmdriver-1', None, {'volume_backend_name': 'lvmdriver-1'}),
)
# Cinder's defaults (cinder/quota.py): what a fresh project may use.
QUOTA_DEFAULTS = {
    'volumes': 10, 'snapshots': 10, 'gigabytes': 1000, 'backups': 10,
    'backup_gigabytes': 1000, 'groups': 10, 'per_volume_gigabytes': -1,
}
# A volume's delete takes this share of boot_seconds (status "deleting").
DELETE_SHARE = 0.5
LIMIT_MAX = 1000
DELETABLE = ('available', 'error', 'error_restoring', 'error_extending', 'error_managing')
STATUSES = ('creating', 'available', 'reserved', 'attaching', 'detaching', 'in-use',
            'maintenance', 'deleting', 'awaiting-transfer', 'error', 'error_deleting',
            'backing-up', 'restoring-backup', 'error_backing-up', 'error_restoring',
            'error_extending', 'downloading', 'uploading', 'retyping', 'extending')


@functools.lru_cache(maxsize=None)
def type_id(name):
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f'{name}.volume-type.cloudsim'))


def _type(ref):
    for name, description, specs in VOLUME_TYPES:
        if ref in (name, type_id(name)):
            return {'id': type_id(name), 'name': name, 'description': description,
                    'is_public': True, 'extra_specs': dict(specs),
                    'os-volume-type-access:is_public': True, 'qos_specs_id': None}
    return None


# -- microversions ------------------------------------------------------------
def _parse_version(text):
    found = re.fullmatch(r'(\d+)\.(\d+)', text or '')
    return (int(found.group(1)), int(found.group(2))) if found else None


def _requested_version(req):
    header = req.headers.get('OpenStack-API-Version')
    if not header:
        return MIN_VERSION
    for part in header.split(','):
        service, _, value = part.strip().partition(' ')
        if service.strip().lower() not in ('volume', 'block-storage'):
            continue
        value = value.strip()
        if value == 'latest':
            return MAX_VERSION
        version = _parse_version(value)
        if version is None:
            raise errors.cinder(400, f'API Version String {value} is of invalid format. '
                                     'It must be of format Major.Minor.')
        if not MIN_VERSION <= version <= MAX_VERSION:
            raise errors.ApiError(406, {'computeFault': {
                'code': 406, 'message':
                    f'Version {value} is not supported by the API. Minimum is '
                    f'{MIN_VERSION[0]}.{MIN_VERSION[1]} and maximum is '
                    f'{MAX_VERSION[0]}.{MAX_VERSION[1]}.'}})
        return version
    return MIN_VERSION


def _versioned(handler):
    """Echo the microversion the way Cinder does, on answers and errors."""
    def wrapped(sim, req, **params):
        version = _requested_version(req)
        req.volume_version = version
        headers = {'OpenStack-API-Version': f'volume {version[0]}.{version[1]}',
                   'Vary': 'OpenStack-API-Version'}
        project_id = params.pop('project_id', None)
        try:
            if project_id is not None and project_id != req.context.project_id:
                raise errors.cinder(400, 'Malformed request url')
            result = handler(sim, req, **params)
        except errors.ApiError as exc:
            exc.headers = {**headers, **exc.headers}
            raise
        if isinstance(result, Response):
            result.headers = {**headers, **result.headers}
            return result
        if isinstance(result, tuple):
            extra = result[2] if len(result) > 2 else {}
            return result[0], result[1], {**headers, **extra}
        return 200, result, headers
    wrapped.__name__ = handler.__name__
    return wrapped


# -- discovery ----------------------------------------------------------------
def _version_doc(sim):
    return {'id': 'v3.0', 'status': 'CURRENT',
            'version': f'{MAX_VERSION[0]}.{MAX_VERSION[1]}',
            'min_version': f'{MIN_VERSION[0]}.{MIN_VERSION[1]}', 'updated': UPDATED,
            'links': [{'rel': 'describedby', 'type': 'text/html',
                       'href': 'https://docs.openstack.org/'},
                      {'rel': 'self', 'href': f'{sim.url}/volume/v3/'}],
            'media-types': [{'base': 'application/json',
                             'type': 'application/vnd.openstack.volume+json;version=3'}]}


def all_versions(sim, req):
    return 300, {'versions': [_version_doc(sim)]}


def version_v3(sim, req):
    return {'versions': [_version_doc(sim)]}


# -- transitions ----------------------------------------------------------------
def _pending(state):
    """Ids of volumes in transition, cached per volumes table (reset/load
    swap the table, which rebuilds the cache with one scan)."""
    volumes = state.table('volumes')
    cache = getattr(state, '_cinder_pending', None)
    if cache is None or cache[0] is not volumes:
        ids = {vid for vid, v in volumes.items()
               if v.get('_ready_at') is not None or v.get('_delete_at') is not None}
        cache = (volumes, ids)
        state._cinder_pending = cache
    return cache[1]


def advance(state, now):
    pending = _pending(state)
    if not pending:
        return
    volumes = state.table('volumes')
    for vid in list(pending):
        volume = volumes.get(vid)
        if volume is None:
            pending.discard(vid)
            continue
        if volume.get('_delete_at') is not None:
            if now >= volume['_delete_at']:
                del volumes[vid]
                pending.discard(vid)
        elif volume.get('_ready_at') is not None:
            if now >= volume['_ready_at']:
                if volume['status'] == 'creating':
                    volume['status'] = 'error' if volume.get('_build_error') else 'available'
                    volume['updated_at'] = isotime(now, micro=True)
                volume['_ready_at'] = None
                pending.discard(vid)
        else:
            pending.discard(vid)


# -- rendering ------------------------------------------------------------------
def _links(sim, project_id, vid):
    return [{'rel': 'self', 'href': f'{sim.url}/volume/v3/{project_id}/volumes/{vid}'},
            {'rel': 'bookmark', 'href': f'{sim.url}/volume/{project_id}/volumes/{vid}'}]


def render(sim, req, volume, extended=True):
    """Cinder's detail view; ``extended`` adds the os-vol-* attributes that
    show and list add (create's answer has none)."""
    admin = req.context.is_admin
    attachments = []
    for att in volume.get('attachments') or ():
        att = dict(att)
        if not admin:
            att['host_name'] = None
        attachments.append(att)
    bootable = volume.get('bootable', 'false')
    out = {
        'id': volume['id'], 'status': volume['status'], 'size': volume['size'],
        'availability_zone': volume.get('availability_zone'),
        'created_at': volume.get('created_at'), 'updated_at': volume.get('updated_at'),
        'name': volume.get('name'), 'description': volume.get('description'),
        'volume_type': volume.get('volume_type'),
        'snapshot_id': volume.get('snapshot_id'), 'source_volid': volume.get('source_volid'),
        'metadata': dict(volume.get('metadata') or {}),
        'links': _links(sim, volume['project_id'], volume['id']),
        'user_id': volume.get('user_id'),
        'bootable': str(bootable).lower() if not isinstance(bootable, str) else bootable,
        'encrypted': bool(volume.get('encrypted')),
        'replication_status': volume.get('replication_status'),
        'consistencygroup_id': volume.get('consistencygroup_id'),
        'multiattach': bool(volume.get('multiattach')),
        'attachments': attachments,
    }
    if admin:
        out['migration_status'] = volume.get('migration_status')
    version = getattr(req, 'volume_version', MIN_VERSION)
    if version >= (3, 13):
        out['group_id'] = volume.get('group_id')
    if version >= (3, 21) and admin:
        out['provider_id'] = None
    if version >= (3, 48):
        out['service_uuid'] = volume.get('_service_uuid')
        out['shared_targets'] = False
    if version >= (3, 63):
        vtype = _type(volume.get('volume_type') or DEFAULT_TYPE)
        out['volume_type_id'] = vtype['id'] if vtype else None
    if version >= (3, 65):
        out['consumes_quota'] = True
    if extended:
        out['os-vol-tenant-attr:tenant_id'] = volume['project_id']
        if admin:
            out['os-vol-host-attr:host'] = volume.get('_host')
            out['os-vol-mig-status-attr:migstat'] = None
            out['os-vol-mig-status-attr:name_id'] = None
    return out


def _summary(sim, volume):
    return {'id': volume['id'], 'name': volume.get('name'),
            'links': _links(sim, volume['project_id'], volume['id'])}


def _get(sim, req, volume_id):
    volume = sim.state.table('volumes').get(volume_id)
    if volume is None or (volume['project_id'] != req.context.project_id
                          and not req.context.is_admin):
        raise errors.cinder(404, f'Volume {volume_id} could not be found.')
    return volume


# -- validation -------------------------------------------------------------------
def _invalid_field(name, value, reason):
    return errors.cinder(400, f'Invalid input for field/attribute {name}. '
                              f'Value: {value}. {reason}')


def _wrapped_body(req, key):
    body = req.body
    if not isinstance(body, dict) or key not in body:
        raise errors.cinder(400, f"Invalid input for field/attribute {key}. Value: "
                                 f"{json.dumps(body)}. '{key}' is a required property")
    inner = body[key]
    if not isinstance(inner, dict):
        raise _invalid_field(key, json.dumps(inner), f"{json.dumps(inner)} is not of "
                                                     "type 'object'")
    return inner


def _check_text(fields, name, limit):
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid_field(name, value, f"{value!r} is not of type 'string', 'null'")
    if len(value) > limit:
        raise errors.cinder(400, f'Invalid input received: {name} has {len(value)} '
                                 f'characters, more than {limit}.')
    return value.strip() if name == 'name' else value


def _check_metadata(value, name='metadata'):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid_field(name, value, f"{value!r} is not of type 'object'")
    for key, item in value.items():
        if not key or len(key) > 255:
            raise errors.cinder(400, 'Invalid input received: Metadata property key '
                                     'blank or greater than 255 characters.')
        if not isinstance(item, str):
            raise _invalid_field(f'{name}/{key}', item, f"{item!r} is not of type 'string'")
        if len(item) > 255:
            raise errors.cinder(400, 'Invalid input received: Metadata property value '
                                     'greater than 255 characters.')
    return dict(value)


def _check_size(value):
    if value is None:
        raise errors.cinder(400, "Invalid input received: Volume size 'None' must be an "
                                 "integer and greater than 0")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _invalid_field('size', value, f"{value!r} is not of type 'integer', 'string'")
    if isinstance(value, str):
        if not re.fullmatch(r'[0-9]+', value):
            raise _invalid_field('size', value, f"{value!r} does not match '^[0-9]+$'")
        value = int(value)
    if value < 1:
        raise _invalid_field('size', value, f'{value} is less than the minimum of 1')
    return value


# -- quotas -------------------------------------------------------------------------
def _quota_key(project_id):
    # The quotas table is shared with the other services: Cinder's rows are
    # keyed "volume:<project_id>".
    return f'volume:{project_id}'


def _quotas(state, project_id):
    row = state.table('quotas').get(_quota_key(project_id)) or {}
    return {k: row.get(k, v) for k, v in QUOTA_DEFAULTS.items()}


def _usage(state, project_id):
    count = size = 0
    for volume in state.table('volumes').values():
        if volume['project_id'] == project_id:
            count += 1
            size += volume['size']
    return count, size


def _check_quota(state, project_id, add_volumes, add_gigabytes):
    quotas = _quotas(state, project_id)
    count, size = _usage(state, project_id)
    over_gb = quotas['gigabytes'] >= 0 and size + add_gigabytes > quotas['gigabytes']
    over_vol = quotas['volumes'] >= 0 and count + add_volumes > quotas['volumes']
    retry = {'Retry-After': '0'}
    if over_gb:
        message = (f"Requested volume or snapshot exceeds allowed gigabytes quota. "
                   f"Requested {add_gigabytes}G, quota is {quotas['gigabytes']}G and "
                   f"{size}G has been consumed.")
        raise errors.ApiError(413, {'overLimit': {'code': 413, 'message': message,
                                                  'retryAfter': '0'}}, retry)
    if over_vol:
        message = (f"Maximum number of volumes allowed ({quotas['volumes']}) exceeded "
                   f"for quota 'volumes'.")
        raise errors.ApiError(413, {'overLimit': {'code': 413, 'message': message,
                                                  'retryAfter': '0'}}, retry)
    per_volume = quotas['per_volume_gigabytes']
    if per_volume >= 0 and add_gigabytes > per_volume:
        message = (f'Requested volume size {add_gigabytes}G is larger than maximum '
                   f'allowed limit {per_volume}G.')
        raise errors.ApiError(413, {'overLimit': {'code': 413, 'message': message,
                                                  'retryAfter': '0'}}, retry)


# -- volumes ------------------------------------------------------------------------
def create_volume(sim, req):
    fields = _wrapped_body(req, 'volume')
    name = _check_text(fields, 'name', 255)
    description = _check_text(fields, 'description', 255)
    metadata = _check_metadata(fields.get('metadata'))
    if fields.get('snapshot_id') or fields.get('source_volid') or fields.get('backup_id'):
        source = fields.get('source_volid')
        if fields.get('snapshot_id'):
            raise errors.cinder(404, f"Snapshot {fields['snapshot_id']} could not be found.")
        if fields.get('backup_id'):
            raise errors.cinder(404, f"Backup {fields['backup_id']} could not be found.")
        src = sim.state.table('volumes').get(source)
        if src is None or (src['project_id'] != req.context.project_id
                           and not req.context.is_admin):
            raise errors.cinder(404, f'Volume {source} could not be found.')
        size = _check_size(fields['size']) if fields.get('size') is not None else src['size']
    else:
        size = _check_size(fields.get('size'))
    image_ref = fields.get('imageRef') or fields.get('image_id')
    if image_ref is not None:
        image = sim.state.table('images').get(image_ref)
        if image is None:
            raise errors.cinder(404, f'Image {image_ref} could not be found.')
    type_ref = fields.get('volume_type') or DEFAULT_TYPE
    vtype = _type(type_ref)
    if vtype is None:
        raise errors.cinder(404, f'Volume type with name {type_ref} could not be found.')
    az = fields.get('availability_zone') or DEFAULT_AZ
    if az != DEFAULT_AZ:
        raise errors.cinder(400, f"Invalid input received: Availability zone '{az}' is "
                                 "invalid.")
    multiattach = fields.get('multiattach', False)
    if not isinstance(multiattach, bool):
        raise _invalid_field('multiattach', multiattach,
                             f"{multiattach!r} is not of type 'boolean'")
    ctx = req.context
    _check_quota(sim.state, ctx.project_id, 1, size)
    vid = str(uuid.uuid4())
    now = time.time()
    volume = {
        'id': vid, 'project_id': ctx.project_id, 'user_id': ctx.user_id,
        'name': name, 'description': description, 'status': 'creating', 'size': size,
        'attachments': [], 'metadata': metadata,
        'bootable': 'true' if image_ref else 'false',
        'created_at': isotime(now, micro=True), 'updated_at': None,
        'availability_zone': az, 'volume_type': vtype['name'],
        'multiattach': multiattach, 'encrypted': False,
        'snapshot_id': None, 'source_volid': fields.get('source_volid'),
        'replication_status': None, 'consistencygroup_id': None, 'group_id': None,
        'migration_status': None,
        '_host': 'cloudsim@lvmdriver-1#lvmdriver-1', '_service_uuid': str(
            uuid.uuid5(uuid.NAMESPACE_DNS, 'cinder-volume.cloudsim')),
        '_ready_at': now + sim.state.boot_seconds, '_delete_at': None,
        '_build_error': bool(getattr(req, 'build_error', False)),
    }
    if image_ref:
        volume['volume_image_metadata'] = {'image_id': image_ref}
    sim.state.table('volumes')[vid] = volume
    _pending(sim.state).add(vid)
    return 202, {'volume': render(sim, req, volume, extended=False)}


def show_volume(sim, req, volume_id):
    return {'volume': render(sim, req, _get(sim, req, volume_id))}


def _sort_spec(req):
    keys, dirs = [], []
    if req.arg('sort') is not None:
        if req.arg('sort_key') is not None or req.arg('sort_dir') is not None:
            raise errors.cinder(400, "The 'sort_key' and 'sort_dir' parameters are "
                                     "deprecated and cannot be used with the 'sort' "
                                     "parameter.")
        for part in req.arg('sort').split(','):
            key, _, direction = part.strip().partition(':')
            keys.append(key.strip())
            dirs.append((direction or 'desc').strip())
    else:
        keys = [req.arg('sort_key', 'created_at')]
        dirs = [req.arg('sort_dir', 'desc')]
    for direction in dirs:
        if direction not in ('asc', 'desc'):
            raise errors.cinder(400, 'Invalid input received: Unknown sort direction, '
                                     'must be one of: asc, desc')
    if 'id' not in keys:
        keys.append('id')
        dirs.append(dirs[0])
    return list(zip(keys, dirs))


def _metadata_filter(text):
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(text)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
    raise errors.cinder(400, f'Invalid input received: Invalid metadata filter: {text}')


_PAGING = {'limit', 'marker', 'offset', 'sort', 'sort_key', 'sort_dir', 'with_count'}


def _list(sim, req, detail):
    ctx = req.context
    limit = req.int_arg('limit', errors.cinder)
    limit = LIMIT_MAX if limit is None else min(limit, LIMIT_MAX)
    offset = req.int_arg('offset', errors.cinder) or 0
    marker = req.arg('marker')
    spec = _sort_spec(req)
    all_tenants = (req.arg('all_tenants') or '').lower() in ('1', 'true', 'yes', 'on')
    filters = {}
    for key, values in req.query.items():
        if key in _PAGING or key == 'all_tenants' or not values:
            continue
        filters[key] = values[-1]
    project = ctx.project_id
    if ctx.is_admin and all_tenants:
        project = filters.pop('project_id', None)
    else:
        filters.pop('project_id', None)
    metadata = _metadata_filter(filters.pop('metadata')) if 'metadata' in filters else None
    found = []
    for volume in sim.state.table('volumes').values():
        if project is not None and volume['project_id'] != project:
            continue
        if metadata and any((volume.get('metadata') or {}).get(k) != v
                            for k, v in metadata.items()):
            continue
        if not all(_matches(volume, key, value) for key, value in filters.items()):
            continue
        found.append(volume)
    for key, direction in reversed(spec):
        found.sort(key=lambda v, k=key: (v.get(k) is None, v.get(k) if v.get(k)
                                         is not None else ''),
                   reverse=(direction == 'desc'))
    if marker is not None:
        ids = [v['id'] for v in found]
        if marker not in ids:
            if marker not in sim.state.table('volumes'):
                raise errors.cinder(404, f'Volume {marker} could not be found.')
            found = []
        else:
            found = found[ids.index(marker) + 1:]
    page = found[offset:offset + limit]
    items = ([render(sim, req, v) for v in page] if detail
             else [_summary(sim, v) for v in page])
    body = {'volumes': items}
    if page and limit <= len(page):
        params = [(k, v) for k, vs in req.query.items() if k != 'marker' for v in vs]
        params.append(('marker', page[-1]['id']))
        coll = 'volumes/detail' if detail else 'volumes'
        body['volumes_links'] = [{'rel': 'next', 'href':
                                  f'{sim.url}/volume/v3/{ctx.project_id}/{coll}?'
                                  f'{urlencode(params)}'}]
    if getattr(req, 'volume_version', MIN_VERSION) >= (3, 45) and \
            (req.arg('with_count') or '').lower() in ('1', 'true', 'yes', 'on'):
        body['count'] = len(found)
    return body


def _matches(volume, key, value):
    if key in ('name', 'display_name'):
        return volume.get('name') == value
    if key == 'bootable':
        return str(volume.get('bootable')).lower() == str(value).lower()
    if key in volume and not key.startswith('_'):
        current = volume[key]
        if isinstance(current, bool):
            return str(current).lower() == str(value).lower()
        return current is not None and str(current) == value
    # Cinder ignores filters it does not know for non-admins (they are
    # removed by remove_invalid_filter_options); so do we.
    return True


def list_volumes(sim, req):
    return _list(sim, req, detail=False)


def list_volumes_detail(sim, req):
    return _list(sim, req, detail=True)


def update_volume(sim, req, volume_id):
    fields = _wrapped_body(req, 'volume')
    allowed = {'name', 'description', 'display_name', 'display_description', 'metadata'}
    extra = sorted(set(fields) - allowed)
    if extra:
        raise errors.cinder(400, 'Invalid input for field/attribute volume. Value: '
                                 f'{json.dumps(fields)}. Additional properties are not '
                                 f"allowed ({', '.join(repr(e) for e in extra)} "
                                 f"{'was' if len(extra) == 1 else 'were'} unexpected)")
    volume = _get(sim, req, volume_id)
    if volume['status'] == 'maintenance':
        raise errors.cinder(400, 'Invalid volume: The volume cannot be updated during '
                                 'maintenance.')
    for api_name, field in (('name', 'name'), ('display_name', 'name'),
                            ('description', 'description'),
                            ('display_description', 'description')):
        if api_name in fields:
            volume[field] = _check_text(fields, api_name, 255)
    if 'metadata' in fields:
        volume['metadata'] = _check_metadata(fields['metadata'])
    volume['updated_at'] = isotime(time.time(), micro=True)
    return {'volume': render(sim, req, volume)}


def delete_volume(sim, req, volume_id):
    volume = _get(sim, req, volume_id)
    cascade = (req.arg('cascade') or '').lower() in ('1', 'true', 'yes', 'on')
    del cascade     # no snapshots are modelled: cascade changes nothing
    if volume['status'] == 'error':
        # Never scheduled to a backend: Cinder destroys it at once.
        del sim.state.table('volumes')[volume_id]
        return 202, None
    if (volume['status'] not in DELETABLE or volume.get('attachments')
            or volume.get('migration_status') or volume.get('group_id')):
        raise errors.cinder(400, 'Invalid volume: Volume status must be available or '
                                 'error or error_restoring or error_extending or '
                                 'error_managing and must not be migrating, attached, '
                                 'belong to a group, have snapshots or be disassociated '
                                 'from snapshots after volume transfer.')
    now = time.time()
    volume['status'] = 'deleting'
    volume['updated_at'] = isotime(now, micro=True)
    volume['_delete_at'] = now + sim.state.boot_seconds * DELETE_SHARE
    _pending(sim.state).add(volume_id)
    return 202, None


# -- volume metadata --------------------------------------------------------------------
def _meta_body(req, key):
    body = req.body
    if not isinstance(body, dict) or key not in body:
        raise errors.cinder(400, 'Malformed request body')
    return _check_metadata(body[key], key)


def get_metadata(sim, req, volume_id):
    return {'metadata': dict(_get(sim, req, volume_id).get('metadata') or {})}


def set_metadata(sim, req, volume_id):
    """POST: merge the given keys into the volume's metadata."""
    new = _meta_body(req, 'metadata')
    volume = _get(sim, req, volume_id)
    volume['metadata'] = {**(volume.get('metadata') or {}), **new}
    volume['updated_at'] = isotime(time.time(), micro=True)
    return {'metadata': dict(volume['metadata'])}


def replace_metadata(sim, req, volume_id):
    """PUT: replace all metadata."""
    new = _meta_body(req, 'metadata')
    volume = _get(sim, req, volume_id)
    volume['metadata'] = new
    volume['updated_at'] = isotime(time.time(), micro=True)
    return {'metadata': dict(new)}


def get_metadata_item(sim, req, volume_id, key):
    volume = _get(sim, req, volume_id)
    if key not in (volume.get('metadata') or {}):
        raise errors.cinder(404, f'Volume {volume_id} has no metadata with key {key}.')
    return {'meta': {key: volume['metadata'][key]}}


def set_metadata_item(sim, req, volume_id, key):
    meta = _meta_body(req, 'meta')
    if key not in meta:
        raise errors.cinder(400, 'Request body and URI mismatch')
    if len(meta) > 1:
        raise errors.cinder(400, 'Request body contains too many items')
    volume = _get(sim, req, volume_id)
    volume['metadata'] = {**(volume.get('metadata') or {}), key: meta[key]}
    volume['updated_at'] = isotime(time.time(), micro=True)
    return {'meta': {key: meta[key]}}


def delete_metadata_item(sim, req, volume_id, key):
    volume = _get(sim, req, volume_id)
    if key not in (volume.get('metadata') or {}):
        raise errors.cinder(404, f'Volume {volume_id} has no metadata with key {key}.')
    volume['metadata'] = {k: v for k, v in volume['metadata'].items() if k != key}
    volume['updated_at'] = isotime(time.time(), micro=True)
    return 200, None


# -- actions -----------------------------------------------------------------------------
def volume_action(sim, req, volume_id):
    body = req.body
    if not isinstance(body, dict) or len(body) != 1:
        raise errors.cinder(400, 'Malformed request body')
    action, args = next(iter(body.items()))
    handler = _ACTIONS.get(action)
    if handler is None:
        raise errors.cinder(400, f'There is no such action: {action}')
    volume = _get(sim, req, volume_id)
    return handler(sim, req, volume, args if isinstance(args, dict) else {})


def _extend(sim, req, volume, args):
    try:
        new_size = int(args.get('new_size'))
    except (TypeError, ValueError):
        raise _invalid_field('new_size', args.get('new_size'),
                             f"{args.get('new_size')!r} is not of type 'integer'")
    if volume['status'] != 'available':
        raise errors.cinder(400, f"Invalid volume: Volume {volume['id']} status must be "
                                 f"'available' to extend, currently {volume['status']}.")
    if new_size <= volume['size']:
        raise errors.cinder(400, f"Invalid input received: New size for extend must be "
                                 f"greater than current size. (current: {volume['size']}, "
                                 f"extended: {new_size}).")
    _check_quota(sim.state, volume['project_id'], 0, new_size - volume['size'])
    volume['size'] = new_size
    volume['updated_at'] = isotime(time.time(), micro=True)
    return 202, None


def _set_bootable(sim, req, volume, args):
    value = args.get('bootable')
    if isinstance(value, str) and value.lower() in ('true', 'false', '1', '0'):
        value = value.lower() in ('true', '1')
    if not isinstance(value, bool):
        raise errors.cinder(400, 'Invalid input received: Bad value for bootable')
    volume['bootable'] = 'true' if value else 'false'
    volume['updated_at'] = isotime(time.time(), micro=True)
    return 200, None


def _reset_status(sim, req, volume, args):
    if not req.context.is_admin:
        raise errors.cinder(403, 'Policy does not allow volume_extension:'
                                 'volume_admin_actions:reset_status to be performed.')
    status = args.get('status')
    if status is not None and status not in STATUSES:
        raise errors.cinder(400, 'Invalid input received: Must specify a valid status')
    if status is not None:
        volume['status'] = status
        volume['_ready_at'] = None
    if args.get('attach_status') == 'detached':
        volume['attachments'] = []
    volume['updated_at'] = isotime(time.time(), micro=True)
    return 202, None


_ACTIONS = {'os-extend': _extend, 'os-set_bootable': _set_bootable,
            'os-reset_status': _reset_status}


# -- quotas, limits, types, availability zones ---------------------------------------------
def _quota_target(req, target):
    if target != req.context.project_id and not req.context.is_admin:
        raise errors.cinder(403, 'Policy does not allow volume_extension:quotas:show to '
                                 'be performed.')
    return target


def _typed_quotas(quotas):
    out = dict(quotas)
    for name, _, _ in VOLUME_TYPES:
        for res in ('volumes', 'gigabytes', 'snapshots'):
            out[f'{res}_{name}'] = -1
    return out


def show_quotas(sim, req, target):
    _quota_target(req, target)
    quotas = _typed_quotas(_quotas(sim.state, target))
    if (req.arg('usage') or '').lower() in ('1', 'true', 'yes', 'on'):
        count, size = _usage(sim.state, target)
        used = {'volumes': count, 'gigabytes': size}
        quotas = {k: {'limit': v, 'in_use': used.get(k, 0), 'reserved': 0,
                      'allocated': 0} for k, v in quotas.items()}
    return {'quota_set': {'id': target, **quotas}}


def default_quotas(sim, req, target):
    _quota_target(req, target)
    return {'quota_set': {'id': target, **_typed_quotas(QUOTA_DEFAULTS)}}


def update_quotas(sim, req, target):
    if not req.context.is_admin:
        raise errors.cinder(403, 'Policy does not allow volume_extension:quotas:update '
                                 'to be performed.')
    fields = _wrapped_body(req, 'quota_set')
    row = sim.state.table('quotas').setdefault(_quota_key(target), {
        'id': _quota_key(target), 'project_id': target, 'service': 'volume'})
    for key, value in fields.items():
        if key not in QUOTA_DEFAULTS:
            continue        # per-type keys are accepted and ignored
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise errors.cinder(400, f'Invalid input received: Quota {key} must be an '
                                     'integer.')
        if value < -1:
            raise errors.cinder(400, f'Invalid input received: Quota limit {value} for '
                                     f'{key} must be greater than or equal to -1.')
        row[key] = value
    return {'quota_set': _typed_quotas(_quotas(sim.state, target))}


def delete_quotas(sim, req, target):
    if not req.context.is_admin:
        raise errors.cinder(403, 'Policy does not allow volume_extension:quotas:delete '
                                 'to be performed.')
    sim.state.table('quotas').pop(_quota_key(target), None)
    return 200, None


def limits(sim, req):
    quotas = _quotas(sim.state, req.context.project_id)
    count, size = _usage(sim.state, req.context.project_id)
    return {'limits': {'rate': [], 'absolute': {
        'maxTotalVolumes': quotas['volumes'], 'maxTotalSnapshots': quotas['snapshots'],
        'maxTotalVolumeGigabytes': quotas['gigabytes'],
        'maxTotalBackups': quotas['backups'],
        'maxTotalBackupGigabytes': quotas['backup_gigabytes'],
        'totalVolumesUsed': count, 'totalGigabytesUsed': size,
        'totalSnapshotsUsed': 0, 'totalBackupsUsed': 0, 'totalBackupGigabytesUsed': 0}}}


def list_types(sim, req):
    return {'volume_types': [_type(name) for name, _, _ in VOLUME_TYPES]}


def show_type(sim, req, type_ref):
    vtype = _type(type_ref)
    if vtype is None:
        raise errors.cinder(404, f'Volume type {type_ref} could not be found.')
    return {'volume_type': vtype}


def availability_zones(sim, req):
    return {'availabilityZoneInfo': [{'zoneName': DEFAULT_AZ,
                                      'zoneState': {'available': True}}]}


def register(router, state):
    state.on_advance(advance)
    router.add('GET', '/volume', all_versions, 'volume', auth=False)
    router.add('GET', '/volume/v3', version_v3, 'volume', auth=False)
    base = '/volume/v3/{project_id}'
    for method, path, handler in (
            ('GET', '/volumes', list_volumes),
            ('POST', '/volumes', create_volume),
            ('GET', '/volumes/detail', list_volumes_detail),
            ('GET', '/volumes/{volume_id}', show_volume),
            ('PUT', '/volumes/{volume_id}', update_volume),
            ('DELETE', '/volumes/{volume_id}', delete_volume),
            ('POST', '/volumes/{volume_id}/action', volume_action),
            ('GET', '/volumes/{volume_id}/metadata', get_metadata),
            ('POST', '/volumes/{volume_id}/metadata', set_metadata),
            ('PUT', '/volumes/{volume_id}/metadata', replace_metadata),
            ('GET', '/volumes/{volume_id}/metadata/{key}', get_metadata_item),
            ('PUT', '/volumes/{volume_id}/metadata/{key}', set_metadata_item),
            ('DELETE', '/volumes/{volume_id}/metadata/{key}', delete_metadata_item),
            ('GET', '/os-quota-sets/{target}', show_quotas),
            ('GET', '/os-quota-sets/{target}/defaults', default_quotas),
            ('PUT', '/os-quota-sets/{target}', update_quotas),
            ('DELETE', '/os-quota-sets/{target}', delete_quotas),
            ('GET', '/limits', limits),
            ('GET', '/types', list_types),
            ('GET', '/types/{type_ref}', show_type),
            ('GET', '/os-availability-zone', availability_zones)):
        router.add(method, base + path, _versioned(handler), 'volume')
