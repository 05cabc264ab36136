"""Block device mappings on server create (``block_device_mapping_v2``, and
the legacy ``block_device_mapping`` converted as Nova does), with Nova's
schema and API checks (``nova/block_device.py`` ``from_api``,
``compute/api.py`` ``_validate_bdm``), and the build-time side: volumes
created from an image or blank, reserved ones attached, all of it in Cinder.

Only mappings with a volume destination are kept on the server
(``server['_bdms']``); local ones (the image root disk, swap, ephemerals)
are checked against the flavor and need nothing more.
"""

from bayflow.cloudsim import cinder, errors
from bayflow.cloudsim.state import new_id
from bayflow.cloudsim.nova.common import (
    _bad, _bool, _extra_error, _field, _ge, _is_uuid, _visible_image)
from bayflow.cloudsim.nova.volumes import _attach_done, _check_available, _set_status

ROOT_DEVICE = '/dev/vda'
_LEGACY_KEYS = ('virtual_name', 'volume_id', 'snapshot_id', 'volume_size', 'device_name',
                'delete_on_termination', 'no_device', 'connection_info')
_V2_KEYS = _LEGACY_KEYS + ('source_type', 'uuid', 'image_id', 'destination_type',
                           'guest_format', 'device_type', 'disk_bus', 'boot_index')
_SOURCES = ('volume', 'image', 'snapshot', 'blank')
_DISK_BUSES = ('fdc', 'ide', 'sata', 'scsi', 'usb', 'virtio', 'xen', 'lxc', 'uml')
_GIB = 1024 ** 3


def _invalid(details):
    return _bad(f'Block Device Mapping is Invalid: {details}')


def _keys(req, legacy):
    if legacy:
        return set(_LEGACY_KEYS)
    keys = set(_V2_KEYS)
    if (2, 32) <= req.microversion <= (2, 36) or _ge(req, 2, 42):
        keys.add('tag')
    if _ge(req, 2, 67):
        keys.add('volume_type')
    return keys


def _int_or_none(field, value, minimum):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or \
            (isinstance(value, str) and not value.lstrip('-').isdigit()):
        raise _field(field, value, f"{value!r} is not of type 'integer', 'string'")
    if int(value) < minimum:
        raise _field(field, value, f'{value!r} is less than the minimum of {minimum}')
    return int(value)


def _schema(req, name, items, legacy):
    """The JSON-schema part: a list of objects with known keys and types."""
    if not isinstance(items, list):
        raise _field(name, items, f"{items!r} is not of type 'array'")
    allowed = _keys(req, legacy)
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise _field(name, item, f"{item!r} is not of type 'object'")
        extra = sorted(set(item) - allowed)
        if extra:
            raise _extra_error(name, item, extra)
        if item.get('source_type') is not None and item['source_type'] not in _SOURCES:
            raise _field('source_type', item['source_type'],
                         f"{item['source_type']!r} is not one of {list(_SOURCES)}")
        if item.get('destination_type') not in (None, 'local', 'volume'):
            raise _field('destination_type', item['destination_type'],
                         f"{item['destination_type']!r} is not one of ['local', 'volume']")
        entry = dict(item)
        entry['volume_size'] = _int_or_none('volume_size', item.get('volume_size'), 1)
        entry['boot_index'] = _int_or_none('boot_index', item.get('boot_index'), -(2 ** 31))
        if 'delete_on_termination' in item:
            entry['delete_on_termination'] = _bool(item['delete_on_termination'])
        out.append(entry)
    return out


def _from_legacy(entry, image_specified):
    """A legacy mapping in v2 terms (nova's from_legacy_mapping)."""
    device = entry.get('device_name') or ''
    root = device.replace('/dev/', '') in ('vda', 'sda', 'xvda') and not image_specified
    if entry.get('volume_id') or entry.get('snapshot_id'):
        source = 'volume' if entry.get('volume_id') else 'snapshot'
        return {'source_type': source, 'destination_type': 'volume',
                'uuid': entry.get('volume_id') or entry.get('snapshot_id'),
                'device_name': entry.get('device_name'),
                'volume_size': entry.get('volume_size'),
                'delete_on_termination': entry.get('delete_on_termination', False),
                'boot_index': 0 if root else -1}
    virtual = entry.get('virtual_name') or ''
    return {'source_type': 'blank', 'destination_type': 'local', 'boot_index': -1,
            'guest_format': 'swap' if virtual == 'swap' else None,
            'device_name': entry.get('device_name'), 'volume_size': entry.get('volume_size'),
            'delete_on_termination': True, 'no_device': entry.get('no_device')}


