"""Bay attributes (Magnum's Newton rules) and bay-update (only node_count changes)."""

import re
from urllib.parse import urlsplit

from bayflow.config import CONF
from bayflow.validation._common import check_names, invalid, to_int, to_str
from bayflow.validation.patch import normalise_ops

ATTRIBUTES = ('name', 'baymodel_id', 'node_count', 'master_count', 'create_timeout',
              'discovery_url')
# Magnum's REST name of create_timeout.
ALIASES = {'bay_create_timeout': 'create_timeout'}
READ_ONLY = ('id', 'uuid', 'project_id', 'user_id', 'status', 'status_reason', 'operation',
             'stack_id', 'api_address', 'node_addresses', 'master_addresses', 'ca_cert_ref',
             'magnum_cert_ref', 'trust_id', 'trustee_user_name', 'trustee_username',
             'trustee_password', 'trustee_user_id', 'flow_id', 'version', 'owner',
             'lease_expires_at', 'created_at', 'updated_at')
UPDATABLE = ('node_count',)
NAME_PATTERN = re.compile(r'[a-zA-Z][a-zA-Z0-9_.-]*')
# 255 minus what the cloud resource names append (Magnum: the Heat stack suffix).
MAX_NAME_LENGTH = 242
DEFAULT_NODE_COUNT = 1
DEFAULT_MASTER_COUNT = 1


def validate_bay(values, conf=CONF):
    """-> record: a bay-create request checked and normalised (defaults filled).

    baymodel_id is mandatory (name or uuid as given; resolving it is the
    service's job). create_timeout (alias bay_create_timeout) is in minutes,
    0 = no timeout, default ``[bay] create_timeout``.
    """
    check_names('bay', values, ATTRIBUTES + tuple(ALIASES), READ_ONLY)
    values = dict(values)
    for alias, key in ALIASES.items():
        if alias in values:
            value = values.pop(alias)
            if values.get(key) is not None and values[key] != value:
                raise invalid(alias, value, f'the same as {key} ({values[key]!r}), '
                                            f'or give only one of them')
            values[key] = value
    return {
        'name': _name(values.get('name')),
        'baymodel_id': to_str('baymodel_id', values.get('baymodel_id'), required=True),
        'node_count': _node_count(values.get('node_count')),
        'master_count': _master_count(values.get('master_count')),
        'create_timeout': to_int('create_timeout', values.get('create_timeout'), minimum=0,
                                 default=conf.bay.create_timeout,
                                 why=' (minutes; 0 = no timeout)'),
        'discovery_url': _discovery_url(values.get('discovery_url')),
    }


def _name(value):
    if value is None:
        return None
    what = (f'1 to {MAX_NAME_LENGTH} characters: a letter, then letters, digits, '
            f'_ . or -')
    if not isinstance(value, str) or len(value) > MAX_NAME_LENGTH \
            or not NAME_PATTERN.fullmatch(value):
        raise invalid('name', value, what)
    return value


def _node_count(value):
    return to_int('node_count', value, minimum=1, default=DEFAULT_NODE_COUNT)


def _master_count(value):
    count = to_int('master_count', value, minimum=1, default=DEFAULT_MASTER_COUNT)
    if count > 1:
        raise invalid('master_count', value,
                      '1: more than one master needs a load balancer, which bayflow '
                      'does not build yet')
    return count


def _discovery_url(value):
    if value is None:
        return None
    what = 'an http:// or https:// URL, e.g. https://discovery.etcd.io/<token>'
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise invalid('discovery_url', value, what)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise invalid('discovery_url', value, what) from None
    if parts.scheme.lower() not in ('http', 'https') or not parts.hostname:
        raise invalid('discovery_url', value, what)
    return value


def validate_bay_update(stored, ops):
    """-> record: ``stored`` with the patch applied; only node_count may change.

    ``replace``/``add /node_count N`` sets it (an integer >= 1); ``remove
    /node_count`` resets it to 1. Any other path is refused, naming it.
    """
    if not isinstance(stored, dict):
        raise invalid('bay', type(stored).__name__, 'a stored bay record (dict)')
    result = dict(stored)
    for op, name, sub, value in normalise_ops(ops):
        shown_op = f'{op} /{name}' + (f'/{sub}' if sub else '')
        if name == 'baymodel_id' and op == 'remove':
            raise invalid('operation', shown_op, 'baymodel_id cannot be removed; only '
                                                 'node_count may change')
        if name not in UPDATABLE or sub is not None:
            raise invalid('operation', shown_op,
                          f'cannot change bay property {name}: only node_count may change')
        result['node_count'] = (DEFAULT_NODE_COUNT if op == 'remove'
                                else _node_count_required(value))
    return result


def _node_count_required(value):
    if value is None:
        raise invalid('node_count', None, 'an integer >= 1')
    return _node_count(value)
