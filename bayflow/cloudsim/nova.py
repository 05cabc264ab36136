"""Nova v2.1: microversions 2.1-2.96, servers, flavors, keypairs, quotas,
limits, volume attachments, server metadata and tags.

Modelled on nova 34.0.0 (``nova/api/openstack/compute/``): the status codes,
the ``{"itemNotFound": {"code", "message"}}`` error bodies and messages, the
microversion negotiation (both headers, echoed with ``Vary``; unsupported
versions are 406) and the response shapes that change with the microversion.

Servers live in ``state.table('servers')`` as one canonical record (public
keys: what ``/_sim/resources`` lists) that each request renders for its
microversion and its caller (admin-only fields). Private ``_`` keys hold the
build plan: requested networks, resolved security groups, ports, block
devices and the next time-driven transition (``_next`` / ``_next_kind``).
Transitions (BUILD scheduling -> networking -> spawning -> ACTIVE, ERROR on a
``build_error`` fault, deleting -> gone, stop/start/reboot) are applied by the
advancer before each request; only servers with a pending transition are
visited.

Ports come from Neutron's helpers (``neutron.create_port`` / ``bind_port`` /
``unbind_port`` / ``delete_port`` / ``server_addresses`` / ``get_network`` /
``find_security_group``); volumes are Cinder's records, whose ``status`` and
``attachments`` Nova updates on attach and detach (the agreed contract).
"""

import base64
import binascii
import hashlib
import ipaddress
import logging
import random
import re
import string
import struct
import time
from datetime import datetime, timezone
from urllib.parse import unquote, urlencode

from bayflow.cloudsim import errors, neutron
from bayflow.cloudsim.router import Response
from bayflow.cloudsim.state import isotime, new_id

LOG = logging.getLogger(__name__)

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


def _as_response(result):
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        return Response(*result)
    return Response(200, result)


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
            response = _as_response(handler(sim, req, **params))
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


def _next_links(sim, req, path, page, effective, last_id):
    if not effective or len(page) != effective:
        return None
    params = {k: v[-1] for k, v in sorted(req.query.items())}
    params['marker'] = last_id
    return [{'rel': 'next', 'href': f'{_base(sim)}/v2.1/{path}?{urlencode(params)}'}]


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
            raise _field(field, metadata, 'Additional properties are not allowed '
                                          f'({key!r} was unexpected)')
        if not isinstance(value, str):
            raise _field(key, value, f"{value!r} is not of type 'string'")
        if len(value) > 255:
            raise _field(key, value, f'{value!r} is too long')
    allowed = _limits(state, project_id)['metadata_items']
    if 0 <= allowed < len(metadata):
        raise errors.nova(403, f'Maximum number of metadata items exceeds {allowed}')


# -- seed ----------------------------------------------------------------------
def _ssh_string(data):
    return struct.pack('>I', len(data)) + data


