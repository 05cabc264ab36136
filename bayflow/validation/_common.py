"""What every validator shares: the COE/driver matrix, value coercion, one error style.

Every refusal is ``InvalidParameter(field, value, allowed)``: one line naming the
field, the value given and what is allowed. Values that could be secret are never
echoed (see ``shown``).
"""

import ipaddress
import re

from bayflow.exceptions import InvalidParameter

COES = ('kubernetes', 'swarm', 'mesos')
# Supported network drivers per COE: Magnum's Mitaka matrix plus calico for
# kubernetes (Magnum 7.0.0). The first one is the COE's default.
NETWORK_DRIVERS = {
    'kubernetes': ('flannel', 'calico'),
    'swarm': ('docker', 'flannel'),
    'mesos': ('docker',),
}
DEFAULT_NETWORK_DRIVER = {coe: drivers[0] for coe, drivers in NETWORK_DRIVERS.items()}
VOLUME_DRIVERS = {
    'kubernetes': ('cinder',),
    'swarm': ('rexray',),
    'mesos': ('rexray',),
}

_SECRET = re.compile(r'password|passwd|token|secret', re.I)
# scheme://user:password@host -> scheme://user:***@host
_URL_PASSWORD = re.compile(r'([a-z][a-z0-9+.-]*://[^/@:\s]*:)[^/@\s]*@', re.I)
_MAX_SHOWN = 80


class _Hidden:
    """Stands in for a value that must not be echoed."""

    def __repr__(self):
        return '<hidden>'

    __str__ = __repr__


HIDDEN = _Hidden()


def shown(field, value):
    """The value as it may appear in an error: secrets hidden, long text cut."""
    if _SECRET.search(str(field)):
        return HIDDEN
    if isinstance(value, str):
        if _SECRET.search(value):
            return HIDDEN
        value = _URL_PASSWORD.sub(r'\1***@', value)
        if len(value) > _MAX_SHOWN:
            value = f'{value[:60]}...({len(value)} characters)'
    return value


def invalid(field, value, allowed):
    """The one error every validator raises."""
    return InvalidParameter(field, shown(field, value), allowed)


def one_of(items):
    items = list(items)
    if len(items) == 1:
        return items[0]
    return ', '.join(items[:-1]) + ' or ' + items[-1]


# -- coercion: the CLI hands over strings, the Python API native types ---------

def to_str(field, value, default=None, required=False, max_len=255):
    what = f'a string of 1 to {max_len} characters'
    if value is None:
        if required:
            raise invalid(field, None, f'required: {what}')
        return default
    if not isinstance(value, str) or not 1 <= len(value) <= max_len:
        raise invalid(field, value, what)
    return value


_INT = re.compile(r'\s*[+-]?\d+\s*')


def to_int(field, value, minimum=None, maximum=None, default=None, why=''):
    if minimum is not None and maximum is not None:
        what = f'an integer from {minimum} to {maximum}'
    elif minimum is not None:
        what = f'an integer >= {minimum}'
    else:
        what = 'an integer'
    what += why
    if value is None:
        return default
    if isinstance(value, bool):
        raise invalid(field, value, what)
    if isinstance(value, str) and _INT.fullmatch(value):
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        raise invalid(field, value, what)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise invalid(field, value, what)
    return number


_TRUE = frozenset({'true', 'yes', 'on', '1'})
_FALSE = frozenset({'false', 'no', 'off', '0'})


def to_bool(field, value, default):
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise invalid(field, value, 'true or false')


def to_choice(field, value, choices, default=None, why=''):
    if value is None:
        return default
    if value not in choices:
        raise invalid(field, value, f'one of {", ".join(choices)}{why}')
    return value


# Networks a pod, service or node network can never use.
_UNUSABLE = (
    (ipaddress.IPv4Network('0.0.0.0/8'), 'this-host addresses'),
    (ipaddress.IPv4Network('127.0.0.0/8'), 'loopback'),
    (ipaddress.IPv4Network('169.254.0.0/16'), 'link-local, used by the metadata service'),
    (ipaddress.IPv4Network('224.0.0.0/4'), 'multicast'),
    (ipaddress.IPv4Network('240.0.0.0/4'), 'reserved'),
)


def to_ipv4_network(field, value, example='10.100.0.0/16'):
    """An IPv4 network in CIDR form with no host bits set, outside special ranges."""
    what = f'an IPv4 network in CIDR form, e.g. {example}'
    if not isinstance(value, str) or '/' not in value:
        raise invalid(field, value, what)
    try:
        net = ipaddress.IPv4Network(value)
    except ValueError:
        try:
            loose = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            raise invalid(field, value, what) from None
        raise invalid(field, value, f'an IPv4 network with no host bits set '
                                    f'(the network would be {loose})') from None
    for special, why in _UNUSABLE:
        if net.overlaps(special):
            raise invalid(field, value, f'a usable IPv4 network: it overlaps '
                                        f'{special} ({why})')
    return net


def to_ipv4_address(field, value, default=None):
    what = 'an IPv4 address, e.g. 8.8.8.8'
    if value is None:
        return default
    if not isinstance(value, str):
        raise invalid(field, value, what)
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        raise invalid(field, value, what) from None
    for special, why in _UNUSABLE:
        if address in special:
            raise invalid(field, value, f'a usable IPv4 address, not {why} ({special})')
    return address


def check_names(kind, values, known, read_only=()):
    """Refuse read-only and unknown attribute names, naming them all."""
    if not isinstance(values, dict):
        raise invalid(kind, type(values).__name__, 'a dict of attribute: value')
    names = set(values)
    refused = sorted(names & set(read_only))
    if refused:
        raise invalid('attribute', ', '.join(refused),
                      f'read-only: bayflow sets it, a {kind} request cannot')
    unknown = sorted(names - set(known) - set(read_only), key=str)
    if unknown:
        raise invalid('attribute', ', '.join(map(str, unknown)),
                      f'not a {kind} attribute; known: {", ".join(known)}')
