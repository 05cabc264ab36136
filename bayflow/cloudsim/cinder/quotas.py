"""Cinder quotas (413 beyond them), quota sets, limits, volume types and zones."""

from bayflow.cloudsim import errors
from bayflow.cloudsim.cinder.common import (
    DEFAULT_AZ, QUOTA_DEFAULTS, VOLUME_TYPES, _type, _wrapped_body)


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
