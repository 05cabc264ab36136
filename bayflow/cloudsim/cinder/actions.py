"""Volume metadata and volume actions (extend, bootable, reset-status)."""

import time

from bayflow.cloudsim import errors
from bayflow.cloudsim.state import isotime
from bayflow.cloudsim.cinder.common import (
    STATUSES, _check_metadata, _get, _invalid_field)
from bayflow.cloudsim.cinder.quotas import _check_quota


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
    # An attached volume may grow from 3.42 (Nova is told to rescan it).
    expected = ('available', 'in-use') if req.volume_version >= (3, 42) else ('available',)
    if volume['status'] not in expected:
        raise errors.cinder(400, f"Invalid volume: Volume {volume['id']} status must be "
                                 f"'{', '.join(expected)}' to extend, currently "
                                 f"{volume['status']}.")
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
    if 'migration_status' in args:
        volume['migration_status'] = args['migration_status'] or None
    volume['updated_at'] = isotime(time.time(), micro=True)
    return 202, None


_ACTIONS = {'os-extend': _extend, 'os-set_bootable': _set_bootable,
            'os-reset_status': _reset_status}
