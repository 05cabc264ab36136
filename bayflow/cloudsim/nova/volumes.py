"""Volume attachments (os-volume_attachments), editing Cinder's volume records.

An attach or detach takes a fraction of ``boot_seconds``, as Nova's compute
does it in the background after the API answered: attach goes ``reserved``
(at the API) -> ``attaching`` -> ``in-use`` (the attachment shows in Cinder),
detach ``detaching`` -> ``available`` (the mapping leaves the server). Cinder
refuses to delete the volume in between. Each mapping (``server['_bdms']``)
carries its pending step in ``_step``; ``advance_bdms`` takes the due ones.
"""

import re
import string
import time

from bayflow.cloudsim import cinder, errors
from bayflow.cloudsim.state import new_id
from bayflow.cloudsim.nova.common import (
    _ATTACH_STATES, _bad, _bool, _check_lock, _field, _forbidden_policy, _ge, _get_server,
    _is_uuid, _micro, _not_found, _require_state, _schedule_bdm, _wrapped)

ATTACH_FRACTION = 0.25          # an attach or a detach takes boot_seconds * this
_DEVICE = re.compile(r'^(/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$')


def _attachment_view(req, server, bdm, created=False):
    out = {}
    if created or not _ge(req, 2, 89):
        out['id'] = bdm['volume_id']
    out['volumeId'] = bdm['volume_id']
    out['serverId'] = server['id']
    if bdm['device']:
        out['device'] = bdm['device']
    if _ge(req, 2, 70):
        out['tag'] = bdm['tag']
    if _ge(req, 2, 79):
        out['delete_on_termination'] = bdm['delete_on_termination']
    if not created and _ge(req, 2, 89):
        out['attachment_id'] = bdm['attachment_id']
        out['bdm_uuid'] = bdm['bdm_uuid']
    return out


def _visible_volume(sim, req, volume_id):
    volume = sim.state.table('volumes').get(volume_id)
    if volume is None or (volume.get('project_id') != req.context.project_id
                          and not req.context.is_admin):
        raise _not_found(f'Volume {volume_id} could not be found.')
    return volume


# -- the Cinder side of a mapping ---------------------------------------------
def _step_seconds(state):
    return max(float(state.boot_seconds), 0.0) * ATTACH_FRACTION


def _set_status(volume, status):
    volume['status'] = status
    volume['updated_at'] = _micro()


def _check_available(volume):
    """Nova's check_attach_and_reserve_volume: only an available volume."""
    if volume.get('status') != 'available':
        raise _bad(f"Invalid volume: volume '{volume['id']}' status must be 'available'. "
                   f"Currently in '{volume.get('status')}'")


def _attach_done(state, server, bdm):
    """The attachment shows in Cinder: the volume is in-use."""
    volume = state.table('volumes').get(bdm['volume_id'])
    if volume is None:
        return
    volume['attachments'] = [a for a in volume.get('attachments') or ()
                             if a.get('server_id') != server['id']]
    volume['attachments'].append({
        'server_id': server['id'], 'attachment_id': bdm['attachment_id'],
        'attached_at': _micro(), 'host_name': server['host'],
        'volume_id': bdm['volume_id'], 'device': bdm['device'], 'id': bdm['volume_id']})
    _set_status(volume, 'in-use')


def _release(state, server_id, bdm, delete=False):
    """The volume leaves the server: available again, or deleted by Cinder when
    the mapping says delete_on_termination and ``delete`` is asked."""
    volume = state.table('volumes').get(bdm.get('volume_id') or '')
    if volume is None:
        return
    volume['attachments'] = [a for a in volume.get('attachments') or ()
                             if a.get('server_id') != server_id]
    if volume['status'] in ('reserved', 'attaching', 'in-use', 'detaching'):
        _set_status(volume, 'available')
    if delete and bdm['delete_on_termination'] and volume['status'] == 'available':
        cinder.begin_delete(state, volume)


