"""Nova quotas (what a project may use, 403 beyond it), quota sets and limits."""

from bayflow.cloudsim import errors
from bayflow.cloudsim.nova.common import (
    DEFAULT_QUOTAS, FILTERED_QUOTAS_236, FILTERED_QUOTAS_257, NETWORK_QUOTAS, _METADATA_KEY,
    _bad, _bool, _extra_error, _field, _forbidden_policy, _ge, _wrapped)


# -- quotas ------------------------------------------------------------------
def _quota_key(project_id):
    return f'compute:{project_id}'


def _limits(state, project_id):
    """The effective quota limits of a project (defaults + admin overrides)."""
    record = state.table('quotas').get(_quota_key(project_id))
    limits = dict(DEFAULT_QUOTAS)
    if record:
        limits.update(record.get('limits') or {})
    return limits


def _usage(state, project_id, user_id=None):
    instances = cores = ram = 0
    for s in state.table('servers').values():
        if s['project_id'] == project_id:
            instances += 1
            cores += s['flavor']['vcpus']
            ram += s['flavor']['ram']
    usage = {'instances': instances, 'cores': cores, 'ram': ram}
    if user_id is not None:
        usage['key_pairs'] = sum(1 for k in state.table('keypairs').values()
                                 if k['user_id'] == user_id)
    return usage


def _check_instance_quota(state, project_id, flavor, count):
    limits = _limits(state, project_id)
    usage = _usage(state, project_id)
    requested = {'instances': count, 'cores': flavor['vcpus'] * count,
                 'ram': flavor['ram'] * count}
    overs = sorted(r for r in ('cores', 'instances', 'ram')
                   if limits[r] >= 0 and usage[r] + requested[r] > limits[r])
    if overs:
        def join(values):
            return ', '.join(str(v) for v in values)
        names = join(overs)
        raise errors.nova(403, f'Quota exceeded for {names}: Requested '
                               f'{join(requested[r] for r in overs)}, but already used '
                               f'{join(usage[r] for r in overs)} of '
                               f'{join(limits[r] for r in overs)} {names}')


def _check_metadata(state, project_id, metadata, field='metadata'):
    if not isinstance(metadata, dict):
        raise _field(field, metadata, f"{metadata!r} is not of type 'object'")
    for key, value in metadata.items():
        if not isinstance(key, str) or not _METADATA_KEY.match(key):
            raise _extra_error(field, metadata, [key])
        if not isinstance(value, str):
            raise _field(key, value, f"{value!r} is not of type 'string'")
        if len(value) > 255:
            raise _field(key, value, f'{value!r} is too long')
    allowed = _limits(state, project_id)['metadata_items']
    if 0 <= allowed < len(metadata):
        raise errors.nova(403, f'Maximum number of metadata items exceeds {allowed}')


# -- quota sets and limits -------------------------------------------------------------
def _quota_project(sim, req, project_id, rule):
    ctx = req.context
    if project_id != ctx.project_id and not ctx.is_admin:
        raise _forbidden_policy(f'os_compute_api:os-quota-sets:{rule}')
    if project_id not in sim.state.table('projects'):
        raise _bad(f'Project ID {project_id} is not a valid project.')


def _filtered_quotas(req):
    if _ge(req, 2, 57):
        return FILTERED_QUOTAS_257
    if _ge(req, 2, 36):
        return FILTERED_QUOTAS_236
    return ()


def _quota_values(limits, req):
    merged = {**limits, **NETWORK_QUOTAS}
    filtered = _filtered_quotas(req)
    return {k: v for k, v in merged.items() if k not in filtered}


def show_quota_set(sim, req, project_id):
    _quota_project(sim, req, project_id, 'show')
    values = _quota_values(_limits(sim.state, project_id), req)
    return {'quota_set': {'id': project_id, **values}}


def show_quota_defaults(sim, req, project_id):
    _quota_project(sim, req, project_id, 'defaults')
    return {'quota_set': {'id': project_id, **_quota_values(dict(DEFAULT_QUOTAS), req)}}


