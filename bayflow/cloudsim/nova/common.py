"""Nova's shared parts: constants, error bodies, microversion negotiation,
parsing helpers, paging and the server state helpers every module uses."""

import re
import time
from datetime import datetime, timezone
from urllib.parse import unquote, urlencode

from bayflow.cloudsim import errors
from bayflow.cloudsim.router import as_response
from bayflow.cloudsim.state import isotime

# -- constants ---------------------------------------------------------------
MIN_VERSION = (2, 1)
MAX_VERSION = (2, 96)
PREFIX = '/compute/v2.1'
AZ = 'nova'
HOST = 'sim-compute'
NODE = 'sim-compute.localdomain'
DEVICE_OWNER = f'compute:{AZ}'
MAX_LIMIT = 1000                 # nova's [api] max_limit
MAX_TAGS = 50                    # nova.objects.instance.MAX_TAG_COUNT
DELETE_FRACTION = 0.25           # a delete takes boot_seconds * this
NO_VALID_HOST = 'No valid host was found. There are not enough hosts available.'
VARY = 'OpenStack-API-Version, X-OpenStack-Nova-API-Version'

# Nova's classic flavors: (flavorid, name, ram MB, vcpus, root disk GB).
FLAVORS = (
    ('1', 'm1.tiny', 512, 1, 1),
    ('2', 'm1.small', 2048, 1, 20),
    ('3', 'm1.medium', 4096, 2, 40),
    ('4', 'm1.large', 8192, 4, 80),
)

# nova/conf/quota.py defaults; with Neutron the nova-network quotas read -1.
DEFAULT_QUOTAS = {
    'instances': 10, 'cores': 20, 'ram': 51200, 'metadata_items': 128,
    'injected_files': 5, 'injected_file_content_bytes': 10240,
    'injected_file_path_bytes': 255, 'key_pairs': 100, 'server_groups': 10,
    'server_group_members': 10,
}
NETWORK_QUOTAS = {'fixed_ips': -1, 'floating_ips': -1, 'security_groups': -1,
                  'security_group_rules': -1}
FILTERED_QUOTAS_236 = ('fixed_ips', 'floating_ips', 'security_groups',
                       'security_group_rules', 'networks')
FILTERED_QUOTAS_257 = FILTERED_QUOTAS_236 + ('injected_files',
                                             'injected_file_content_bytes',
                                             'injected_file_path_bytes')

# nova/api/openstack/common.py _STATE_MAP: vm_state -> task_state -> status.
_STATE_MAP = {
    'active': {'default': 'ACTIVE', 'rebooting': 'REBOOT', 'reboot_pending': 'REBOOT',
               'reboot_started': 'REBOOT', 'rebooting_hard': 'HARD_REBOOT',
               'reboot_pending_hard': 'HARD_REBOOT', 'reboot_started_hard': 'HARD_REBOOT',
               'updating_password': 'PASSWORD', 'rebuilding': 'REBUILD',
               'rebuild_block_device_mapping': 'REBUILD', 'rebuild_spawning': 'REBUILD',
               'migrating': 'MIGRATING', 'resize_prep': 'RESIZE',
               'resize_migrating': 'RESIZE', 'resize_migrated': 'RESIZE',
               'resize_finish': 'RESIZE'},
    'building': {'default': 'BUILD'},
    'stopped': {'default': 'SHUTOFF', 'resize_prep': 'RESIZE',
                'resize_migrating': 'RESIZE', 'resize_migrated': 'RESIZE',
                'resize_finish': 'RESIZE', 'rebuilding': 'REBUILD'},
    'resized': {'default': 'VERIFY_RESIZE', 'resize_reverting': 'REVERT_RESIZE'},
    'paused': {'default': 'PAUSED', 'migrating': 'MIGRATING'},
    'suspended': {'default': 'SUSPENDED'},
    'rescued': {'default': 'RESCUE'},
    'error': {'default': 'ERROR', 'rebuilding': 'REBUILD'},
    'deleted': {'default': 'DELETED'},
    'soft-delete': {'default': 'SOFT_DELETED'},
    'shelved': {'default': 'SHELVED'},
    'shelved_offloaded': {'default': 'SHELVED_OFFLOADED'},
}
_STATUSES = {s for states in _STATE_MAP.values() for s in states.values()}
_PROGRESS_STATUSES = ('ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING')
_POWER = {'nostate': 0, 'running': 1, 'shutdown': 4}
# vm_states that allow volume attach/detach (compute/api.py attach_volume).
_ATTACH_STATES = ('active', 'paused', 'stopped', 'resized', 'soft-delete', 'shelved',
                  'shelved_offloaded')