def _from_api(entry, image_specified):
    """nova.block_device.BlockDeviceDict.from_api: the per-mapping rules."""
    source, uuid = entry.get('source_type'), entry.get('uuid')
    for key in ('volume_id', 'image_id', 'snapshot_id'):
        if entry.get(key) and not uuid:
            source, uuid = source or key[:-3], entry[key]
    if source == 'blank' and uuid:
        raise _invalid('Invalid device UUID.')
    if source != 'blank' and not uuid:
        raise _invalid('Missing device UUID.')
    destination = entry.get('destination_type') or (
        'volume' if source in ('volume', 'snapshot') else 'local')
    boot_index = entry.get('boot_index')
    boot_index = -1 if boot_index is None else boot_index
    if source == 'image' and destination == 'local' and not (
            image_specified and boot_index == 0):
        raise _invalid('Mapping image to local is not supported.')
    if destination == 'local' and entry.get('volume_type'):
        raise _invalid('Specifying a volume_type with destination_type=local is not '
                       'supported.')
    if source == 'volume' and entry.get('volume_type'):
        raise _invalid('Specifying volume type to existing volume is not supported.')
    if entry.get('disk_bus') and entry['disk_bus'] not in _DISK_BUSES:
        raise _bad(f"Block Device Mapping is invalid: The provided disk bus "
                   f"{entry['disk_bus']} is not valid.")
    return {'source_type': source, 'destination_type': destination, 'uuid': uuid,
            'boot_index': boot_index, 'volume_size': entry.get('volume_size'),
            'device_name': entry.get('device_name'), 'tag': entry.get('tag'),
            'guest_format': entry.get('guest_format'),
            'volume_type': entry.get('volume_type'),
            'delete_on_termination': entry.get('delete_on_termination',
                                               source == 'image' and destination == 'local')}


def parse(sim, req, spec, image_id, flavor, max_count):
    """The server's mappings, checked as nova-api checks them; ``(mappings,
    boot image)``: the image the root disk comes from (None when none)."""
    legacy, v2 = spec.get('block_device_mapping'), spec.get('block_device_mapping_v2')
    if not legacy and not v2:
        return [], None
    if legacy and v2:
        raise _bad('Using different block_device_mapping syntaxes is not allowed in the '
                   'same request.')
    specified = bool(image_id)
    if legacy:
        items = [_from_legacy(e, specified) for e in
                 _schema(req, 'block_device_mapping', legacy, legacy=True)]
    else:
        items = _schema(req, 'block_device_mapping_v2', v2, legacy=False)
    mappings = [_from_api(e, specified) for e in items if not e.get('no_device')]
    if max_count > 1 and any(m['source_type'] == 'volume' for m in mappings):
        raise _bad('Cannot attach one or more volumes to multiple instances')
    if specified and any(m['destination_type'] == 'volume' and (m['device_name'] or '')
                         .replace('/dev/', '') == 'vda' for m in mappings):
        raise _bad('The volume cannot be assigned the same device name as the root device '
                   'vda')
    indexes = sorted(m['boot_index'] for m in mappings if m['boot_index'] >= 0)
    if not indexes or indexes != list(range(len(indexes))):
        raise _invalid('Boot sequence for the instance and image/block device mapping '
                       'combination is not valid.')
    boot_image = None
    for mapping in mappings:
        image = _check_source(sim, req, mapping)
        if mapping['boot_index'] == 0:
            boot_image = image
    _check_local(mappings, flavor)
    return mappings, boot_image


def _check_source(sim, req, mapping):
    """The mapping's source exists and may be used; the image behind it, if any."""
    state, ctx = sim.state, req.context
    source, uuid = mapping['source_type'], mapping['uuid']
    if mapping['volume_type'] and cinder.volume_type(mapping['volume_type']) is None:
        raise _bad(f"Volume type {mapping['volume_type']} could not be found.")
    if source == 'image':
        image = _visible_image(state, ctx, uuid) if _is_uuid(uuid) else None
        if image is None:
            raise _invalid(f'failed to get image {uuid}.')
        if image.get('status') != 'active':
            raise _bad(f'Image {uuid} is not active.')
        if mapping['destination_type'] == 'volume':
            if not mapping['volume_size']:
                raise _bad("Images with destination_type 'volume' need to have a non-zero "
                           "size specified")
            if int(image.get('min_disk') or 0) > mapping['volume_size']:
                raise _bad('Volume is smaller than the minimum size specified in image '
                           f"metadata. Volume size is {mapping['volume_size'] * _GIB} bytes, "
                           f"minimum size is {int(image['min_disk']) * _GIB} bytes.")
        return image
    if source == 'snapshot':
        raise _invalid(f'failed to get snapshot {uuid}.')
    if source == 'blank':
        if mapping['destination_type'] == 'volume' and not mapping['volume_size']:
            raise _bad("Blank volumes (source: 'blank', dest: 'volume') need to have "
                       "non-zero size")
        return None
    volume = state.table('volumes').get(uuid)
    if volume is None or not (ctx.is_admin or volume['project_id'] == ctx.project_id):
        raise _invalid(f'failed to get volume {uuid}.')
    _check_available(volume)
    mapping['volume_size'] = volume['size']
    if mapping['boot_index'] == 0:
        if str(volume.get('bootable')).lower() != 'true':
            raise _bad(f'Block Device {uuid} is not bootable.')
        image_id = (volume.get('volume_image_metadata') or {}).get('image_id')
        return state.table('images').get(image_id or '')
    return None