def show_quota_detail(sim, req, project_id):
    _quota_project(sim, req, project_id, 'detail')
    limits = _quota_values(_limits(sim.state, project_id), req)
    usage = _usage(sim.state, project_id, req.context.user_id)
    return {'quota_set': {'id': project_id, **{
        k: {'limit': v, 'in_use': usage.get(k, 0), 'reserved': 0}
        for k, v in limits.items()}}}


def update_quota_set(sim, req, project_id):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-quota-sets:update')
    if project_id not in sim.state.table('projects'):
        raise _bad(f'Project ID {project_id} is not a valid project.')
    settable = set(_quota_values(DEFAULT_QUOTAS, req)) | {'force'}
    if not _ge(req, 2, 36):
        settable |= set(NETWORK_QUOTAS) | {'networks'}
    spec = _wrapped(req, 'quota_set', settable)
    force = _bool(spec.get('force', False))
    usage = _usage(sim.state, project_id)
    record = sim.state.table('quotas').setdefault(
        _quota_key(project_id), {'id': _quota_key(project_id), 'project_id': project_id,
                                 'service': 'compute', 'limits': {}})
    for key, raw in spec.items():
        if key == 'force' or key not in DEFAULT_QUOTAS:
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise _field(key, raw, f"{raw!r} is not of type 'integer', 'string'")
        if value < -1:
            raise _field(key, raw, f'{raw!r} is less than the minimum of -1')
        minimum = usage.get(key, 0)
        if not force and value != -1 and value < minimum:
            raise _bad(f'Quota limit {value} for {key} must be greater than or equal to '
                       f'already used and reserved {minimum}.')
        record['limits'][key] = value
    return {'quota_set': _quota_values(_limits(sim.state, project_id), req)}


def delete_quota_set(sim, req, project_id):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-quota-sets:delete')
    sim.state.table('quotas').pop(_quota_key(project_id), None)
    return 202, None


_LIMIT_NAMES = (
    ('ram', 'maxTotalRAMSize'), ('instances', 'maxTotalInstances'),
    ('cores', 'maxTotalCores'), ('key_pairs', 'maxTotalKeypairs'),
    ('floating_ips', 'maxTotalFloatingIps'), ('metadata_items', 'maxServerMeta'),
    ('metadata_items', 'maxImageMeta'), ('injected_files', 'maxPersonality'),
    ('injected_file_content_bytes', 'maxPersonalitySize'),
    ('security_groups', 'maxSecurityGroups'),
    ('security_group_rules', 'maxSecurityGroupRules'),
    ('server_groups', 'maxServerGroups'), ('server_group_members', 'maxServerGroupMembers'),
)
_USED_NAMES = (('totalRAMUsed', 'ram'), ('totalCoresUsed', 'cores'),
               ('totalInstancesUsed', 'instances'), ('totalFloatingIpsUsed', 'floating_ips'),
               ('totalSecurityGroupsUsed', 'security_groups'),
               ('totalServerGroupsUsed', 'server_groups'))


def limits(sim, req):
    ctx = req.context
    project_id = req.arg('tenant_id') or ctx.project_id
    if project_id != ctx.project_id and not ctx.is_admin:
        raise _forbidden_policy('os_compute_api:limits:other_project')
    if _ge(req, 2, 57):
        filtered = ('floating_ips', 'security_groups', 'security_group_rules',
                    'injected_files', 'injected_file_content_bytes')
    elif _ge(req, 2, 36):
        filtered = ('floating_ips', 'security_groups', 'security_group_rules')
    else:
        filtered = ()
    quotas = {**_limits(sim.state, project_id), **NETWORK_QUOTAS}
    usage = _usage(sim.state, project_id)
    absolute = {}
    for quota, name in _LIMIT_NAMES:
        if quota in filtered or (name == 'maxImageMeta' and _ge(req, 2, 39)):
            continue
        absolute[name] = quotas[quota]
    for name, quota in _USED_NAMES:
        if quota not in filtered:
            absolute[name] = usage.get(quota, 0)
    return {'limits': {'rate': [], 'absolute': absolute}}