def release_all(state, server, delete=False):
    """Every volume of the server released (the mappings stay on the server)."""
    for bdm in server.get('_bdms') or ():
        bdm['_step'] = None
        _release(state, server['id'], bdm, delete)


def _on_attaching(state, server, bdm, step):
    volume = state.table('volumes').get(bdm['volume_id'])
    if volume is not None:
        _set_status(volume, 'attaching')
    _schedule_bdm(state, server, bdm, 'attached', step['at'] + _step_seconds(state) / 2)


def _on_attached(state, server, bdm, step):
    _attach_done(state, server, bdm)


def _on_detached(state, server, bdm, step):
    _release(state, server['id'], bdm)
    server['_bdms'].remove(bdm)


def _on_swapped(state, server, bdm, step):
    _release(state, server['id'], bdm)
    old = state.table('volumes').get(bdm['volume_id'])
    if old is not None:
        old['migration_status'] = None
    bdm['volume_id'], bdm['attachment_id'] = step['new_volume_id'], new_id()
    _attach_done(state, server, bdm)


_STEPS = {'attaching': _on_attaching, 'attached': _on_attached, 'detached': _on_detached,
          'swapped': _on_swapped}


def advance_bdms(state, server, now):
    """Take the due steps of the server's volume mappings, oldest first."""
    while True:
        due = [b for b in server.get('_bdms') or ()
               if b.get('_step') and b['_step']['at'] <= now]
        if not due:
            return
        bdm = min(due, key=lambda b: b['_step']['at'])
        step, bdm['_step'] = bdm['_step'], None
        _STEPS[step['kind']](state, server, bdm, step)


