"""Image data: upload (``PUT file``), the interoperable import (``PUT stage``
then ``POST import`` with ``glance-direct``) and download, with Glance's
status rules (queued -> active; uploading -> importing -> active), size,
checksum (MD5) and multihash (``os_hash_algo`` sha512, ``os_hash_value``).

The bytes are kept as state blobs (files beside ``--state``), never in the
tables. Seeded images carry metadata only: their download answers 204, as
Glance does for an image whose store holds no data.
"""

import hashlib
import struct
import time

from bayflow.cloudsim import errors
from bayflow.cloudsim.router import Response
from bayflow.cloudsim.state import isotime
from bayflow.cloudsim.glance.images import IMPORT_METHODS, _get, _staged_key, _writable

IMPORT_FRACTION = 0.25          # an import takes boot_seconds * this
MAX_BYTES = 256 * 1024 ** 2     # the simulator keeps image data in memory
_OCTET = 'application/octet-stream'


def _body_bytes(req):
    ctype = (req.headers.get('Content-Type') or '').split(';')[0].strip()
    if ctype != _OCTET:
        raise errors.glance(415, f'Content type {ctype or None} not supported')
    data = req.raw or b''
    if len(data) > MAX_BYTES:
        raise errors.glance(413, f'Denying attempt to upload image larger than {MAX_BYTES} '
                                 'bytes.')
    return data


def _virtual_size(data, disk_format):
    """What Glance's format inspector reports: a qcow2 header's size, or the
    data size for raw and iso."""
    if disk_format == 'qcow2' and len(data) >= 32 and data[:4] == b'QFI\xfb':
        return struct.unpack('>Q', data[24:32])[0]
    if disk_format in ('raw', 'iso'):
        return len(data)
    return None


def _activate(state, image, data, now=None):
    image.update({
        'status': 'active', 'size': len(data),
        'virtual_size': _virtual_size(data, image.get('disk_format')),
        'checksum': hashlib.md5(data, usedforsecurity=False).hexdigest(),
        'os_hash_algo': 'sha512', 'os_hash_value': hashlib.sha512(data).hexdigest(),
        'updated_at': isotime(now)})
    state.put_blob(image['id'], data)


def _check_formats(image):
    if not image.get('disk_format') or not image.get('container_format'):
        raise errors.glance(400, 'Properties disk_format, container_format must be set '
                                 'prior to saving data.')


def _transition(image, status):
    raise errors.glance(409, f"Image status transition from {image['status']} to {status} "
                             'is not allowed')


def upload(sim, req, image_id):
    image = _writable(sim, req, image_id)
    data = _body_bytes(req)
    if image['status'] != 'queued':
        _transition(image, 'saving')
    _check_formats(image)
    _activate(sim.state, image, data)
    return 204, None


def stage(sim, req, image_id):
    image = _writable(sim, req, image_id)
    data = _body_bytes(req)
    if image['status'] != 'queued':
        _transition(image, 'uploading')
    sim.state.put_blob(_staged_key(image_id), data)
    image['status'] = 'uploading'
    image['updated_at'] = isotime()
    return 204, None


def import_image(sim, req, image_id):
    image = _writable(sim, req, image_id)
    body = req.body if isinstance(req.body, dict) else {}
    method = (body.get('method') or {}).get('name') if isinstance(body.get('method'),
                                                                  dict) else None
    if method not in IMPORT_METHODS:
        raise errors.glance(400, f'Import method {method} is not valid for this cloud. '
                                 'Valid values can be retrieved with /v2/info/import.')
    if image['status'] != 'uploading':
        raise errors.glance(409, "Image needs to be staged before 'glance-direct' method "
                                 'can be used')
    _check_formats(image)
    image['status'] = 'importing'
    image['updated_at'] = isotime()
    image['_import_at'] = time.time() + max(float(sim.state.boot_seconds), 0.0) \
        * IMPORT_FRACTION
    _importing(sim.state).add(image_id)
    return 202, None


def _importing(state):
    """Ids of images being imported."""
    return state.watch('images', lambda image: image.get('_import_at'))


def advance(state, now):
    """Imports whose time has come become active (the staged data moves in)."""
    importing = _importing(state)
    for image_id in list(importing):
        image = state.table('images').get(image_id)
        if image is None or image.get('_import_at') is None:
            importing.discard(image_id)
        elif image['_import_at'] <= now:
            at, image['_import_at'] = image['_import_at'], None
            importing.discard(image_id)
            data = state.get_blob(_staged_key(image_id)) or b''
            state.drop_blob(_staged_key(image_id))
            _activate(state, image, data, at)


def download(sim, req, image_id):
    image = _get(sim, req, image_id)
    if image['status'] == 'deactivated' and not req.context.is_admin:
        raise errors.glance(403, 'The requested image has been deactivated. Image data '
                                 'download is forbidden.')
    data = sim.state.get_blob(image_id) if image['status'] == 'active' else None
    if data is None:
        return 204, None
    return Response(200, data, {'Content-Type': _OCTET, 'Content-MD5': image['checksum']})


def import_info(sim, req):
    return {'import-methods': {'description': 'Import methods available.',
                               'type': 'array', 'value': list(IMPORT_METHODS)}}

