"""Keypairs: import, generation (real RSA keys), per-user listing, user_id for admins."""

import base64
import binascii
import hashlib
import struct
import time

from bayflow.cloudsim import errors
from bayflow.cloudsim.nova.common import (
    _KEYPAIR_NAME, _KEYPAIR_NAME_292, _KEY_TYPES, _bad, _check_name, _field,
    _forbidden_policy, _ge, _micro, _not_found, _paged, _wrapped)
from bayflow.cloudsim.nova.quotas import _limits


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


def _store_keypair(state, user_id, project_id, name, key_type, public_key, now):
    keypairs = state.table('keypairs')
    next_id = 1 + max((k['id'] for k in keypairs.values()), default=0)
    record = {'id': next_id, 'name': name, 'user_id': user_id, 'project_id': project_id,
              'type': key_type, 'public_key': public_key,
              'fingerprint': fingerprint(public_key), 'created_at': _micro(now),
              'updated_at': None, 'deleted_at': None, 'deleted': False}
    keypairs[f'{user_id}/{name}'] = record
    return record


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

    def render(keypair):
        return {'keypair': _keypair_view(keypair, fields)}
    if _ge(req, 2, 35):
        return _paged(sim, req, keypairs, 'keypairs', 'os-keypairs', render,
                      key=lambda k: k['name'])
    return {'keypairs': [render(k) for k in keypairs]}


def show_keypair(sim, req, name):
    keypair = _get_keypair(sim, _keypair_user(req), name)
    return {'keypair': _keypair_view(keypair, _KP_SHOW + (('type',) if _ge(req, 2, 2)
                                                          else ()))}


def create_keypair(sim, req):
    spec = _wrapped(req, 'keypair', ('name', 'public_key'),
                    since=(((2, 2), 'type'), ((2, 10), 'user_id')))
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
        project_id = user.get('default_project_id') if user else None

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