# -- the API ------------------------------------------------------------------
def list_volume_attachments(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    bdms = [b for b in server.get('_bdms') or () if b.get('volume_id')]
    offset = req.arg('offset')
    limit = req.arg('limit')
    try:
        start = int(offset) if offset else 0
        stop = start + int(limit) if limit else None
    except ValueError:
        raise _bad('limit param must be an integer')
    return {'volumeAttachments': [_attachment_view(req, server, b)
                                  for b in bdms[start:stop]]}


def _find_bdm(server, volume_id):
    for bdm in server.get('_bdms') or ():
        if bdm.get('volume_id') == volume_id:
            return bdm
    raise _not_found(f"Instance {server['id']} is not attached to volume {volume_id}")


def show_volume_attachment(sim, req, server_id, volume_id):
    server = _get_server(sim, req, server_id)
    return {'volumeAttachment': _attachment_view(req, server, _find_bdm(server, volume_id))}


def next_device(server, used=()):
    used = {b['device'] for b in server.get('_bdms') or ()} | set(used)
    used.add(server.get('root_device_name') or '/dev/vda')
    for letter in string.ascii_lowercase[1:]:
        device = f'/dev/vd{letter}'
        if device not in used:
            return device
    raise errors.nova(403, 'The maximum allowed number of disk devices (26) to attach to '
                           'a single instance has been exceeded.')


def _check_device(device):
    if device is not None and not (isinstance(device, str) and _DEVICE.match(device)):
        raise _field('device', device, f"{device!r} does not match '(^/dev/x{{0,1}}[a-z]"
                                       "{0,1}d{0,1})([a-z]+)[0-9]*$'")


def _volume_id(spec):
    volume_id = spec.get('volumeId')
    if volume_id is None:
        raise _field('volumeAttachment', spec, "'volumeId' is a required property")
    if not _is_uuid(volume_id):
        raise _field('volumeId', volume_id, f"{volume_id!r} is not a 'uuid'")
    return volume_id


def attach_volume(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    spec = _wrapped(req, 'volumeAttachment', ('volumeId', 'device'),
                    since=(((2, 49), 'tag'), ((2, 79), 'delete_on_termination')))
    volume_id = _volume_id(spec)
    device = spec.get('device')
    _check_device(device)
    delete_on_termination = _bool(spec.get('delete_on_termination', False))
    _check_lock(req, server)
    _require_state(server, 'attach_volume', _ATTACH_STATES)
    volume = _visible_volume(sim, req, volume_id)
    if any(b.get('volume_id') == volume_id for b in server.get('_bdms') or ()):
        raise _bad(f'Invalid volume: volume {volume_id} already attached')
    _check_available(volume)
    if device and any(b['device'] == device for b in server['_bdms']):
        raise errors.nova(409, f'The supplied device path ({device}) is in use.')
    bdm = {'volume_id': volume_id, 'device': device or next_device(server),
           'tag': spec.get('tag'), 'delete_on_termination': delete_on_termination,
           'attachment_id': new_id(), 'bdm_uuid': new_id(), 'boot_index': None}
    server['_bdms'].append(bdm)
    _set_status(volume, 'reserved')
    _schedule_bdm(sim.state, server, bdm, 'attaching',
                  time.time() + _step_seconds(sim.state) / 2)
    return {'volumeAttachment': _attachment_view(req, server, bdm, created=True)}


def update_volume_attachment(sim, req, server_id, volume_id):
    """PUT: delete_on_termination in place (2.85); another volumeId is a swap,
    which Nova allows an admin only while Cinder migrates the old volume."""
    server = _get_server(sim, req, server_id)
    only_swap = not _ge(req, 2, 85)
    if only_swap:
        spec = _wrapped(req, 'volumeAttachment', ('volumeId',))
    else:
        spec = _wrapped(req, 'volumeAttachment', ('volumeId', 'device', 'tag', 'serverId',
                                                  'delete_on_termination', 'id'))
    new_volume_id = _volume_id(spec)
    swap = only_swap or new_volume_id != volume_id
    if swap and not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-volumes-attachments:swap')
    if not only_swap:
        bdm = _find_bdm(server, volume_id)
        for key, current in (('id', volume_id), ('serverId', server['id']),
                             ('device', bdm['device']), ('tag', bdm['tag'])):
            if key in spec and spec[key] != current:
                raise _bad(f'The {key} property is not mutable')
        if 'delete_on_termination' in spec:
            bdm['delete_on_termination'] = _bool(spec['delete_on_termination'])
    if swap:
        _swap(sim, req, server, volume_id, new_volume_id)
    return 202, None


def _swap(sim, req, server, old_id, new_volume_id):
    old = sim.state.table('volumes').get(old_id)
    if old is None:
        raise _not_found(f'Volume {old_id} could not be found.')
    if not old.get('migration_status'):
        raise errors.nova(409, f'volume {old_id} is not migrating; this API should only be '
                               'called by Cinder')
    new = sim.state.table('volumes').get(new_volume_id)
    if new is None:
        raise _bad(f'Volume {new_volume_id} could not be found.')
    bdm = _find_bdm(server, old_id)
    _check_lock(req, server)
    _require_state(server, 'swap_volume', ('active', 'paused', 'resized'))
    _check_available(new)
    _set_status(new, 'reserved')
    _schedule_bdm(sim.state, server, bdm, 'swapped',
                  time.time() + _step_seconds(sim.state),
                  new_volume_id=new_volume_id)


def detach_volume(sim, req, server_id, volume_id):
    server = _get_server(sim, req, server_id)
    volume = _visible_volume(sim, req, volume_id)
    bdm = _find_bdm(server, volume_id)
    if bdm.get('boot_index') == 0:
        raise _bad('Cannot detach a root device volume')
    _check_lock(req, server)
    _require_state(server, 'detach_volume', _ATTACH_STATES)
    if volume['status'] == 'available':
        raise _bad(f'Invalid volume: volume {volume_id} already detached')
    if volume['status'] != 'in-use':
        raise _bad("Invalid volume: Unable to detach volume. Volume status must be 'in-use' "
                   "and attach_status must be 'attached' to detach.")
    _set_status(volume, 'detaching')
    _schedule_bdm(sim.state, server, bdm, 'detached',
                  time.time() + _step_seconds(sim.state))
    return 202, None
