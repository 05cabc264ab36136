"""Glance images: version discovery, list, show, create, update (JSON patch),
delete and tags."""

import hashlib
import uuid
from urllib.parse import urlencode

from bayflow.cloudsim import errors
from bayflow.cloudsim.state import isotime

# Glance's image schema: what is a core attribute; everything else that is a
# string is an "extra property", shown flattened in the image body.
CORE = ('id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'checksum',
        'os_hash_algo', 'os_hash_value', 'owner', 'size', 'virtual_size', 'min_ram',
        'min_disk', 'disk_format', 'container_format', 'created_at', 'updated_at',
        'tags', 'self', 'file', 'schema', 'locations', 'direct_url', 'stores')
READ_ONLY = ('id', 'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size',
             'virtual_size', 'created_at', 'updated_at', 'self', 'file', 'schema',
             'locations', 'direct_url', 'owner', 'stores')
DISK_FORMATS = ('ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso',
                'ploop')
CONTAINER_FORMATS = ('ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed')
VISIBILITIES = ('public', 'private', 'shared', 'community')
SORT_KEYS = ('name', 'status', 'container_format', 'disk_format', 'size', 'id',
             'created_at', 'updated_at', 'visibility', 'owner', 'min_disk', 'min_ram')
LIMIT_DEFAULT, LIMIT_MAX = 25, 1000
IMPORT_METHODS = ('glance-direct',)

# (name, os_distro or None, size, disk_format, min_disk, min_ram): what a
# Magnum-era devstack uploads, so bayflow's seed commands work verbatim.
SEED = (
    ('fedora-21-atomic-5', 'fedora-atomic', 770179072, 'qcow2', 0, 0),
    ('fedora-23-atomic', 'fedora-atomic', 507183104, 'qcow2', 0, 0),
    ('coreos', 'coreos', 439353344, 'qcow2', 0, 0),
    ('ubuntu-14.04', 'ubuntu', 259850752, 'qcow2', 0, 0),
    ('cirros-0.6.2-x86_64-disk', None, 21430272, 'qcow2', 0, 0),
)


def image_id(name):
    """The stable id of a seeded image (the same on every reset)."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f'{name}.image.cloudsim'))


def seed(state):
    owner = state.project_id('admin')
    images = state.table('images')
    now = isotime()
    for name, distro, size, disk_format, min_disk, min_ram in SEED:
        iid = image_id(name)
        image = _new(iid, name, owner, now)
        image.update({
            'status': 'active', 'visibility': 'public', 'size': size,
            'virtual_size': size * 2 if disk_format == 'qcow2' else size,
            'disk_format': disk_format, 'container_format': 'bare',
            'min_disk': min_disk, 'min_ram': min_ram,
            'checksum': hashlib.md5(name.encode()).hexdigest(),
            'os_hash_algo': 'sha512',
            'os_hash_value': hashlib.sha512(name.encode()).hexdigest(),
        })
        if distro:
            image['os_distro'] = distro
        images[iid] = image


def _new(iid, name, owner, now):
    return {
        'id': iid, 'name': name, 'status': 'queued', 'visibility': 'shared',
        'protected': False, 'os_hidden': False, 'checksum': None, 'os_hash_algo': None,
        'os_hash_value': None, 'owner': owner, 'size': None, 'virtual_size': None,
        'min_ram': 0, 'min_disk': 0, 'disk_format': None, 'container_format': None,
        'created_at': now, 'updated_at': now, 'tags': [],
        'self': f'/v2/images/{iid}', 'file': f'/v2/images/{iid}/file',
        'schema': '/v2/schemas/image', 'project_id': owner,
    }


def render(image):
    return {k: (list(v) if isinstance(v, list) else v) for k, v in image.items()
            if not k.startswith('_') and k != 'project_id'}


# -- discovery --------------------------------------------------------------
def versions(sim, req):
    href = f'{sim.url}/image/v2/'
    out = [{'id': f'v2.{minor}', 'status': 'CURRENT' if minor == 16 else 'SUPPORTED',
            'links': [{'rel': 'self', 'href': href}]} for minor in range(16, -1, -1)]
    return 300, {'versions': out}


# -- access -----------------------------------------------------------------
def _visible(image, ctx):
    if ctx.is_admin or image['owner'] == ctx.project_id:
        return True
    return image['visibility'] in ('public', 'community')


def _get(sim, req, image_id):
    image = sim.state.table('images').get(image_id)
    if image is None or not _visible(image, req.context):
        raise errors.glance(404, f'No image found with ID {image_id}')
    return image


def _listed(image, ctx, visibility):
    """Glance's default listing: public, owned and shared; not others' community."""
    owned = image['owner'] == ctx.project_id
    if visibility == 'all':
        return _visible(image, ctx)
    if visibility is not None:
        return image['visibility'] == visibility and _visible(image, ctx)
    if image['visibility'] == 'community':
        return owned
    return ctx.is_admin or owned or image['visibility'] == 'public'


# -- list -------------------------------------------------------------------
def _value_filter(value):
    """Glance's ``in:a,b`` operator, else an exact value."""
    if value.startswith('in:'):
        return {v.strip().strip('"') for v in value[3:].split(',')}
    return {value}