def _ssh_mpint(number):
    return _ssh_string(number.to_bytes((number.bit_length() + 8) // 8, 'big'))


def _seed_public_key():
    """A deterministic, well-formed ssh-rsa public key (2048-bit modulus)."""
    digest, out = b'bayflow-cloudsim-testkey', b''
    while len(out) < 256:
        digest = hashlib.sha512(digest).digest()
        out += digest
    modulus = int.from_bytes(out[:256], 'big') | (1 << 2047) | 1
    blob = _ssh_string(b'ssh-rsa') + _ssh_mpint(65537) + _ssh_mpint(modulus)
    return 'ssh-rsa ' + base64.b64encode(blob).decode() + ' testkey@cloudsim'


SEED_PUBLIC_KEY = _seed_public_key()


def fingerprint(public_key):
    """The MD5 fingerprint of an OpenSSH public key (ValueError when invalid)."""
    parts = public_key.strip().split() if isinstance(public_key, str) else []
    if len(parts) < 2 or parts[0] not in _KEY_TYPES:
        raise ValueError('not an OpenSSH public key')
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError('bad base64')
    if len(blob) < 4:
        raise ValueError('short key')
    (length,) = struct.unpack('>I', blob[:4])
    if blob[4:4 + length].decode('ascii', 'replace') != parts[0]:
        raise ValueError('key type mismatch')
    digest = hashlib.md5(blob).hexdigest()
    return ':'.join(digest[i:i + 2] for i in range(0, len(digest), 2))


def _generate_key_pair():
    """(private PEM, public OpenSSH, fingerprint), as nova.crypto makes them."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    public += ' Generated-by-Nova'
    return private, public, fingerprint(public)


def seed(state):
    now = time.time()
    flavors = state.table('flavors')
    for flavorid, name, ram, vcpus, disk in FLAVORS:
        flavors[flavorid] = _new_flavor(flavorid, name, ram, vcpus, disk, now)
    demo = next((u for u in state.table('users').values() if u['name'] == 'demo'), None)
    if demo is not None:
        _store_keypair(state, demo['id'], demo.get('_project_id'), 'testkey', 'ssh',
                       SEED_PUBLIC_KEY, now)


def _new_flavor(flavorid, name, ram, vcpus, disk, now, ephemeral=0, swap=0,
                rxtx_factor=1.0, is_public=True, description=None):
    return {'id': flavorid, 'name': name, 'ram': ram, 'vcpus': vcpus, 'disk': disk,
            'ephemeral': ephemeral, 'swap': swap, 'rxtx_factor': rxtx_factor,
            'is_public': is_public, 'disabled': False, 'description': description,
            'extra_specs': {}, 'created_at': _micro(now)}


def _store_keypair(state, user_id, project_id, name, key_type, public_key, now):
    keypairs = state.table('keypairs')
    next_id = 1 + max((k['id'] for k in keypairs.values()), default=0)
    record = {'id': next_id, 'name': name, 'user_id': user_id, 'project_id': project_id,
              'type': key_type, 'public_key': public_key,
              'fingerprint': fingerprint(public_key), 'created_at': _micro(now),
              'updated_at': None, 'deleted_at': None, 'deleted': False}
    keypairs[f'{user_id}/{name}'] = record
    return record


# -- versions --------------------------------------------------------------------
def _v21(sim):
    return {'id': 'v2.1', 'status': 'CURRENT', 'version': _vstr(MAX_VERSION),
            'min_version': _vstr(MIN_VERSION), 'updated': '2013-07-23T11:33:21Z',
            'links': [{'rel': 'self', 'href': f'{_base(sim)}/v2.1/'}]}


def versions(sim, req):
    v20 = {'id': 'v2.0', 'status': 'DEPRECATED', 'version': '', 'min_version': '',
           'updated': '2025-07-04T12:00:00Z',
           'links': [{'rel': 'self', 'href': f'{_base(sim)}/v2/'}]}
    return {'versions': [v20, _v21(sim)]}


def version(sim, req):
    doc = _v21(sim)
    doc['links'].append({'rel': 'describedby', 'type': 'text/html',
                         'href': 'http://docs.openstack.org/'})
    doc['media-types'] = [{'base': 'application/json',
                           'type': 'application/vnd.openstack.compute+json;version=2.1'}]
    return {'version': doc}


def extensions(sim, req):
    return {'extensions': []}


def availability_zones(sim, req):
    return {'availabilityZoneInfo': [{'zoneName': AZ, 'zoneState': {'available': True},
                                      'hosts': None}]}


def availability_zones_detail(sim, req):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-availability-zone:detail')
    service = {'available': True, 'active': True, 'updated_at': _micro()}
    return {'availabilityZoneInfo': [
        {'zoneName': 'internal', 'zoneState': {'available': True},
         'hosts': {'sim-controller': {'nova-conductor': service,
                                      'nova-scheduler': service}}},
        {'zoneName': AZ, 'zoneState': {'available': True},
         'hosts': {HOST: {'nova-compute': service}}}]}


# -- flavors -----------------------------------------------------------------------
def _flavor_view(sim, req, flavor, detail=True):
    out = {'id': flavor['id'], 'name': flavor['name'],
           'links': _links(sim, 'flavors', flavor['id'])}
    if detail:
        out.update({
            'ram': flavor['ram'], 'disk': flavor['disk'],
            'swap': flavor['swap'] if _ge(req, 2, 75) else (flavor['swap'] or ''),
            'OS-FLV-EXT-DATA:ephemeral': flavor['ephemeral'],
            'OS-FLV-DISABLED:disabled': flavor['disabled'],
            'vcpus': flavor['vcpus'],
            'os-flavor-access:is_public': flavor['is_public'],
            'rxtx_factor': flavor['rxtx_factor'] or '',
        })
    if _ge(req, 2, 55):
        out['description'] = flavor['description']
    if detail and _ge(req, 2, 61):
        out['extra_specs'] = dict(flavor['extra_specs'])
    return out


def _get_flavor(sim, req, flavor_id):
    flavor = sim.state.table('flavors').get(flavor_id)
    if flavor is None or not (flavor['is_public'] or req.context.is_admin):
        raise _not_found(f'Flavor {flavor_id} could not be found.')
    return flavor


def _list_flavors(sim, req, detail):
    ctx = req.context
    is_public = True
    if ctx.is_admin:
        raw = req.arg('is_public')
        if raw is not None:
            if raw.strip().lower() == 'none':
                is_public = None
            else:
                try:
                    is_public = _bool(raw)
                except errors.ApiError:
                    raise _bad(f'Invalid is_public filter [{raw}]')
    filters = []
    for param, field in (('minRam', 'ram'), ('minDisk', 'disk')):
        raw = req.arg(param)
        if raw is not None:
            try:
                minimum = int(raw)
            except ValueError:
                raise _bad(f'Invalid {param} filter [{raw}]')
            filters.append((field, minimum))
    flavors = [f for f in sim.state.table('flavors').values()
               if (is_public is None or f['is_public'] == is_public)
               and (ctx.is_admin or not f['disabled'])
               and all(f[field] >= minimum for field, minimum in filters)]
    sort_key = req.arg('sort_key') or 'flavorid'
    field = {'flavorid': 'id', 'memory_mb': 'ram', 'root_gb': 'disk',
             'ephemeral_gb': 'ephemeral'}.get(sort_key, sort_key)
    if flavors and field not in flavors[0]:
        raise _bad('Sort key supplied was not valid.')
    flavors.sort(key=lambda f: (f[field] is None, f[field]),
                 reverse=(req.arg('sort_dir') or 'asc') == 'desc')
    limit, marker = _limit_marker(req)
    page, effective = _page(flavors, limit, marker, key=lambda f: f['id'])
    body = {'flavors': [_flavor_view(sim, req, f, detail) for f in page]}
    links = _next_links(sim, req, 'flavors/detail' if detail else 'flavors', page,
                        effective, page[-1]['id'] if page else None)
    if links:
        body['flavors_links'] = links
    return body


def list_flavors(sim, req):
    return _list_flavors(sim, req, detail=False)


def list_flavors_detail(sim, req):
    return _list_flavors(sim, req, detail=True)


def show_flavor(sim, req, flavor_id):
    return {'flavor': _flavor_view(sim, req, _get_flavor(sim, req, flavor_id))}


def create_flavor(sim, req):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-flavor-manage:create')
    body = req.body if isinstance(req.body, dict) else {}
    spec = body.get('flavor')
    if not isinstance(spec, dict):
        raise _bad("'flavor' is a required property")
    for key in ('name', 'ram', 'vcpus', 'disk'):
        if key not in spec:
            raise _field('flavor', spec, f"'{key}' is a required property")
    _check_name('name', spec['name'])
    values = {}
    for key, minimum in (('ram', 1), ('vcpus', 1), ('disk', 0),
                         ('OS-FLV-EXT-DATA:ephemeral', 0), ('swap', 0)):
        raw = spec.get(key, 0)
        try:
            values[key] = int(raw)
        except (TypeError, ValueError):
            raise _field(key, raw, f"{raw!r} is not of type 'integer', 'string'")
        if values[key] < minimum:
            raise _field(key, raw, f'{raw!r} is less than the minimum of {minimum}')
    flavors = sim.state.table('flavors')
    flavorid = spec.get('id') or new_id()
    flavorid = str(flavorid)
    if any(f['name'] == spec['name'] for f in flavors.values()):
        raise errors.nova(409, f"Flavor with name {spec['name']} already exists.")
    if flavorid in flavors:
        raise errors.nova(409, f'Flavor with ID {flavorid} already exists.')
    flavor = _new_flavor(flavorid, spec['name'], values['ram'], values['vcpus'],
                         values['disk'], time.time(),
                         ephemeral=values['OS-FLV-EXT-DATA:ephemeral'], swap=values['swap'],
                         rxtx_factor=_rxtx(spec.get('rxtx_factor', 1.0)),
                         is_public=_bool(spec.get('os-flavor-access:is_public', True)),
                         description=spec.get('description') if _ge(req, 2, 55) else None)
    flavors[flavorid] = flavor
    return {'flavor': _flavor_view(sim, req, flavor)}


def _rxtx(raw):
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise _field('rxtx_factor', raw, f"{raw!r} is not of type 'number', 'string'")
    if value <= 0:
        raise _field('rxtx_factor', raw, f'{raw!r} is less than the minimum of 0')
    return value


def delete_flavor(sim, req, flavor_id):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-flavor-manage:delete')
    if sim.state.table('flavors').pop(flavor_id, None) is None:
        raise _not_found(f'Flavor {flavor_id} could not be found.')
    return 202, None


def list_extra_specs(sim, req, flavor_id):
    return {'extra_specs': dict(_get_flavor(sim, req, flavor_id)['extra_specs'])}


def show_extra_spec(sim, req, flavor_id, key):
    flavor = _get_flavor(sim, req, flavor_id)
    if key not in flavor['extra_specs']:
        raise _not_found(f'Flavor {flavor_id} has no extra specs with key {key}.')
    return {key: flavor['extra_specs'][key]}


def _extra_specs_body(body):
    specs = body.get('extra_specs') if isinstance(body, dict) else None
    if not isinstance(specs, dict):
        raise _bad("'extra_specs' is a required property")
    for key, value in specs.items():
        if not isinstance(value, (str, int, float, bool)) or not 1 <= len(key) <= 255:
            raise _field(key, value, 'invalid extra spec')
    return {k: str(v) for k, v in specs.items()}


def create_extra_specs(sim, req, flavor_id):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-flavor-extra-specs:create')
    flavor = _get_flavor(sim, req, flavor_id)
    specs = _extra_specs_body(req.body)
    flavor['extra_specs'].update(specs)
    return {'extra_specs': specs}


def update_extra_spec(sim, req, flavor_id, key):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-flavor-extra-specs:update')
    flavor = _get_flavor(sim, req, flavor_id)
    body = req.body if isinstance(req.body, dict) else {}
    if key not in body:
        raise _bad('Request body and URI mismatch')
    if len(body) > 1:
        raise _bad('Request body contains too many items')
    flavor['extra_specs'][key] = str(body[key])
    return {key: flavor['extra_specs'][key]}


def delete_extra_spec(sim, req, flavor_id, key):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-flavor-extra-specs:delete')
    flavor = _get_flavor(sim, req, flavor_id)
    if flavor['extra_specs'].pop(key, None) is None:
        raise _not_found(f'Flavor {flavor_id} has no extra specs with key {key}.')
    return 200, None


# -- keypairs ------------------------------------------------------------------------
def _keypair_view(keypair, fields):
    return {f: keypair[f] for f in fields}


_KP_INDEX = ('name', 'public_key', 'fingerprint')
_KP_CREATE = _KP_INDEX + ('user_id',)
_KP_SHOW = _KP_CREATE + ('created_at', 'deleted', 'deleted_at', 'id', 'updated_at')


def _keypair_user(req, for_create=False, body=None):
    """The user a keypair call acts for (``user_id`` from 2.10, admin only)."""
    ctx = req.context
    user_id = None
    if _ge(req, 2, 10):
        user_id = (body or {}).get('user_id') if for_create else req.arg('user_id')
    if user_id and user_id != ctx.user_id and not ctx.is_admin:
        action = 'create' if for_create else ('index' if req.method == 'GET' else 'delete')
        raise _forbidden_policy(f'os_compute_api:os-keypairs:{action}')
    return user_id or ctx.user_id


def _get_keypair(sim, user_id, name):
    keypair = sim.state.table('keypairs').get(f'{user_id}/{name}')
    if keypair is None:
        raise _not_found(f'Keypair {name} not found for user {user_id}')
    return keypair


def list_keypairs(sim, req):
    user_id = _keypair_user(req)
    keypairs = sorted((k for k in sim.state.table('keypairs').values()
                       if k['user_id'] == user_id), key=lambda k: k['name'])
    fields = _KP_INDEX + (('type',) if _ge(req, 2, 2) else ())
    links = None
    if _ge(req, 2, 35):
        limit, marker = _limit_marker(req)
        keypairs, effective = _page(keypairs, limit, marker, key=lambda k: k['name'])
        links = _next_links(sim, req, 'os-keypairs', keypairs, effective,
                            keypairs[-1]['name'] if keypairs else None)
    body = {'keypairs': [{'keypair': _keypair_view(k, fields)} for k in keypairs]}
    if links:
        body['keypairs_links'] = links
    return body


def show_keypair(sim, req, name):
    keypair = _get_keypair(sim, _keypair_user(req), name)
    return {'keypair': _keypair_view(keypair, _KP_SHOW + (('type',) if _ge(req, 2, 2)
                                                          else ()))}


def create_keypair(sim, req):
    body = req.body
    if not isinstance(body, dict) or 'keypair' not in body:
        raise _bad("'keypair' is a required property")
    spec = body['keypair']
    if not isinstance(spec, dict):
        raise _field('keypair', spec, f"{spec!r} is not of type 'object'")
    allowed = {'name', 'public_key'}
    if _ge(req, 2, 2):
        allowed.add('type')
    if _ge(req, 2, 10):
        allowed.add('user_id')
    extra = sorted(set(spec) - allowed)
    if extra:
        raise _field('keypair', spec, 'Additional properties are not allowed ('
                     + ', '.join(repr(e) for e in extra)
                     + (' was' if len(extra) == 1 else ' were') + ' unexpected)')
    if 'name' not in spec:
        raise _field('keypair', spec, "'name' is a required property")
    if _ge(req, 2, 92) and 'public_key' not in spec:
        raise _field('keypair', spec, "'public_key' is a required property")
    name = spec['name']
    _check_name('name', name)
    pattern = _KEYPAIR_NAME_292 if _ge(req, 2, 92) else _KEYPAIR_NAME
    if not pattern.match(name):
        raise _field('name', name, f'{name!r} does not match {pattern.pattern!r}')
    key_type = spec.get('type', 'ssh')
    if key_type not in ('ssh', 'x509'):
        raise _field('type', key_type, f"{key_type!r} is not one of ['ssh', 'x509']")
    if key_type == 'x509':
        raise _bad('Keypair data is invalid: x509 keypairs are not modelled by the '
                   'simulator')
    user_id = _keypair_user(req, for_create=True, body=spec)
    ctx = req.context
    state = sim.state
    project_id = ctx.project_id
    if user_id != ctx.user_id:
        user = state.table('users').get(user_id)
        project_id = user.get('_project_id') if user else None

    def check_quota():
        allowed_pairs = _limits(state, ctx.project_id)['key_pairs']
        used = sum(1 for k in state.table('keypairs').values() if k['user_id'] == user_id)
        if 0 <= allowed_pairs <= used:
            raise errors.nova(403, 'Quota exceeded, too many key pairs.')

    check_quota()
    private_key = None
    if 'public_key' in spec:
        public_key = spec['public_key']
        try:
            fingerprint(public_key)
        except ValueError:
            raise _bad('Keypair data is invalid: failed to generate fingerprint')
    else:
        # Key generation takes tens of milliseconds: let other requests run
        # meanwhile (the handler holds the state lock exactly once here).
        state.lock.release()
        try:
            private_key, public_key, _ = _generate_key_pair()
        finally:
            state.lock.acquire()
        check_quota()
    if f'{user_id}/{name}' in state.table('keypairs'):
        raise errors.nova(409, f"Key pair '{name}' already exists.")
    keypair = _store_keypair(state, user_id, project_id, name, key_type, public_key,
                             time.time())
    fields = (('private_key',) if private_key else ()) + \
        (('type',) if _ge(req, 2, 2) else ()) + _KP_CREATE
    view = _keypair_view({**keypair, 'private_key': private_key}, fields)
    return (201 if _ge(req, 2, 2) else 200), {'keypair': view}


def delete_keypair(sim, req, name):
    user_id = _keypair_user(req)
    _get_keypair(sim, user_id, name)
    del sim.state.table('keypairs')[f'{user_id}/{name}']
    return (204 if _ge(req, 2, 2) else 202), None


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
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get('quota_set'), dict):
        raise _bad("'quota_set' is a required property")
    spec = body['quota_set']
    settable = set(_quota_values(DEFAULT_QUOTAS, req)) | {'force'}
    if not _ge(req, 2, 36):
        settable |= set(NETWORK_QUOTAS) | {'networks'}
    extra = sorted(set(spec) - settable)
    if extra:
        raise _field('quota_set', spec, 'Additional properties are not allowed ('
                     + ', '.join(repr(e) for e in extra)
                     + (' was' if len(extra) == 1 else ' were') + ' unexpected)')
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


def _addresses(state, server, extended=True):
    try:
        addresses = neutron.server_addresses(state, server['id']) or {}
    except errors.ApiError:
        addresses = {}
    if extended:
        return addresses
    return {net: [{'addr': a['addr'], 'version': a['version']} for a in items]
            for net, items in addresses.items()}


def _security_group_names(state, server):
    ports, groups = state.table('ports'), state.table('security_groups')
    names = []
    for entry in server.get('_ports') or ():
        port = ports.get(entry['id'])
        for sg_id in (port or {}).get('security_groups') or ():
            name = (groups.get(sg_id) or {}).get('name', sg_id)
            if name not in names:
                names.append(name)
    return names


def _host_id(server):
    if not server.get('host'):
        return ''
    return hashlib.sha224((server['project_id'] + server['host']).encode()).hexdigest()


def _flavor_ref(sim, req, server):
    flavor = server['flavor']
    if _ge(req, 2, 47):
        return {'vcpus': flavor['vcpus'], 'ram': flavor['ram'], 'disk': flavor['disk'],
                'ephemeral': flavor['ephemeral'], 'swap': flavor['swap'],
                'original_name': flavor['original_name'],
                'extra_specs': dict(flavor['extra_specs'])}
    return {'id': flavor['id'],
            'links': [{'rel': 'bookmark', 'href': f"{_base(sim)}/flavors/{flavor['id']}"}]}


def _image_ref(sim, server):
    if not server.get('image_id'):
        return ''
    return {'id': server['image_id'],
            'links': [{'rel': 'bookmark',
                       'href': f"{_base(sim)}/images/{server['image_id']}"}]}


def _server_view(sim, req, server, show_groups=False, full=True):
    """GET /servers/{id} (``full``) or the pre-2.75 PUT response (not ``full``)."""
    state, admin = sim.state, req.context.is_admin
    status = _status(server)
    out = {
        'accessIPv4': server['access_ipv4'] or '',
        'accessIPv6': server['access_ipv6'] or '',
        'addresses': ({} if server['vm_state'] == 'building'
                      else _addresses(state, server, extended=full)),
        'created': server['created'],
        'flavor': _flavor_ref(sim, req, server),
        'hostId': _host_id(server),
        'id': server['id'],
        'image': _image_ref(sim, server),
        'links': _links(sim, 'servers', server['id']),
        'metadata': dict(server['metadata']),
        'name': server['name'],
        'status': status,
        'tenant_id': server['project_id'],
        'user_id': server['user_id'],
        'updated': server['updated'],
        'OS-DCF:diskConfig': server['disk_config'],
    }
    if status in ('ERROR', 'DELETED') and server.get('fault'):
        fault = dict(server['fault'])
        if not admin and fault.get('code') == 500:
            fault.pop('details', None)
        out['fault'] = fault
    if status in _PROGRESS_STATUSES:
        out['progress'] = server.get('progress', 0)
    if full:
        out['OS-EXT-AZ:availability_zone'] = server['availability_zone'] or ''
        out['config_drive'] = server['config_drive']
        out['key_name'] = server['key_name']
        out['OS-SRV-USG:launched_at'] = server['launched_at']
        out['OS-SRV-USG:terminated_at'] = None
        groups = _security_group_names(state, server)
        if groups:
            out['security_groups'] = [{'name': n} for n in groups]
        if admin:
            out['OS-EXT-SRV-ATTR:host'] = server['host']
            out['OS-EXT-SRV-ATTR:instance_name'] = server['instance_name']
            out['OS-EXT-SRV-ATTR:hypervisor_hostname'] = server['node']
            if _ge(req, 2, 3):
                out.update({
                    'OS-EXT-SRV-ATTR:hostname': server['hostname'],
                    'OS-EXT-SRV-ATTR:kernel_id': '',
                    'OS-EXT-SRV-ATTR:launch_index': server['launch_index'],
                    'OS-EXT-SRV-ATTR:ramdisk_id': '',
                    'OS-EXT-SRV-ATTR:reservation_id': server['reservation_id'],
                    'OS-EXT-SRV-ATTR:root_device_name': server['root_device_name'],
                    'OS-EXT-SRV-ATTR:user_data': server['user_data'],
                })
        out['OS-EXT-STS:task_state'] = server['task_state']
        out['OS-EXT-STS:vm_state'] = server['vm_state']
        out['OS-EXT-STS:power_state'] = server['power_state']
        attached = []
        for bdm in server.get('_bdms') or ():
            item = {'id': bdm['volume_id']}
            if _ge(req, 2, 3):
                item['delete_on_termination'] = bdm['delete_on_termination']
            attached.append(item)
        out['os-extended-volumes:volumes_attached'] = attached
    if _ge(req, 2, 9):
        out['locked'] = bool(server['locked'])
    if full and admin and _ge(req, 2, 16):
        out['host_status'] = 'UP' if server['host'] else ''
    if _ge(req, 2, 19):
        out['description'] = server['description']
    if _ge(req, 2, 26):
        out['tags'] = list(server['tags'])
    if _ge(req, 2, 63):
        out['trusted_image_certificates'] = server['trusted_image_certificates']
    if show_groups and _ge(req, 2, 71):
        out['server_groups'] = []
    if _ge(req, 2, 73):
        out['locked_reason'] = server['locked_reason']
    if _ge(req, 2, 90) and not admin:
        out['OS-EXT-SRV-ATTR:hostname'] = server['hostname']
    if full and _ge(req, 2, 96):
        out['pinned_availability_zone'] = server['pinned_availability_zone']
    return out


# -- servers: list ------------------------------------------------------------------
_TAG_FILTERS = ('tags', 'tags-any', 'not-tags', 'not-tags-any')
_INDEX_QUERY = {
    'user_id', 'project_id', 'tenant_id', 'launch_index', 'image_ref', 'image', 'kernel_id',
    'ramdisk_id', 'hostname', 'key_name', 'power_state', 'vm_state', 'task_state', 'host',
    'node', 'flavor', 'reservation_id', 'launched_at', 'terminated_at',
    'availability_zone', 'name', 'display_name', 'description', 'display_description',
    'locked_by', 'uuid', 'root_device_name', 'config_drive', 'access_ip_v4',
    'access_ip_v6', 'auto_disk_config', 'progress', 'sort_key', 'sort_dir', 'all_tenants',
    'soft_deleted', 'deleted', 'status', 'changes-since', 'ip', 'ip6', 'created_at',
    'block_device_mapping', 'services', 'metadata', 'system_metadata', 'info_cache',
    'security_groups', 'pci_devices', 'limit', 'marker', 'page_size', 'offset',
}
_JOINED = ('block_device_mapping', 'services', 'metadata', 'system_metadata',
           'info_cache', 'security_groups', 'pci_devices')
_PAGING = ('limit', 'marker', 'sort_key', 'sort_dir', 'page_size', 'offset')
_SORT_FIELDS = {
    'created_at': '_created_ts', 'display_name': 'name', 'uuid': 'id',
    'updated_at': 'updated', 'display_description': 'description',
    'launched_at': 'launched_at', 'key_name': 'key_name', 'vm_state': 'vm_state',
    'task_state': 'task_state', 'power_state': 'power_state', 'user_id': 'user_id',
    'project_id': 'project_id', 'host': 'host', 'node': 'node', 'hostname': 'hostname',
    'availability_zone': 'availability_zone', 'image_ref': 'image_id',
    'access_ip_v4': 'access_ipv4', 'access_ip_v6': 'access_ipv6',
    'config_drive': 'config_drive', 'progress': 'progress', 'locked': 'locked',
    'launch_index': 'launch_index', 'root_device_name': 'root_device_name',
    'locked_by': 'locked_by',
}


def _search_options(req):
    """Filters a non-admin may use (servers.py _get_server_search_options)."""
    opts = {'reservation_id', 'name', 'status', 'image', 'flavor', 'ip', 'changes-since',
            'all_tenants'}
    if _ge(req, 2, 5):
        opts.add('ip6')
    if _ge(req, 2, 26):
        opts.update(_TAG_FILTERS)
    if _ge(req, 2, 66):
        opts.add('changes-before')
    if _ge(req, 2, 73):
        opts.add('locked')
    if _ge(req, 2, 83):
        opts.update(('availability_zone', 'config_drive', 'key_name', 'created_at',
                     'launched_at', 'terminated_at', 'power_state', 'task_state',
                     'vm_state', 'progress', 'user_id'))
    if _ge(req, 2, 90):
        opts.add('hostname')
    return opts


def _regex(value):
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(value), re.IGNORECASE)


def _server_ips(state, server, version):
    for items in _addresses(state, server).values():
        for item in items:
            if item.get('version') == version and item.get('OS-EXT-IPS:type') == 'fixed':
                yield item['addr']


def _filter_servers(sim, req, detail):
    ctx = req.context
    known = set(_INDEX_QUERY)
    if _ge(req, 2, 26):
        known.update(_TAG_FILTERS)
    if _ge(req, 2, 66):
        known.add('changes-before')
    if _ge(req, 2, 73):
        known.add('locked')
    if _ge(req, 2, 75):
        unknown = sorted(k for k in req.query if k not in known and not k.startswith('_'))
        if unknown:
            raise _bad('Additional properties are not allowed ('
                       + ', '.join(repr(u) for u in unknown)
                       + (' was' if len(unknown) == 1 else ' were') + ' unexpected)')
    opts = {k: v for k, v in req.query.items() if k not in _PAGING}
    if not ctx.is_admin:
        allowed = _search_options(req)
        opts = {k: v for k, v in opts.items() if k in allowed}
    for key in opts:
        if key in _JOINED or key.startswith('_'):
            raise _bad(f'Invalid filter field: {key}.')

    def last(key):
        return opts[key][-1]

    checks = []
    if 'status' in opts:
        wanted = {s.upper() for s in opts['status']}
        valid = wanted & _STATUSES
        if not valid:
            if _ge(req, 2, 38):
                raise _bad('Invalid status value')
            return None
        checks.append(lambda s: _status(s) in valid)
    for key in ('changes-since', 'changes-before'):
        if key in opts:
            try:
                stamp = _parse_time(last(key))
            except ValueError:
                raise _bad(f'Invalid filter field: {key}.')
            if key == 'changes-since':
                checks.append(lambda s, t=stamp: s['_updated_ts'] >= t)
            else:
                checks.append(lambda s, t=stamp: s['_updated_ts'] <= t)
    if 'changes-since' in opts and 'changes-before' in opts:
        if _parse_time(last('changes-before')) < _parse_time(last('changes-since')):
            raise _bad('The value of changes-since must be less than or equal to '
                       'changes-before.')
    if 'deleted' in opts:
        try:
            if _bool(last('deleted')):
                return None            # deleted servers are not retained
        except errors.ApiError:
            pass
    for key in ('name', 'display_name'):
        if key in opts:
            pattern = _regex(last(key))
            checks.append(lambda s, p=pattern: bool(p.search(s['name'])))
    for key in ('description', 'display_description'):
        if key in opts:
            pattern = _regex(last(key))
            checks.append(lambda s, p=pattern: bool(p.search(s['description'] or '')))
    for key in ('image', 'image_ref'):
        if key in opts:
            image = _href_id(last(key))
            checks.append(lambda s, i=image: s['image_id'] == i)
    if 'flavor' in opts:
        flavor = _href_id(last('flavor'))
        checks.append(lambda s, f=flavor: s['flavor']['id'] == f)
    for key, version in (('ip', 4), ('ip6', 6)):
        if key in opts:
            pattern = _regex(last(key))
            checks.append(lambda s, p=pattern, v=version: any(
                p.search(a) for a in _server_ips(sim.state, s, v)))
    if _ge(req, 2, 26):
        for key in _TAG_FILTERS:
            if key in opts:
                tags = {t for value in opts[key] for t in value.split(',') if t}
                if key == 'tags':
                    checks.append(lambda s, t=tags: t <= set(s['tags']))
                elif key == 'tags-any':
                    checks.append(lambda s, t=tags: bool(t & set(s['tags'])))
                elif key == 'not-tags':
                    checks.append(lambda s, t=tags: not t <= set(s['tags']))
                else:
                    checks.append(lambda s, t=tags: not t & set(s['tags']))
    if 'locked' in opts:
        locked = _bool(last('locked'))
        checks.append(lambda s, v=locked: bool(s['locked']) == v)
    for key, field in (('key_name', 'key_name'), ('hostname', 'hostname'),
                       ('reservation_id', 'reservation_id'), ('node', 'node'),
                       ('availability_zone', 'availability_zone')):
        if key in opts:
            pattern = _regex(last(key))
            checks.append(lambda s, p=pattern, f=field: bool(p.search(str(s[f] or ''))))
    for key, field in (('vm_state', 'vm_state'), ('task_state', 'task_state'),
                       ('user_id', 'user_id'), ('uuid', 'id'), ('host', 'host')):
        if key in opts:
            values = set(opts[key])
            checks.append(lambda s, v=values, f=field: str(s[f]) in v)
    if 'power_state' in opts:
        values = set(opts['power_state'])
        checks.append(lambda s, v=values: str(s['power_state']) in v)

    all_tenants = False
    if 'all_tenants' in opts:
        raw = last('all_tenants')
        all_tenants = True if raw == '' else _bool(raw)
    if all_tenants:
        if not ctx.is_admin:
            which = 'detail' if detail else 'index'
            raise _forbidden_policy(f'os_compute_api:servers:{which}:get_all_tenants')
        for key in ('project_id', 'tenant_id'):
            if key in opts:
                projects = set(opts[key])
                checks.append(lambda s, p=projects: s['project_id'] in p)
    else:
        checks.append(lambda s, p=ctx.project_id: s['project_id'] == p)
    return checks


def _sorted_servers(req, servers):
    keys = req.query.get('sort_key') or []
    dirs = req.query.get('sort_dir') or []
    pairs = []
    for pos, key in enumerate(keys):
        field = _SORT_FIELDS.get(key)
        if field is None:
            continue                       # nova ignores (or rejects) unknown keys
        direction = dirs[pos] if pos < len(dirs) else (dirs[0] if dirs else 'desc')
        pairs.append((field, direction.lower() != 'asc'))
    if not pairs:
        pairs = [('_created_ts', True)]
    pairs.append(('id', pairs[0][1]))
    for field, reverse in reversed(pairs):
        servers.sort(key=lambda s, f=field: _sort_value(s.get(f)), reverse=reverse)
    return servers


def _sort_value(value):
    # None sorts last ascending (first descending); values of one field share a type.
    return (value is None, '' if value is None else value)


def _list_servers(sim, req, detail):
    checks = _filter_servers(sim, req, detail)
    if checks is None:
        servers = []
    else:
        servers = [s for s in sim.state.table('servers').values()
                   if all(check(s) for check in checks)]
    servers = _sorted_servers(req, servers)
    limit, marker = _limit_marker(req)
    page, effective = _page(servers, limit, marker, key=lambda s: s['id'])
    if detail:
        items = [_server_view(sim, req, s) for s in page]
    else:
        items = [{'id': s['id'], 'name': s['name'],
                  'links': _links(sim, 'servers', s['id'])} for s in page]
    body = {'servers': items}
    links = _next_links(sim, req, 'servers/detail' if detail else 'servers', page,
                        effective, page[-1]['id'] if page else None)
    if links:
        body['servers_links'] = links
    return body


def list_servers(sim, req):
    return _list_servers(sim, req, detail=False)


def list_servers_detail(sim, req):
    return _list_servers(sim, req, detail=True)


def show_server(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    return {'server': _server_view(sim, req, server, show_groups=True)}


# -- servers: create ------------------------------------------------------------------
def _server_keys(req):
    keys = {'name', 'imageRef', 'flavorRef', 'adminPass', 'metadata', 'networks',
            'OS-DCF:diskConfig', 'accessIPv4', 'accessIPv6', 'availability_zone',
            'block_device_mapping', 'block_device_mapping_v2', 'config_drive', 'key_name',
            'min_count', 'max_count', 'return_reservation_id', 'security_groups',
            'user_data'}
    if not _ge(req, 2, 57):
        keys.add('personality')
    if _ge(req, 2, 19):
        keys.add('description')
    if _ge(req, 2, 52):
        keys.add('tags')
    if _ge(req, 2, 63):
        keys.add('trusted_image_certificates')
    if _ge(req, 2, 74):
        keys.update(('host', 'hypervisor_hostname'))
    if _ge(req, 2, 90):
        keys.add('hostname')
    return keys


def _extra_error(field, value, extra):
    return _field(field, value, 'Additional properties are not allowed ('
                  + ', '.join(repr(e) for e in extra)
                  + (' was' if len(extra) == 1 else ' were') + ' unexpected)')


def _positive_int(field, raw):
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _field(field, raw, f"{raw!r} is not of type 'integer', 'string'")
    if isinstance(raw, bool) or value < 1:
        raise _field(field, raw, f'{raw!r} is less than the minimum of 1')
    return value


def _validate_create(req, body):
    """The JSON-schema part of POST /servers (schemas/servers.py create_v2xx)."""
    if not isinstance(body, dict):
        raise _bad(f"{body!r} is not of type 'object'")
    if 'server' not in body:
        raise _bad("'server' is a required property")
    extra = sorted(set(body) - {'server', 'os:scheduler_hints',
                                'OS-SCH-HNT:scheduler_hints'})
    if extra:
        raise _bad('Additional properties are not allowed ('
                   + ', '.join(repr(e) for e in extra)
                   + (' was' if len(extra) == 1 else ' were') + ' unexpected)')
    spec = body['server']
    if not isinstance(spec, dict):
        raise _field('server', spec, f"{spec!r} is not of type 'object'")
    extra = sorted(set(spec) - _server_keys(req))
    if extra:
        raise _extra_error('server', spec, extra)
    required = ['name', 'flavorRef'] + (['networks'] if _ge(req, 2, 37) else [])
    for key in required:
        if key not in spec:
            raise _field('server', spec, f"'{key}' is a required property")
    _check_name('name', spec['name'])
    flavor_ref = spec['flavorRef']
    if not isinstance(flavor_ref, (str, int)) or isinstance(flavor_ref, bool) \
            or str(flavor_ref) == '':
        raise _field('flavorRef', flavor_ref, f"{flavor_ref!r} is not valid under any of "
                                              "the given schemas")
    image_ref = spec.get('imageRef')
    if image_ref is not None:
        if not isinstance(image_ref, str) or not (image_ref == '' or _is_uuid(image_ref)):
            raise _field('imageRef', image_ref, f"{image_ref!r} is not valid under any of "
                                                "the given schemas")
    if 'key_name' in spec and spec['key_name'] is not None:
        _check_name('key_name', spec['key_name'])
    if 'availability_zone' in spec:
        _check_name('availability_zone', spec['availability_zone'])
    if 'description' in spec and spec['description'] is not None:
        description = spec['description']
        if not isinstance(description, str) or len(description) > 255 \
                or not description.isprintable():
            raise _field('description', description,
                         f"{description!r} does not match the description format")
    if 'user_data' in spec:
        user_data = spec['user_data']
        if not isinstance(user_data, str):
            raise _field('user_data', user_data, f"{user_data!r} is not of type 'string'")
        if len(user_data) > 65535:
            raise _field('user_data', user_data, f'{user_data!r} is too long')
        try:
            base64.decodebytes(user_data.encode('utf-8'))
        except (binascii.Error, ValueError):
            raise _field('user_data', user_data, f"{user_data!r} is not a 'base64'")
    if 'config_drive' in spec:
        try:
            _bool(spec['config_drive'])
        except errors.ApiError:
            raise _field('config_drive', spec['config_drive'],
                         f"{spec['config_drive']!r} is not one of the allowed values")
    if 'OS-DCF:diskConfig' in spec and spec['OS-DCF:diskConfig'] not in ('AUTO', 'MANUAL'):
        raise _field('OS-DCF:diskConfig', spec['OS-DCF:diskConfig'],
                     f"{spec['OS-DCF:diskConfig']!r} is not one of ['AUTO', 'MANUAL']")
    if 'security_groups' in spec:
        groups = spec['security_groups']
        if not isinstance(groups, list):
            raise _field('security_groups', groups, f"{groups!r} is not of type 'array'")
        for group in groups:
            if not isinstance(group, dict):
                raise _field('security_groups', group, f"{group!r} is not of type 'object'")
            extra = sorted(set(group) - {'name'})
            if extra:
                raise _extra_error('security_groups', group, extra)
            if 'name' in group:
                _check_name('name', group['name'])
    if 'tags' in spec:
        _check_tags(spec['tags'], field='tags')
    for key in ('min_count', 'max_count'):
        if key in spec:
            _positive_int(key, spec[key])
    networks = spec.get('networks')
    if networks is not None or 'networks' in spec:
        _validate_networks(req, networks)
    return spec


def _validate_networks(req, networks):
    if isinstance(networks, str):
        if _ge(req, 2, 37) and networks in ('auto', 'none'):
            return
        raise _field('networks', networks, f"{networks!r} is not valid under any of the "
                                           "given schemas")
    if not isinstance(networks, list):
        raise _field('networks', networks, f"{networks!r} is not of type 'array'")
    allowed = {'fixed_ip', 'port', 'uuid'}
    if (2, 32) <= req.microversion <= (2, 36) or _ge(req, 2, 42):
        allowed.add('tag')
    for item in networks:
        if not isinstance(item, dict):
            raise _field('networks', item, f"{item!r} is not of type 'object'")
        extra = sorted(set(item) - allowed)
        if extra:
            raise _extra_error('networks', item, extra)
        port = item.get('port')
        if port is not None and not _is_uuid(port):
            raise _field('port', port, f"{port!r} is not a 'uuid'")
        if 'uuid' in item and _ge(req, 2, 37) and not _is_uuid(item['uuid']):
            raise _field('uuid', item['uuid'], f"{item['uuid']!r} is not a 'uuid'")
        if 'fixed_ip' in item:
            try:
                ipaddress.ip_address(item['fixed_ip'])
            except (TypeError, ValueError):
                raise _field('fixed_ip', item['fixed_ip'],
                             f"{item['fixed_ip']!r} is not a 'ip-address'")


def _visible_image(state, ctx, image_id):
    image = state.table('images').get(image_id)
    if image is None:
        return None
    if ctx.is_admin or image.get('owner', image.get('project_id')) == ctx.project_id:
        return image
    if image.get('visibility', 'public') in ('public', 'community'):
        return image
    return None


def _visible_network(state, ctx, network_id):
    try:
        network = neutron.get_network(state, network_id)
    except errors.ApiError:
        return None
    if not network:
        return None
    if ctx.is_admin or network.get('project_id') == ctx.project_id \
            or network.get('shared') or network.get('router:external'):
        return network
    return None


def _available_networks(state, project_id):
    """Nova's auto choice: the project's own non-shared networks plus shared ones."""
    return [n for n in state.table('networks').values()
            if (n.get('project_id') == project_id and not n.get('shared'))
            or n.get('shared')]


def _resolve_security_groups(state, project_id, names):
    ids = []
    for name in names:
        try:
            group = neutron.find_security_group(state, project_id, name)
        except errors.ApiError as exc:
            if exc.status == 409:
                raise errors.nova(409, f"Multiple security groups found matching '{name}'. "
                                       "Use an ID to be more specific.")
            group = None
        if not group:
            raise _bad(f'Security group {name} not found.')
        if group['id'] not in ids:
            ids.append(group['id'])
    return ids


def _requested_networks(sim, req, spec, max_count):
    """Nova's network checks at the API (validate_networks): a list of
    {network_id, port_id, fixed_ip, tag} to allocate when the build gets there."""
    state, ctx = sim.state, req.context
    networks = spec.get('networks')
    if networks == 'none':
        return []
    requests = []
    if networks is None or networks == 'auto':
        available = _available_networks(state, ctx.project_id)
        if len(available) > 1:
            raise errors.nova(409, 'Multiple possible networks found, use a Network ID '
                                   'to be more specific.')
        if not available:
            if networks == 'auto':
                raise _bad(f'Unable to automatically allocate a network for project '
                           f'{ctx.project_id}')
            return []
        requests.append({'network_id': available[0]['id'], 'port_id': None,
                         'fixed_ip': None, 'tag': None})
        checked = available
    else:
        checked = []
        seen_ports = []
        for item in networks:
            port_id = item.get('port')
            fixed_ip = item.get('fixed_ip')
            if port_id:
                if port_id in seen_ports:
                    raise _bad(f"Port ID '{port_id}' was specified twice: you cannot "
                               "attach a port multiple times.")
                if fixed_ip is not None:
                    raise _bad(f"Specified Fixed IP '{fixed_ip}' cannot be used with port "
                               f"'{port_id}': the two cannot be specified together.")
                seen_ports.append(port_id)
                requests.append({'network_id': None, 'port_id': port_id, 'fixed_ip': None,
                                 'tag': item.get('tag')})
            else:
                if 'uuid' not in item:
                    raise _bad("Bad network format: missing 'uuid'")
                if not _is_uuid(item['uuid']):
                    raise _bad('Bad networks format: network uuid is not in proper format '
                               f"({item['uuid']})")
                requests.append({'network_id': item['uuid'], 'port_id': None,
                                 'fixed_ip': fixed_ip, 'tag': item.get('tag')})
        if max_count > 1:
            if any(r['port_id'] for r in requests):
                raise _bad('Unable to launch multiple instances with a single configured '
                           'port ID. Please launch your instance one by one with '
                           'different ports.')
            if any(r['fixed_ip'] for r in requests):
                raise _bad('The fixed IP associated with a network can only be used when '
                           'launching a single instance.')
        ports = state.table('ports')
        missing = []
        for r in requests:
            if r['port_id']:
                port = ports.get(r['port_id'])
                if port is None or not (ctx.is_admin or port.get('project_id')
                                        == ctx.project_id):
                    raise _bad(f"Port id {r['port_id']} could not be found.")
                if port.get('device_id'):
                    raise errors.nova(409, f"Port {r['port_id']} is still in use.")
                if not port.get('fixed_ips'):
                    raise _bad(f"Port {r['port_id']} requires a FixedIP in order to be used.")
                network = _visible_network(state, ctx, port.get('network_id'))
                if network is not None:
                    checked.append(network)
                continue
            network = _visible_network(state, ctx, r['network_id'])
            if network is None:
                missing.append(r['network_id'])
                continue
            if not network.get('subnets'):
                raise _bad(f"Network {r['network_id']} requires a subnet in order to boot "
                           "instances on.")
            if r['fixed_ip']:
                for port in ports.values():
                    if port.get('network_id') != r['network_id']:
                        continue
                    if any(ip.get('ip_address') == r['fixed_ip']
                           for ip in port.get('fixed_ips') or ()):
                        raise _bad(f"Fixed IP address {r['fixed_ip']} is already in use on "
                                   f"instance {port.get('device_id') or ''}.")
            checked.append(network)
        if missing:
            raise _bad(f"Network {', '.join(dict.fromkeys(missing))} could not be found.")
    if not ctx.is_admin:
        for network in checked:
            if network.get('router:external') and not network.get('shared'):
                raise errors.nova(403, 'It is not allowed to create an interface on '
                                       f"external network {network['id']}")
    return requests


def _hostname(name, server_id):
    host = re.sub(r'[ _]', '-', name.lower())
    host = re.sub(r'[^a-z0-9.-]', '', host).strip('.-')[:63].rstrip('.-')
    return host or f'server-{server_id}'


def _password(length=12):
    chars = string.ascii_letters + string.digits
    return ''.join(random.choice(chars) for _ in range(length))


def create_server(sim, req):
    state, ctx = sim.state, req.context
    spec = _validate_create(req, req.body)
    min_count = _positive_int('min_count', spec.get('min_count', 1))
    max_count = _positive_int('max_count', spec.get('max_count', min_count))
    if min_count > max_count:
        raise _bad('min_count must be <= max_count')
    if spec.get('block_device_mapping') or spec.get('block_device_mapping_v2'):
        raise _bad('Block device mappings (boot from volume) are not modelled by the '
                   'simulator.')
    if spec.get('personality'):
        raise _bad('Personality files are not modelled by the simulator.')
    az = spec.get('availability_zone')
    if az is not None and az.split(':')[0] not in (AZ, ''):
        raise _bad('The requested availability zone is not available')
    image_id = None
    if spec.get('imageRef'):
        image_id = _href_id(spec['imageRef'])
    else:
        raise _bad('Missing imageRef attribute')
    flavor_id = _href_id(spec['flavorRef'])
    flavor = state.table('flavors').get(flavor_id)
    if flavor is None or not (flavor['is_public'] or ctx.is_admin) or flavor['disabled']:
        raise _bad(f'Flavor {flavor_id} could not be found.')
    image = _visible_image(state, ctx, image_id)
    if image is None:
        raise _bad('Can not find requested image')
    if image.get('status') != 'active':
        raise _bad(f'Image {image_id} is not active.')
    if flavor['ram'] < int(image.get('min_ram') or 0):
        raise _bad("Flavor's memory is too small for requested image.")
    if flavor['disk']:
        disk_bytes = flavor['disk'] * 1024 ** 3
        if int(image.get('size') or 0) > disk_bytes:
            raise _bad("Flavor's disk is too small for requested image. Flavor disk is "
                       f"{disk_bytes} bytes, image is {int(image['size'])} bytes.")
        if int(image.get('min_disk') or 0) * 1024 ** 3 > disk_bytes:
            raise _bad("Flavor's disk is smaller than the minimum size specified in image "
                       f"metadata. Flavor disk is {disk_bytes} bytes, minimum size is "
                       f"{int(image['min_disk']) * 1024 ** 3} bytes.")
    key_name = spec.get('key_name')
    if key_name is not None and f'{ctx.user_id}/{key_name}' not in state.table('keypairs'):
        raise _bad('Invalid key_name provided.')
    metadata = spec.get('metadata', {})
    _check_metadata(state, ctx.project_id, metadata)
    groups = spec.get('security_groups')
    sg_names = list(dict.fromkeys(g['name'] for g in groups or () if g.get('name')))
    sg_ids = _resolve_security_groups(state, ctx.project_id, sg_names) if groups else None
    requests = _requested_networks(sim, req, spec, max_count)
    count = max_count
    while True:          # nova boots as many as the quota allows, at least min_count
        try:
            _check_instance_quota(state, ctx.project_id, flavor, count)
            break
        except errors.ApiError:
            if count <= min_count:
                _check_instance_quota(state, ctx.project_id, flavor, max_count)
            count -= 1
    max_count = count

    now = time.time()
    servers = state.table('servers')
    seq = 1 + max((s.get('_seq', 0) for s in servers.values()), default=0)
    reservation = 'r-' + ''.join(random.choice(string.ascii_lowercase + string.digits)
                                 for _ in range(8))
    password = spec.get('adminPass') or _password()
    config_drive = 'True' if spec.get('config_drive') not in (None, '') \
        and _bool(spec['config_drive']) else ''
    description = spec.get('description') if _ge(req, 2, 19) else spec['name']
    created = []
    for index in range(max_count):
        server_id = new_id()
        name = spec['name'] if max_count == 1 else f"{spec['name']}-{index + 1}"
        server = {
            'id': server_id, 'name': name, 'description': description,
            'project_id': ctx.project_id, 'tenant_id': ctx.project_id,
            'user_id': ctx.user_id, 'status': 'BUILD', 'vm_state': 'building',
            'task_state': 'scheduling', 'power_state': _POWER['nostate'],
            'tags': list(dict.fromkeys(spec.get('tags') or ())),
            'metadata': dict(metadata),
            'flavor': {'id': flavor['id'], 'original_name': flavor['name'],
                       'vcpus': flavor['vcpus'], 'ram': flavor['ram'], 'disk': flavor['disk'],
                       'ephemeral': flavor['ephemeral'], 'swap': flavor['swap'],
                       'extra_specs': dict(flavor['extra_specs'])},
            'image_id': image_id, 'key_name': key_name,
            'created': isotime(now), 'updated': isotime(now), 'launched_at': None,
            'availability_zone': az.split(':')[0] if az else None,
            'pinned_availability_zone': az.split(':')[0] if az else None,
            'host': None, 'node': None, 'hostname': _hostname(name, server_id),
            'instance_name': f'instance-{seq + index:08x}', 'launch_index': index,
            'reservation_id': reservation, 'root_device_name': None,
            'config_drive': config_drive, 'disk_config': spec.get('OS-DCF:diskConfig',
                                                                   'MANUAL'),
            'access_ipv4': spec.get('accessIPv4'), 'access_ipv6': spec.get('accessIPv6'),
            'locked': False, 'locked_by': None, 'locked_reason': None, 'fault': None,
            'user_data': spec.get('user_data'), 'trusted_image_certificates': None,
            'security_groups': [{'name': n} for n in (sg_names or ['default'])],
            'progress': 0,
            '_seq': seq + index, '_created_ts': now, '_updated_ts': now,
            '_boot': max(float(state.boot_seconds), 0.0), '_build_error': bool(
                req.build_error), '_requests': [dict(r) for r in requests],
            '_sg_ids': sg_ids, '_ports': [], '_bdms': [], '_admin': bool(ctx.is_admin),
        }
        servers[server_id] = server
        _schedule(state, server, 'scheduled', now + server['_boot'] / 3)
        created.append(server)
    if spec.get('return_reservation_id'):
        return 202, {'reservation_id': reservation}
    first = created[0]
    links = _links(sim, 'servers', first['id'])
    body = {'server': {
        'id': first['id'], 'links': links, 'OS-DCF:diskConfig': first['disk_config'],
        'security_groups': groups if groups is not None else [{'name': 'default'}],
        'adminPass': password}}
    return 202, body, {'Location': links[0]['href']}


# -- servers: the time-driven build / delete / power transitions -----------------------
def _pending(state):
    """Ids of servers with a pending transition (rebuilt when the table changes)."""
    servers = state.table('servers')
    cache = getattr(state, '_nova_pending', None)
    if cache is None or cache[0] is not servers:
        cache = (servers, {sid for sid, s in servers.items() if s.get('_next') is not None})
        state._nova_pending = cache
    return cache[1]


def _schedule(state, server, kind, at):
    server['_next'], server['_next_kind'] = at, kind
    _pending(state).add(server['id'])


def _fail(server, at, message, details=None):
    server['fault'] = {'code': 500, 'created': isotime(at), 'message': message}
    if details:
        server['fault']['details'] = details
    _set_state(server, at, vm_state='error', task_state=None,
               power_state=_POWER['nostate'])


def _on_scheduled(state, server, at):
    if server['_build_error']:
        _fail(server, at, NO_VALID_HOST,
              details='  File "nova/conductor/manager.py", line 1654, in '
                      'schedule_and_build_instances\n    nova.exception.NoValidHost: '
                      + NO_VALID_HOST + '\n')
        return
    server['host'], server['node'] = HOST, NODE
    server['availability_zone'] = server['availability_zone'] or AZ
    _set_state(server, at, task_state='networking')
    if not _allocate_networks(state, server, at):
        return
    _schedule(state, server, 'networked', server['_created_ts'] + server['_boot'] * 2 / 3)


def _on_networked(state, server, at):
    _set_state(server, at, task_state='spawning')
    _schedule(state, server, 'spawned', server['_created_ts'] + server['_boot'])


def _on_spawned(state, server, at):
    server['launched_at'] = _micro(at)
    server['root_device_name'] = '/dev/vda'
    _set_state(server, at, vm_state='active', task_state=None,
               power_state=_POWER['running'])


def _on_stopped(state, server, at):
    _set_state(server, at, vm_state='stopped', task_state=None,
               power_state=_POWER['shutdown'])


def _on_running(state, server, at):
    _set_state(server, at, vm_state='active', task_state=None,
               power_state=_POWER['running'])


def _on_deleted(state, server, at):
    _release_resources(state, server)
    state.table('servers').pop(server['id'], None)


_TRANSITIONS = {'scheduled': _on_scheduled, 'networked': _on_networked,
                'spawned': _on_spawned, 'stopped': _on_stopped, 'running': _on_running,
                'deleted': _on_deleted}


def advance(state, now):
    pending = _pending(state)
    if not pending:
        return
    servers = state.table('servers')
    for server_id in list(pending):
        server = servers.get(server_id)
        while server is not None and server.get('_next') is not None \
                and server['_next'] <= now:
            kind, at = server['_next_kind'], server['_next']
            server['_next'] = server['_next_kind'] = None
            try:
                _TRANSITIONS[kind](state, server, at)
            except Exception as exc:        # a simulator bug: log it, fail the server
                LOG.exception('nova transition %s of server %s failed', kind, server_id)
                if server_id in servers and kind != 'deleted':
                    _fail(server, at, f'Simulator error during {kind}: {exc}')
                elif kind == 'deleted':
                    servers.pop(server_id, None)
            server = servers.get(server_id)
        if server is None or server.get('_next') is None:
            pending.discard(server_id)


def _port_id(port):
    return port['id'] if isinstance(port, dict) else port


def _allocate_networks(state, server, at):
    """Create (uuid requests) or bind (port requests) the server's ports.

    A Neutron error fails the build, as nova's compute does: ports created so
    far are deleted, bound ones unbound, and the server goes to ERROR.
    """
    done = []
    try:
        for request in server['_requests']:
            if request['port_id']:
                port = state.table('ports').get(request['port_id'])
                if port is None:
                    raise errors.nova(400, f"Port id {request['port_id']} could not be "
                                           "found.")
                if port.get('device_id') and port['device_id'] != server['id']:
                    raise errors.nova(409, f"Port {request['port_id']} is still in use.")
                neutron.bind_port(state, request['port_id'], server['id'], DEVICE_OWNER,
                                  host=HOST)
                done.append({'id': request['port_id'], 'created': False})
            else:
                fixed = ([{'ip_address': request['fixed_ip']}] if request['fixed_ip']
                         else None)
                port = neutron.create_port(state, server['project_id'],
                                           request['network_id'], name='',
                                           security_group_ids=server['_sg_ids'],
                                           device_id=server['id'],
                                           device_owner=DEVICE_OWNER, fixed_ips=fixed,
                                           is_admin=bool(server.get('_admin')))
                done.append({'id': _port_id(port), 'created': True})
                neutron.bind_port(state, _port_id(port), server['id'], DEVICE_OWNER,
                                  host=HOST)
    except errors.ApiError as exc:
        for entry in done:
            try:
                if entry['created']:
                    neutron.delete_port(state, entry['id'])
                else:
                    neutron.unbind_port(state, entry['id'])
            except errors.ApiError:
                pass
        reason = next((v.get('message') for v in exc.body.values()
                       if isinstance(v, dict)), '') if isinstance(exc.body, dict) else ''
        _fail(server, at, f"Build of instance {server['id']} aborted: Failed to allocate "
                          "the network(s), not rescheduling.", details=reason or None)
        return False
    server['_ports'] = done
    return True


def _release_resources(state, server):
    """On delete: Nova-created ports deleted, pre-existing ones unbound,
    volumes detached (or deleted when delete_on_termination)."""
    for entry in server.get('_ports') or ():
        try:
            if entry['created']:
                neutron.delete_port(state, entry['id'])
            else:
                neutron.unbind_port(state, entry['id'])
        except errors.ApiError:
            pass
    server['_ports'] = []
    volumes = state.table('volumes')
    for bdm in server.get('_bdms') or ():
        volume = volumes.get(bdm['volume_id'])
        if volume is None:
            continue
        _detach_from_volume(volume, server['id'])
        if bdm['delete_on_termination']:
            volumes.pop(bdm['volume_id'], None)
    server['_bdms'] = []


# -- servers: update, delete, actions ------------------------------------------------------
def update_server(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get('server'), dict):
        raise _bad("'server' is a required property")
    spec = body['server']
    allowed = {'name', 'accessIPv4', 'accessIPv6', 'OS-DCF:diskConfig'}
    if _ge(req, 2, 19):
        allowed.add('description')
    if _ge(req, 2, 90):
        allowed.add('hostname')
    extra = sorted(set(spec) - allowed)
    if extra:
        raise _extra_error('server', spec, extra)
    if 'name' in spec:
        _check_name('name', spec['name'])
    if 'description' in spec and spec['description'] is not None:
        if not isinstance(spec['description'], str) or len(spec['description']) > 255:
            raise _field('description', spec['description'], 'is not a valid description')
    if 'hostname' in spec:
        _check_name('hostname', spec['hostname'])
    if 'OS-DCF:diskConfig' in spec and spec['OS-DCF:diskConfig'] not in ('AUTO', 'MANUAL'):
        raise _field('OS-DCF:diskConfig', spec['OS-DCF:diskConfig'],
                     "is not one of ['AUTO', 'MANUAL']")
    for key, field in (('name', 'name'), ('description', 'description'),
                       ('hostname', 'hostname'), ('accessIPv4', 'access_ipv4'),
                       ('accessIPv6', 'access_ipv6'), ('OS-DCF:diskConfig', 'disk_config')):
        if key in spec:
            server[field] = spec[key]
    _touch(server)
    full = _ge(req, 2, 75)
    return {'server': _server_view(sim, req, server, show_groups=True, full=full)}


def delete_server(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    _check_lock(req, server)
    if server['task_state'] == 'deleting':
        return 204, None
    now = time.time()
    _set_state(server, now, task_state='deleting')
    _schedule(sim.state, server, 'deleted',
              now + max(float(sim.state.boot_seconds), 0.0) * DELETE_FRACTION)
    return 204, None


def _require_state(server, action, vm_states, task_none=True):
    if server['vm_state'] not in vm_states:
        raise _invalid_state(action, server['id'], 'vm_state', server['vm_state'])
    if task_none and server['task_state'] is not None:
        raise _invalid_state(action, server['id'], 'task_state', server['task_state'])


def server_action(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    body = req.body
    if not isinstance(body, dict) or len(body) != 1:
        raise _bad('Malformed request body')
    (action, arg), = body.items()
    now = time.time()
    delay = max(float(sim.state.boot_seconds), 0.0) * DELETE_FRACTION
    ctx = req.context
    if action == 'lock':
        if arg is not None and not isinstance(arg, dict):
            raise _field('lock', arg, f"{arg!r} is not of type 'object', 'null'")
        reason = (arg or {}).get('locked_reason') if _ge(req, 2, 73) else None
        server['locked'] = True
        server['locked_by'] = 'owner' if ctx.project_id == server['project_id'] else 'admin'
        server['locked_reason'] = reason
        return 202, None
    if action == 'unlock':
        if server['locked'] and server['locked_by'] == 'admin' and not ctx.is_admin:
            raise _forbidden_policy('os_compute_api:os-lock-server:unlock:unlock_override')
        server['locked'], server['locked_by'], server['locked_reason'] = False, None, None
        return 202, None
    if action == 'os-stop':
        _check_lock(req, server)
        _require_state(server, 'stop', ('active', 'error'))
        _set_state(server, now, task_state='powering-off')
        _schedule(sim.state, server, 'stopped', now + delay)
        return 202, None
    if action == 'os-start':
        _check_lock(req, server)
        _require_state(server, 'start', ('stopped',))
        _set_state(server, now, task_state='powering-on')
        _schedule(sim.state, server, 'running', now + delay)
        return 202, None
    if action == 'reboot':
        _check_lock(req, server)
        kind = (arg or {}).get('type') if isinstance(arg, dict) else None
        if kind not in ('SOFT', 'HARD', 'soft', 'hard'):
            raise _field('type', kind, f"{kind!r} is not one of ['HARD', 'Hard', 'hard', "
                                       "'SOFT', 'Soft', 'soft']")
        hard = kind.upper() == 'HARD'
        states = ('active', 'stopped', 'paused', 'suspended', 'error') if hard \
            else ('active',)
        _require_state(server, 'reboot', states)
        _set_state(server, now, task_state='reboot_started_hard' if hard
                   else 'reboot_started')
        _schedule(sim.state, server, 'running', now + delay)
        return 202, None
    raise _bad(f'There is no such action: {action}')


# -- servers: metadata --------------------------------------------------------------------
def _metadata_body(body, key='metadata'):
    if not isinstance(body, dict) or key not in body:
        raise _bad(f"'{key}' is a required property")
    return body[key]


def show_metadata(sim, req, server_id):
    return {'metadata': dict(_get_server(sim, req, server_id)['metadata'])}


def _set_metadata(sim, req, server_id, replace):
    server = _get_server(sim, req, server_id)
    metadata = _metadata_body(req.body)
    new = dict(metadata) if replace else {**server['metadata'], **(
        metadata if isinstance(metadata, dict) else {})}
    _check_metadata(sim.state, server['project_id'], metadata)
    _check_metadata(sim.state, server['project_id'], new)
    _check_lock(req, server)
    _require_state(server, 'update metadata', _METADATA_STATES)
    server['metadata'] = new
    _touch(server)
    return {'metadata': dict(new)}


def replace_metadata(sim, req, server_id):
    return _set_metadata(sim, req, server_id, replace=True)


def update_metadata(sim, req, server_id):
    return _set_metadata(sim, req, server_id, replace=False)


def show_metadata_item(sim, req, server_id, key):
    server = _get_server(sim, req, server_id)
    if key not in server['metadata']:
        raise _not_found('Metadata item was not found')
    return {'meta': {key: server['metadata'][key]}}


def update_metadata_item(sim, req, server_id, key):
    server = _get_server(sim, req, server_id)
    meta = _metadata_body(req.body, 'meta')
    if not isinstance(meta, dict):
        raise _field('meta', meta, f"{meta!r} is not of type 'object'")
    if len(meta) > 1:
        raise _bad('Request body contains too many items')
    if key not in meta:
        raise _bad('Request body and URI mismatch')
    new = {**server['metadata'], **meta}
    _check_metadata(sim.state, server['project_id'], new, field='meta')
    _check_lock(req, server)
    _require_state(server, 'update metadata', _METADATA_STATES)
    server['metadata'] = new
    _touch(server)
    return {'meta': dict(meta)}


def delete_metadata_item(sim, req, server_id, key):
    server = _get_server(sim, req, server_id)
    if key not in server['metadata']:
        raise _not_found('Metadata item was not found')
    _check_lock(req, server)
    _require_state(server, 'delete metadata', _METADATA_STATES)
    del server['metadata'][key]
    _touch(server)
    return 204, None


# -- servers: tags (2.26) -------------------------------------------------------------
_TAG_STATES = ('active', 'paused', 'suspended', 'stopped')


def _check_tag(tag):
    if not isinstance(tag, str) or not 1 <= len(tag) <= 60 or '/' in tag or ',' in tag:
        raise _bad(f"Tag '{tag}' is invalid. It must be a non empty string without "
                   "characters '/' and ','. Validation error message: "
                   f"{tag!r} does not match '^[^,/]*$'")


def _check_tags(tags, field='tags'):
    if not isinstance(tags, list):
        raise _field(field, tags, f"{tags!r} is not of type 'array'")
    if len(tags) > MAX_TAGS:
        raise _field(field, tags, f'{tags!r} is too long')
    for tag in tags:
        if not isinstance(tag, str) or not 1 <= len(tag) <= 60 or '/' in tag or ',' in tag:
            raise _field(field, tag, f"{tag!r} does not match '^[^,/]*$'")


def list_tags(sim, req, server_id):
    return {'tags': list(_get_server(sim, req, server_id)['tags'])}


def check_tag(sim, req, server_id, tag):
    server = _get_server(sim, req, server_id)
    if tag not in server['tags']:
        raise _not_found(f"Server {server_id} has no tag '{tag}'")
    return 204, None


def replace_tags(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    _require_state(server, 'update tags', _TAG_STATES, task_none=False)
    tags = _metadata_body(req.body, 'tags')
    _check_tags(tags)
    server['tags'] = list(dict.fromkeys(tags))
    return {'tags': list(server['tags'])}


def add_tag(sim, req, server_id, tag):
    server = _get_server(sim, req, server_id)
    _require_state(server, 'update tag', _TAG_STATES, task_none=False)
    _check_tag(tag)
    if len(server['tags']) >= MAX_TAGS:
        raise _bad(f'The number of tags exceeded the per-server limit {MAX_TAGS}')
    if tag in server['tags']:
        return 204, None
    server['tags'].append(tag)
    return 201, None, {'Location': f'{_base(sim)}/v2.1/servers/{server_id}/tags/{tag}'}


def delete_tag(sim, req, server_id, tag):
    server = _get_server(sim, req, server_id)
    _require_state(server, 'delete tag', _TAG_STATES, task_none=False)
    if tag not in server['tags']:
        raise _not_found(f"Instance {server_id} has no tag '{tag}'")
    server['tags'].remove(tag)
    return 204, None


def delete_tags(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    _require_state(server, 'delete tags', _TAG_STATES, task_none=False)
    server['tags'] = []
    return 204, None


# -- servers: ips ----------------------------------------------------------------------
def list_ips(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    addresses = {} if server['vm_state'] == 'building' else _addresses(sim.state, server,
                                                                       extended=False)
    return {'addresses': addresses}


def show_ips(sim, req, server_id, network):
    server = _get_server(sim, req, server_id)
    addresses = _addresses(sim.state, server, extended=False)
    if network not in addresses:
        raise _not_found('Instance is not a member of specified network')
    return {network: addresses[network]}


# -- servers: volume attachments --------------------------------------------------------
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


def _detach_from_volume(volume, server_id):
    volume['attachments'] = [a for a in volume.get('attachments') or ()
                             if a.get('server_id') != server_id]
    if not volume['attachments'] and volume.get('status') in ('in-use', 'detaching',
                                                              'attaching'):
        volume['status'] = 'available'
    if 'updated_at' in volume:
        volume['updated_at'] = _micro()


def list_volume_attachments(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    bdms = server.get('_bdms') or []
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
        if bdm['volume_id'] == volume_id:
            return bdm
    raise _not_found(f"Instance {server['id']} is not attached to volume {volume_id}")


def show_volume_attachment(sim, req, server_id, volume_id):
    server = _get_server(sim, req, server_id)
    return {'volumeAttachment': _attachment_view(req, server, _find_bdm(server, volume_id))}


def _next_device(server):
    used = {b['device'] for b in server.get('_bdms') or ()}
    used.add(server.get('root_device_name') or '/dev/vda')
    for letter in string.ascii_lowercase[1:]:
        device = f'/dev/vd{letter}'
        if device not in used:
            return device
    raise errors.nova(403, 'The maximum allowed number of disk devices (26) to attach to '
                           'a single instance has been exceeded.')


def attach_volume(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get('volumeAttachment'), dict):
        raise _bad("'volumeAttachment' is a required property")
    spec = body['volumeAttachment']
    allowed = {'volumeId', 'device'}
    if _ge(req, 2, 49):
        allowed.add('tag')
    if _ge(req, 2, 79):
        allowed.add('delete_on_termination')
    extra = sorted(set(spec) - allowed)
    if extra:
        raise _extra_error('volumeAttachment', spec, extra)
    volume_id = spec.get('volumeId')
    if volume_id is None:
        raise _field('volumeAttachment', spec, "'volumeId' is a required property")
    if not _is_uuid(volume_id):
        raise _field('volumeId', volume_id, f"{volume_id!r} is not a 'uuid'")
    device = spec.get('device')
    if device is not None and not (isinstance(device, str)
                                   and re.match(r'^(/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)'
                                                r'[0-9]*$', device)):
        raise _field('device', device, f"{device!r} does not match '(^/dev/x{{0,1}}[a-z]"
                                       "{0,1}d{0,1})([a-z]+)[0-9]*$'")
    delete_on_termination = _bool(spec.get('delete_on_termination', False))
    _check_lock(req, server)
    _require_state(server, 'attach_volume', _ATTACH_STATES)
    volume = _visible_volume(sim, req, volume_id)
    if any(b['volume_id'] == volume_id for b in server.get('_bdms') or ()):
        raise _bad(f'Invalid volume: volume {volume_id} already attached')
    if volume.get('status') != 'available':
        raise _bad(f"Invalid volume: volume '{volume_id}' status must be 'available'. "
                   f"Currently in '{volume.get('status')}'")
    if device and any(b['device'] == device for b in server['_bdms']):
        raise errors.nova(409, f'The supplied device path ({device}) is in use.')
    device = device or _next_device(server)
    bdm = {'volume_id': volume_id, 'device': device, 'tag': spec.get('tag'),
           'delete_on_termination': delete_on_termination,
           'attachment_id': new_id(), 'bdm_uuid': new_id()}
    server['_bdms'].append(bdm)
    volume['status'] = 'in-use'
    volume.setdefault('attachments', []).append({
        'server_id': server['id'], 'attachment_id': bdm['attachment_id'],
        'attached_at': _micro(), 'host_name': server['host'], 'volume_id': volume_id,
        'device': device, 'id': volume_id})
    if 'updated_at' in volume:
        volume['updated_at'] = _micro()
    return {'volumeAttachment': _attachment_view(req, server, bdm, created=True)}


def detach_volume(sim, req, server_id, volume_id):
    server = _get_server(sim, req, server_id)
    volume = _visible_volume(sim, req, volume_id)
    bdm = _find_bdm(server, volume_id)
    _check_lock(req, server)
    _require_state(server, 'detach_volume', _ATTACH_STATES)
    server['_bdms'].remove(bdm)
    _detach_from_volume(volume, server['id'])
    return 202, None


# -- registration -------------------------------------------------------------------
def register(router, state):
    state.on_seed(seed)
    state.on_advance(advance)

    def add(method, path, handler, min_version=None, auth=True):
        router.add(method, PREFIX + path, _versioned(handler, min_version), 'compute',
                   auth=auth)

    router.add('GET', '/compute', _versioned(versions), 'compute', auth=False)
    add('GET', '', version, auth=False)
    add('GET', '/extensions', extensions)
    add('GET', '/os-availability-zone', availability_zones)
    add('GET', '/os-availability-zone/detail', availability_zones_detail)
    add('GET', '/limits', limits)

    add('GET', '/flavors', list_flavors)
    add('POST', '/flavors', create_flavor)
    add('GET', '/flavors/detail', list_flavors_detail)
    add('GET', '/flavors/{flavor_id}', show_flavor)
    add('DELETE', '/flavors/{flavor_id}', delete_flavor)
    add('GET', '/flavors/{flavor_id}/os-extra_specs', list_extra_specs)
    add('POST', '/flavors/{flavor_id}/os-extra_specs', create_extra_specs)
    add('GET', '/flavors/{flavor_id}/os-extra_specs/{key}', show_extra_spec)
    add('PUT', '/flavors/{flavor_id}/os-extra_specs/{key}', update_extra_spec)
    add('DELETE', '/flavors/{flavor_id}/os-extra_specs/{key}', delete_extra_spec)

    add('GET', '/os-keypairs', list_keypairs)
    add('POST', '/os-keypairs', create_keypair)
    add('GET', '/os-keypairs/{name}', show_keypair)
    add('DELETE', '/os-keypairs/{name}', delete_keypair)

    add('GET', '/os-quota-sets/{project_id}', show_quota_set)
    add('PUT', '/os-quota-sets/{project_id}', update_quota_set)
    add('DELETE', '/os-quota-sets/{project_id}', delete_quota_set)
    add('GET', '/os-quota-sets/{project_id}/defaults', show_quota_defaults)
    add('GET', '/os-quota-sets/{project_id}/detail', show_quota_detail)

    add('GET', '/servers', list_servers)
    add('POST', '/servers', create_server)
    add('GET', '/servers/detail', list_servers_detail)
    add('GET', '/servers/{server_id}', show_server)
    add('PUT', '/servers/{server_id}', update_server)
    add('DELETE', '/servers/{server_id}', delete_server)
    add('POST', '/servers/{server_id}/action', server_action)
    add('GET', '/servers/{server_id}/ips', list_ips)
    add('GET', '/servers/{server_id}/ips/{network}', show_ips)
    add('GET', '/servers/{server_id}/metadata', show_metadata)
    add('PUT', '/servers/{server_id}/metadata', replace_metadata)
    add('POST', '/servers/{server_id}/metadata', update_metadata)
    add('GET', '/servers/{server_id}/metadata/{key}', show_metadata_item)
    add('PUT', '/servers/{server_id}/metadata/{key}', update_metadata_item)
    add('DELETE', '/servers/{server_id}/metadata/{key}', delete_metadata_item)
    add('GET', '/servers/{server_id}/tags', list_tags, (2, 26))
    add('PUT', '/servers/{server_id}/tags', replace_tags, (2, 26))
    add('DELETE', '/servers/{server_id}/tags', delete_tags, (2, 26))
    add('GET', '/servers/{server_id}/tags/{tag}', check_tag, (2, 26))
    add('PUT', '/servers/{server_id}/tags/{tag}', add_tag, (2, 26))
    add('DELETE', '/servers/{server_id}/tags/{tag}', delete_tag, (2, 26))
    add('GET', '/servers/{server_id}/os-volume_attachments', list_volume_attachments)
    add('POST', '/servers/{server_id}/os-volume_attachments', attach_volume)
    add('GET', '/servers/{server_id}/os-volume_attachments/{volume_id}',
        show_volume_attachment)
    add('DELETE', '/servers/{server_id}/os-volume_attachments/{volume_id}', detach_volume)