_METADATA_STATES = ('active', 'paused', 'suspended', 'stopped')
_KEY_TYPES = ('ssh-rsa', 'ssh-dss', 'ssh-ed25519', 'ecdsa-sha2-nistp256',
              'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
              'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com')
_UUID = re.compile(r'^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?'
                   r'[0-9a-fA-F]{12}$')
_VERSION = re.compile(r'^([1-9]\d*)\.([1-9]\d*|0)$')
_METADATA_KEY = re.compile(r'^[a-zA-Z0-9-_:. ]{1,255}$')
_KEYPAIR_NAME = re.compile(r'^[_\- a-zA-Z0-9]+$')
_KEYPAIR_NAME_292 = re.compile(r'^[_\-@. a-zA-Z0-9]+$')
_NAME_REASON = 'printable characters. Can not start or end with whitespace.'
_TRUE = ('1', 't', 'true', 'on', 'y', 'yes')
_FALSE = ('0', 'f', 'false', 'off', 'n', 'no')


# -- errors --------------------------------------------------------------------
def _bad(message):
    return errors.nova(400, message)


def _field(field, value, message):
    """A JSON-schema failure worded as nova's validator words it."""
    return _bad(f'Invalid input for field/attribute {field}. Value: {value}. {message}')


def _forbidden_policy(rule):
    return errors.nova(403, f"Policy doesn't allow {rule} to be performed.")


def _not_found(message='The resource could not be found.'):
    return errors.nova(404, message)


def _server_not_found(server_id):
    return _not_found(f'Instance {server_id} could not be found.')


def _invalid_state(action, server_id, attr, state):
    return errors.nova(409, f"Cannot '{action}' instance {server_id} while it is in "
                            f"{attr} {state}")


# -- microversions -------------------------------------------------------------
def _vstr(version):
    return f'{version[0]}.{version[1]}'


def _version_headers(version):
    return {'OpenStack-API-Version': f'compute {_vstr(version)}',
            'X-OpenStack-Nova-API-Version': _vstr(version), 'Vary': VARY}


def _header_values(headers, name):
    get_all = getattr(headers, 'get_all', None)
    if get_all is not None:
        return get_all(name) or []
    value = headers.get(name)
    return [value] if value is not None else []


def negotiate(headers):
    """The microversion asked for (microversion_parse's rules), as a tuple.

    ``OpenStack-API-Version: compute X`` wins over the legacy
    ``X-OpenStack-Nova-API-Version: X``; no header means 2.1; ``latest`` is
    the maximum. A malformed version is 400, an unsupported one 406.
    """
    value = None
    for raw in _header_values(headers, 'OpenStack-API-Version'):
        for item in raw.split(','):
            parts = item.strip().split(None, 1)
            if len(parts) == 2 and parts[0].lower() == 'compute':
                value = parts[1].strip()
    if value is None:
        legacy = _header_values(headers, 'X-OpenStack-Nova-API-Version')
        if legacy:
            value = legacy[-1].strip()
    if value is None:
        return MIN_VERSION
    if value.lower() == 'latest':
        return MAX_VERSION
    found = _VERSION.match(value)
    if not found:
        raise _bad(f'API Version String {value} is of invalid format. Must be of '
                   f'format MajorNum.MinorNum.')
    version = (int(found.group(1)), int(found.group(2)))
    if not MIN_VERSION <= version <= MAX_VERSION:
        exc = errors.nova(406, f'Version {_vstr(version)} is not supported by the API. '
                               f'Minimum is {_vstr(MIN_VERSION)} and maximum is '
                               f'{_vstr(MAX_VERSION)}.')
        exc.headers.update(_version_headers(version))
        raise exc
    return version