def _bool(value, name):
    lowered = value.lower()
    if lowered in ('true', '1', 'yes', 'on'):
        return True
    if lowered in ('false', '0', 'no', 'off'):
        return False
    raise errors.glance(400, f'Invalid value for {name}: {value}')


def _sort_spec(req):
    keys, dirs = [], []
    sort = req.arg('sort')
    if sort is not None:
        if req.arg('sort_key') or req.arg('sort_dir'):
            raise errors.glance(400, 'The "sort" param cannot be used with '
                                     '"sort_key" and "sort_dir".')
        for part in sort.split(','):
            key, _, direction = part.strip().partition(':')
            keys.append(key)
            dirs.append(direction or 'desc')
    else:
        keys = req.args('sort_key') or ['created_at']
        dirs = req.args('sort_dir') or ['desc']
        dirs = dirs + [dirs[-1]] * (len(keys) - len(dirs))
    for key in keys:
        if key not in SORT_KEYS:
            raise errors.glance(400, f'Invalid sort key: {key}. It should be one of the '
                                     f'following: {", ".join(SORT_KEYS)}.')
    for direction in dirs:
        if direction not in ('asc', 'desc'):
            raise errors.glance(400, f'Invalid sort direction: {direction}')
    if 'id' not in keys:
        keys.append('id')
        dirs.append(dirs[-1] if dirs else 'desc')
    return list(zip(keys, dirs))


def _sorted(images, spec):
    out = list(images)
    for key, direction in reversed(spec):
        out.sort(key=lambda i, k=key: (i.get(k) is None, i.get(k) if i.get(k) is not None
                                       else ''), reverse=(direction == 'desc'))
    return out


_SPECIAL = {'limit', 'marker', 'sort', 'sort_key', 'sort_dir', 'visibility', 'tag',
            'size_min', 'size_max', 'member_status', 'protected', 'os_hidden'}


