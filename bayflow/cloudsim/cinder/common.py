"""Cinder's shared parts: constants, volume types, microversions, discovery,
the volume view and request validation."""

import functools
import json
import re
import uuid

from bayflow.cloudsim import errors
from bayflow.cloudsim.router import as_response

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
        response = as_response(result)
        response.headers = {**headers, **response.headers}
        return response
    wrapped.__name__ = getattr(handler, '__name__', 'handler')
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
    if volume.get('volume_image_metadata'):
        out['volume_image_metadata'] = dict(volume['volume_image_metadata'])
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