def _versioned(handler, min_version=None):
    """Negotiate the microversion, then echo it on the response (or error)."""
    def wrapped(sim, req, **params):
        version = negotiate(req.headers)
        headers = _version_headers(version)
        req.microversion = version
        try:
            if min_version is not None and version < min_version:
                raise _not_found()
            params = {k: unquote(v) for k, v in params.items()}
            response = as_response(handler(sim, req, **params))
        except errors.ApiError as exc:
            exc.headers = {**headers, **exc.headers}
            raise
        response.headers = {**headers, **(response.headers or {})}
        return response
    wrapped.__name__ = getattr(handler, '__name__', 'handler')
    return wrapped


def _ge(req, major, minor):
    return req.microversion >= (major, minor)


# -- small helpers -------------------------------------------------------------
def _base(sim):
    return sim.url + '/compute'


def _links(sim, collection, ident):
    base = _base(sim)
    return [{'rel': 'self', 'href': f'{base}/v2.1/{collection}/{ident}'},
            {'rel': 'bookmark', 'href': f'{base}/{collection}/{ident}'}]


def _micro(ts=None):
    """A naive timestamp with microseconds, as nova prints datetime columns."""
    return isotime(ts, micro=True)


def _parse_time(value):
    text = value.strip().replace(' ', 'T')
    if text.endswith('Z'):
        text = text[:-1] + '+00:00'
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _bool(value, field=None):
    """oslo strutils.bool_from_string(strict=True), nova's boolean parser."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _bad(f"Unrecognized value '{value}', acceptable values are: "
               f"'0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'")


def _is_uuid(value):
    return isinstance(value, str) and bool(_UUID.match(value))


def _valid_name(value):
    """nova's ``name`` format: printable, no leading or trailing whitespace."""
    return (isinstance(value, str) and value == value.strip() and value != ''
            and value.isprintable())


def _check_name(field, value, required=True, max_length=255):
    if not isinstance(value, str):
        raise _field(field, value, f"{value!r} is not of type 'string'")
    if required and value == '':
        raise _field(field, value, "'' should be non-empty")
    if len(value) > max_length:
        raise _field(field, value, f'{value!r} is too long')
    if not _valid_name(value):
        raise _bad(f"An invalid 'name' value was provided. The name must be: {_NAME_REASON}")


def _href_id(value):
    return str(value).rstrip('/').split('/')[-1]


def _limit_marker(req):
    limit = req.arg('limit')
    if limit is not None:
        try:
            limit = int(limit)
        except ValueError:
            raise _bad('limit param must be an integer')
        if limit < 0:
            raise _bad('limit param must be positive')
        limit = min(limit, MAX_LIMIT)
    marker = req.arg('marker')
    return limit, marker


def _page(items, limit, marker, key):
    """Items after ``marker`` (400 when unknown), at most ``limit`` of them."""
    if marker is not None:
        for pos, item in enumerate(items):
            if key(item) == marker:
                items = items[pos + 1:]
                break
        else:
            raise _bad(f'marker [{marker}] not found')
    effective = MAX_LIMIT if limit is None else limit
    return items[:effective], effective


def _paged(sim, req, items, collection, path, render, key=lambda item: item['id']):
    """``{collection: [...], collection_links: [next]}`` for one page of ``items``."""
    limit, marker = _limit_marker(req)
    page, effective = _page(items, limit, marker, key=key)
    body = {collection: [render(item) for item in page]}
    links = _next_links(sim, req, path, page, effective, key(page[-1]) if page else None)
    if links:
        body[f'{collection}_links'] = links
    return body