def list_images(sim, req):
    ctx = req.context
    limit = min(req.int_arg('limit', errors.glance, LIMIT_DEFAULT), LIMIT_MAX)
    marker = req.arg('marker')
    visibility = req.arg('visibility')
    if visibility is not None and visibility not in VISIBILITIES + ('all',):
        raise errors.glance(400, f'Invalid visibility value: {visibility}')
    spec = _sort_spec(req)
    tags = req.query.get('tag', [])
    size_min = req.int_arg('size_min', errors.glance, None)
    size_max = req.int_arg('size_max', errors.glance, None)
    hidden = req.arg('os_hidden')
    hidden = False if hidden is None else _bool(hidden, 'os_hidden')
    protected = req.arg('protected')
    protected = None if protected is None else _bool(protected, 'protected')
    exact = {k: _value_filter(v[-1]) for k, v in req.query.items()
             if k not in _SPECIAL and v}
    found = []
    for image in sim.state.table('images').values():
        if not _listed(image, ctx, visibility):
            continue
        if image.get('os_hidden', False) != hidden:
            continue
        if protected is not None and image.get('protected') != protected:
            continue
        if any(t not in image['tags'] for t in tags):
            continue
        size = image.get('size')
        if size_min is not None and (size is None or size < size_min):
            continue
        if size_max is not None and (size is None or size > size_max):
            continue
        if any(_text(image.get(k)) not in wanted for k, wanted in exact.items()):
            continue
        found.append(image)
    found = _sorted(found, spec)
    if marker is not None:
        ids = [i['id'] for i in found]
        if marker not in ids:
            if marker in sim.state.table('images'):
                found = []
            else:
                raise errors.glance(400, f'No image found with ID {marker}')
        else:
            found = found[ids.index(marker) + 1:]
    page = found[:limit]
    params = [(k, v) for k, vs in req.query.items() if k != 'marker' for v in vs]
    body = {'images': [render(i) for i in page], 'first': '/v2/images',
            'schema': '/v2/schemas/images'}
    if params:
        body['first'] += '?' + urlencode(params)
    if page and len(page) == limit:
        body['next'] = '/v2/images?' + urlencode(params + [('marker', page[-1]['id'])])
    return body