def _check_local(mappings, flavor):
    """Swap and ephemeral disks fit the flavor (compute/api.py _validate_bdm)."""
    blank = [m for m in mappings
             if m['source_type'] == 'blank' and m['destination_type'] == 'local']
    swaps = [m for m in blank if m['guest_format'] == 'swap']
    ephemeral = sum(m['volume_size'] or flavor['ephemeral']
                    for m in blank if m['guest_format'] != 'swap')
    if ephemeral > flavor['ephemeral']:
        raise _bad('Ephemeral disks requested are larger than the instance type allows. '
                   'If no size is given in one block device mapping, flavor ephemeral '
                   'size will be used.')
    if len(swaps) > 1:
        raise _invalid('More than one swap drive requested.')
    if swaps and (swaps[0]['volume_size'] or 0) > flavor['swap']:
        raise _bad('Swap drive requested is larger than instance type allows.')


def volume_backed(mappings):
    return any(m['boot_index'] == 0 and m['destination_type'] == 'volume'
               for m in mappings)


def server_bdms(mappings):
    """The records a new server keeps: its volume-destination mappings, devices
    assigned (the root volume is /dev/vda), existing volumes reserved."""
    used = {m['device_name'] for m in mappings if m['device_name']} | {ROOT_DEVICE}
    out = []
    for m in sorted((m for m in mappings if m['destination_type'] == 'volume'),
                    key=lambda m: (m['boot_index'] < 0, m['boot_index'])):
        device = m['device_name'] or (ROOT_DEVICE if m['boot_index'] == 0 else None)
        if device is None:
            device = next(f'/dev/vd{c}' for c in 'bcdefghijklmnopqrstuvwxyz'
                          if f'/dev/vd{c}' not in used)
            used.add(device)
        out.append({'volume_id': m['uuid'] if m['source_type'] == 'volume' else None,
                    'device': device, 'tag': m['tag'],
                    'delete_on_termination': bool(m['delete_on_termination']),
                    'attachment_id': new_id(), 'bdm_uuid': new_id(),
                    'boot_index': m['boot_index'], 'source_type': m['source_type'],
                    'image_id': m['uuid'] if m['source_type'] == 'image' else None,
                    'volume_size': m['volume_size'], 'volume_type': m['volume_type']})
    return out


def reserve(state, bdms):
    """Existing volumes are reserved at the API (Cinder attachment_create)."""
    for bdm in bdms:
        if bdm['volume_id']:
            _set_status(state.table('volumes')[bdm['volume_id']], 'reserved')


def build_volumes(state, server):
    """Compute's block_device_mapping step: volumes from images and blanks
    created in Cinder (quota checked), every volume attaching. An ApiError
    (Cinder's quota) is for the caller to turn into a failed build."""
    for bdm in server.get('_bdms') or ():
        if bdm['volume_id'] is None:
            try:
                volume = cinder.new_volume(
                    state, server['project_id'], server['user_id'], bdm['volume_size'],
                    name='', image_id=bdm['image_id'],
                    volume_type=bdm['volume_type'] or cinder.DEFAULT_TYPE,
                    status='attaching')
            except errors.ApiError as exc:
                message = next(iter(exc.body.values())).get('message', '')
                raise errors.nova(500, f"Build of instance {server['id']} aborted: "
                                       f"Volume could not be created: {message}")
            bdm['volume_id'] = volume['id']
        else:
            volume = state.table('volumes').get(bdm['volume_id'])
            if volume is not None:
                _set_status(volume, 'attaching')


def attach_all(state, server):
    for bdm in server.get('_bdms') or ():
        if bdm['volume_id']:
            _attach_done(state, server, bdm)
