"""Volumes: the creating/deleting timers, create, show, list, update, delete."""

import ast
import json
import time
import uuid
from urllib.parse import urlencode

from bayflow.cloudsim import errors
from bayflow.cloudsim.state import isotime
from bayflow.cloudsim.cinder.common import (
    DEFAULT_AZ, DEFAULT_TYPE, DELETABLE, DELETE_SHARE, LIMIT_MAX, MIN_VERSION,
    _check_metadata, _check_size, _check_text, _get, _invalid_field, _summary, _type,
    _wrapped_body, render)
from bayflow.cloudsim.cinder.quotas import _check_quota


# -- transitions ----------------------------------------------------------------
def _pending(state):
    """Ids of volumes in transition (creating or deleting)."""
    return state.watch('volumes', lambda v: v.get('_ready_at') is not None
                       or v.get('_delete_at') is not None)


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
    volume = new_volume(sim.state, ctx.project_id, ctx.user_id, size, name=name,
                        description=description, metadata=metadata, image_id=image_ref,
                        volume_type=vtype['name'], multiattach=multiattach,
                        source_volid=fields.get('source_volid'),
                        build_error=bool(getattr(req, 'build_error', False)))
    return 202, {'volume': render(sim, req, volume, extended=False)}


def new_volume(state, project_id, user_id, size, name=None, description=None, metadata=None,
               image_id=None, volume_type=DEFAULT_TYPE, multiattach=False, source_volid=None,
               build_error=False, status='creating'):
    """Store a new volume (quota checked: 413 beyond it). ``status`` creating
    becomes available (or error) after ``boot_seconds``; any other status is
    left for the caller (Nova) to move on."""
    _check_quota(state, project_id, 1, size)
    vid = str(uuid.uuid4())
    now = time.time()
    volume = {
        'id': vid, 'project_id': project_id, 'user_id': user_id,
        'name': name, 'description': description, 'status': status, 'size': size,
        'attachments': [], 'metadata': dict(metadata or {}),
        'bootable': 'true' if image_id else 'false',
        'created_at': isotime(now, micro=True), 'updated_at': None,
        'availability_zone': DEFAULT_AZ, 'volume_type': volume_type,
        'multiattach': multiattach, 'encrypted': False,
        'snapshot_id': None, 'source_volid': source_volid,
        'replication_status': None, 'consistencygroup_id': None, 'group_id': None,
        'migration_status': None,
        '_host': 'cloudsim@lvmdriver-1#lvmdriver-1', '_service_uuid': str(
            uuid.uuid5(uuid.NAMESPACE_DNS, 'cinder-volume.cloudsim')),
        '_ready_at': now + state.boot_seconds if status == 'creating' else None,
        '_delete_at': None, '_build_error': build_error,
    }
    if image_id:
        # Cinder copies the image's Glance metadata (volume_glance_metadata).
        image = state.table('images').get(image_id) or {}
        volume['volume_image_metadata'] = {
            'image_id': image_id, **{key: str(image[src]) for key, src in (
                ('image_name', 'name'), ('checksum', 'checksum'), ('size', 'size'),
                ('disk_format', 'disk_format'), ('container_format', 'container_format'),
                ('min_disk', 'min_disk'), ('min_ram', 'min_ram'))
                if image.get(src) is not None}}
    state.table('volumes')[vid] = volume
    if volume['_ready_at'] is not None:
        _pending(state).add(vid)
    return volume


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


def list_volumes(sim, req, detail=False):
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
    begin_delete(sim.state, volume)
    return 202, None


def begin_delete(state, volume):
    """``deleting`` now, gone after a share of ``boot_seconds``."""
    now = time.time()
    volume['status'] = 'deleting'
    volume['updated_at'] = isotime(now, micro=True)
    volume['_delete_at'] = now + state.boot_seconds * DELETE_SHARE
    _pending(state).add(volume['id'])