def _text(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return None if value is None else str(value)


def show_image(sim, req, image_id):
    return render(_get(sim, req, image_id))


# -- create / update / delete -----------------------------------------------
def _check_attrs(body, creating):
    for key, value in body.items():
        if creating and key in READ_ONLY and key != 'id':
            raise errors.glance(403, f'Attribute \'{key}\' is read-only.')
        if key == 'visibility' and value not in VISIBILITIES:
            raise errors.glance(400, f"Invalid visibility value: {value}")
        if key == 'disk_format' and value is not None and value not in DISK_FORMATS:
            raise errors.glance(400, f"Invalid value '{value}' for parameter 'disk_format': "
                                     f"{value!r} is not one of {list(DISK_FORMATS)}")
        if (key == 'container_format' and value is not None
                and value not in CONTAINER_FORMATS):
            raise errors.glance(400, f"Invalid value '{value}' for parameter "
                                     f"'container_format': {value!r} is not one of "
                                     f"{list(CONTAINER_FORMATS)}")
        if key in ('min_disk', 'min_ram') and (not isinstance(value, int)
                                                or isinstance(value, bool) or value < 0):
            raise errors.glance(400, f"Invalid value for '{key}': {value!r}")
        if key in ('protected', 'os_hidden') and not isinstance(value, bool):
            raise errors.glance(400, f"Invalid value for '{key}': {value!r}")
        if key == 'tags' and (not isinstance(value, list)
                              or not all(isinstance(t, str) for t in value)):
            raise errors.glance(400, "Invalid value for 'tags'")
        if key == 'name' and value is not None and (not isinstance(value, str)
                                                    or len(value) > 255):
            raise errors.glance(400, "Invalid value for 'name'")
        if key not in CORE and not isinstance(value, str):
            raise errors.glance(400, f"Invalid value for extra property '{key}': "
                                     f"{value!r} is not of type 'string'")


def create_image(sim, req):
    body = req.body
    if not isinstance(body, dict):
        raise errors.glance(400, 'Request body must be a JSON object')
    _check_attrs(body, creating=True)
    iid = body.get('id') or str(uuid.uuid4())
    try:
        uuid.UUID(str(iid))
    except ValueError:
        raise errors.glance(400, f"Invalid value for 'id': {iid!r} is not a valid UUID")
    images = sim.state.table('images')
    if iid in images:
        raise errors.glance(409, f'An image with identifier {iid} already exists')
    image = _new(iid, body.get('name'), req.context.project_id, isotime())
    for key, value in body.items():
        if key != 'id':
            image[key] = sorted(set(value)) if key == 'tags' else value
    if 'visibility' not in body:
        image['visibility'] = 'shared'
    if image['visibility'] == 'public' and not req.context.is_admin:
        raise errors.glance(403, 'You are not authorized to complete publicize_image '
                                 'action.')
    images[iid] = image
    return 201, render(image), {'Location': f'{sim.url}/image/v2/images/{iid}',
                                'OpenStack-image-import-methods': ','.join(IMPORT_METHODS)}


def _writable(sim, req, image_id):
    image = _get(sim, req, image_id)
    if image['owner'] != req.context.project_id and not req.context.is_admin:
        raise errors.glance(403, 'You are not permitted to modify this image.')
    return image


_PATCH_TYPES = ('application/openstack-images-v2.1-json-patch',
                'application/openstack-images-v2.0-json-patch')


def update_image(sim, req, image_id):
    """PATCH with a JSON patch (add/replace/remove of top-level attributes)."""
    ctype = (req.headers.get('Content-Type') or '').split(';')[0].strip()
    if ctype not in _PATCH_TYPES:
        raise errors.glance(415, f'Unsupported Content-Type: {ctype or None}')
    image = _writable(sim, req, image_id)
    ops = req.body
    if not isinstance(ops, list):
        raise errors.glance(400, 'Expected a list of JSON patch operations.')
    changed = dict(image)
    for op in ops:
        if not isinstance(op, dict) or op.get('op') not in ('add', 'replace', 'remove'):
            raise errors.glance(400, f'Unable to change attributes: invalid operation '
                                     f'{op!r}')
        path = op.get('path')
        if not isinstance(path, str) or not path.startswith('/') or '/' in path[1:]:
            raise errors.glance(400, f'Invalid JSON pointer for this resource: {path!r}')
        key = path[1:]
        if key in READ_ONLY:
            raise errors.glance(403, f'Attribute \'{key}\' is read-only.')
        if op['op'] == 'remove':
            if key in CORE:
                raise errors.glance(403, f'Attribute \'{key}\' is reserved.')
            if key not in changed:
                raise errors.glance(409, f'Property {key} does not exist.')
            del changed[key]
        else:
            if 'value' not in op:
                raise errors.glance(400, 'Operation objects must contain exactly one '
                                         'member named "value".')
            _check_attrs({key: op['value']}, creating=False)
            if op['op'] == 'replace' and key not in changed:
                raise errors.glance(409, f'Property {key} does not exist.')
            changed[key] = sorted(set(op['value'])) if key == 'tags' else op['value']
    changed['updated_at'] = isotime()
    image.clear()
    image.update(changed)
    return render(image)


def delete_image(sim, req, image_id):
    image = _writable(sim, req, image_id)
    if image.get('protected'):
        raise errors.glance(403, f'Image {image_id} is protected and cannot be deleted.')
    del sim.state.table('images')[image_id]
    sim.state.drop_blob(image_id)
    sim.state.drop_blob(_staged_key(image_id))
    return 204, None


def _staged_key(image_id):
    return f'{image_id}.staged'



def add_tag(sim, req, image_id, tag):
    image = _writable(sim, req, image_id)
    if tag not in image['tags']:
        image['tags'] = sorted(image['tags'] + [tag])
        image['updated_at'] = isotime()
    return 204, None


def remove_tag(sim, req, image_id, tag):
    image = _writable(sim, req, image_id)
    if tag not in image['tags']:
        raise errors.glance(404, f'Tag {tag} not found.')
    image['tags'] = [t for t in image['tags'] if t != tag]
    image['updated_at'] = isotime()
    return 204, None


def image_schema(sim, req):
    props = {name: {'type': ['null', 'string']} for name in CORE}
    return {'name': 'image', 'properties': props, 'additionalProperties':
            {'type': 'string'}, 'links': [{'rel': 'self', 'href': '{self}'}]}