def _next_links(sim, req, path, page, effective, last_id):
    if not effective or len(page) != effective:
        return None
    params = {k: v[-1] for k, v in sorted(req.query.items())}
    params['marker'] = last_id
    return [{'rel': 'next', 'href': f'{_base(sim)}/v2.1/{path}?{urlencode(params)}'}]


# -- servers: lookup and rendering ---------------------------------------------------
def _status(server):
    states = _STATE_MAP.get(server['vm_state'], {'default': 'UNKNOWN'})
    return states.get(server['task_state'] or 'default', states['default'])


def _set_state(server, at, vm_state=None, task_state=None, power_state=None):
    if vm_state is not None:
        server['vm_state'] = vm_state
    server['task_state'] = task_state
    if power_state is not None:
        server['power_state'] = power_state
    server['status'] = _status(server)
    _touch(server, at)


def _touch(server, at=None):
    at = time.time() if at is None else at
    server['updated'], server['_updated_ts'] = isotime(at), at


def _get_server(sim, req, server_id):
    server = sim.state.table('servers').get(server_id)
    if server is None or (server['project_id'] != req.context.project_id
                          and not req.context.is_admin):
        raise _server_not_found(server_id)
    return server


def _check_lock(req, server):
    if server['locked'] and not req.context.is_admin:
        raise errors.nova(409, f"Instance {server['id']} is locked")


def _require_state(server, action, vm_states, task_none=True):
    if server['vm_state'] not in vm_states:
        raise _invalid_state(action, server['id'], 'vm_state', server['vm_state'])
    if task_none and server['task_state'] is not None:
        raise _invalid_state(action, server['id'], 'task_state', server['task_state'])


def _unexpected(extra):
    """jsonschema's wording for keys a schema does not allow."""
    return ('Additional properties are not allowed (' + ', '.join(repr(e) for e in extra)
            + (' was' if len(extra) == 1 else ' were') + ' unexpected)')


def _extra_error(field, value, extra):
    return _field(field, value, _unexpected(extra))


def _wrapped(req, key, allowed, since=()):
    """The ``key`` object of the request body, holding only ``allowed`` keys
    plus those of ``since`` ((major, minor), key) the microversion reaches."""
    body = req.body
    if not isinstance(body, dict) or key not in body:
        raise _bad(f"'{key}' is a required property")
    spec = body[key]
    if not isinstance(spec, dict):
        raise _field(key, spec, f"{spec!r} is not of type 'object'")
    allowed = set(allowed) | {name for version, name in since if req.microversion >= version}
    extra = sorted(set(spec) - allowed)
    if extra:
        raise _extra_error(key, spec, extra)
    return spec


def _positive_int(field, raw):
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _field(field, raw, f"{raw!r} is not of type 'integer', 'string'")
    if isinstance(raw, bool) or value < 1:
        raise _field(field, raw, f'{raw!r} is less than the minimum of 1')
    return value


def _visible_image(state, ctx, image_id):
    image = state.table('images').get(image_id)
    if image is None:
        return None
    if ctx.is_admin or image.get('owner', image.get('project_id')) == ctx.project_id:
        return image
    if image.get('visibility', 'public') in ('public', 'community'):
        return image
    return None


# -- time-driven transitions ---------------------------------------------------
def _busy(server):
    """True while the server or one of its volume mappings has a step to take."""
    return server.get('_next') is not None or any(
        b.get('_step') for b in server.get('_bdms') or ())


def _pending(state):
    """Ids of busy servers."""
    return state.watch('servers', _busy)


def _schedule(state, server, kind, at):
    server['_next'], server['_next_kind'] = at, kind
    _pending(state).add(server['id'])


def _schedule_bdm(state, server, bdm, kind, at, **extra):
    """A volume mapping's next step (attach, detach, swap) at ``at``."""
    bdm['_step'] = {'at': at, 'kind': kind, **extra}
    _pending(state).add(server['id'])
