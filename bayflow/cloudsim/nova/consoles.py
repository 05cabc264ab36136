"""Remote consoles (``remote-consoles`` from 2.6, the ``os-get*Console`` actions
before it) and console output.

The URLs have the shape nova's console proxies hand out (``novncproxy_base_url``
and friends with a fresh token); nothing listens behind them.
"""

import uuid
from urllib.parse import quote

from bayflow.cloudsim import errors
from bayflow.cloudsim.nova.common import (
    _bad, _field, _ge, _get_server, _invalid_state, _wrapped)

# console type -> (protocol, URL template): nova's default proxy URLs.
_CONSOLES = {
    'novnc': ('vnc', 'http://{host}:6080/vnc_auto.html?path={path}'),
    'spice-html5': ('spice', 'http://{host}:6082/spice_auto.html?token={token}'),
    'serial': ('serial', 'ws://{host}:6083/?token={token}'),
    'webmks': ('mks', 'http://{host}:6090/?token={token}'),
}
# the pre-2.6 actions: action -> protocol
_LEGACY = {'os-getVNCConsole': 'vnc', 'os-getSPICEConsole': 'spice',
           'os-getSerialConsole': 'serial', 'os-getRDPConsole': 'rdp'}


def _url(sim, server, protocol, console_type):
    """The console URL, with nova's checks: the server has a host, is not being
    deleted, and the type belongs to the protocol."""
    if protocol == 'rdp':
        raise _bad('Unavailable console type rdp.')
    if not server.get('host'):
        raise errors.nova(409, f"Instance {server['id']} is not ready")
    if server['task_state'] in ('deleting', 'migrating'):
        raise _invalid_state(f'get_{protocol}_console', server['id'], 'task_state',
                             server['task_state'])
    found = _CONSOLES.get(console_type)
    if found is None or found[0] != protocol:
        raise _bad(f'Invalid console type {console_type}')
    token = str(uuid.uuid4())
    host = f'[{sim.host}]' if ':' in sim.host else sim.host
    return found[1].format(host=host, token=token, path=quote(f'?token={token}', safe=''))


def create_remote_console(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    spec = _wrapped(req, 'remote_console', ('protocol', 'type'))
    protocols = ['vnc', 'spice', 'serial', 'rdp'] + (['mks'] if _ge(req, 2, 8) else [])
    types = ['novnc', 'xvpvnc', 'spice-html5', 'serial', 'rdp-html5'] + (
        ['webmks'] if _ge(req, 2, 8) else [])
    for key, allowed in (('protocol', protocols), ('type', types)):
        if key not in spec:
            raise _field('remote_console', spec, f"'{key}' is a required property")
        if spec[key] not in allowed:
            raise _field(key, spec[key], f'{spec[key]!r} is not one of {allowed}')
    url = _url(sim, server, spec['protocol'], spec['type'])
    return {'remote_console': {'protocol': spec['protocol'], 'type': spec['type'],
                               'url': url}}


def legacy_console(sim, req, server, action, args):
    """os-getVNCConsole and friends (2.1-2.5): ``{"console": {type, url}}``."""
    if _ge(req, 2, 6):
        raise errors.nova(404, 'The resource could not be found.')
    console_type = (args or {}).get('type') if isinstance(args, dict) else None
    url = _url(sim, server, _LEGACY[action], console_type)
    return {'console': {'type': console_type, 'url': url}}


def console_output(sim, req, server, action, args):
    """os-getConsoleOutput: the guest's boot log, the last ``length`` lines."""
    length = (args or {}).get('length') if isinstance(args, dict) else None
    if length is not None:
        try:
            length = int(length)
        except (TypeError, ValueError):
            raise _field('length', length, f"{length!r} is not valid under any of the "
                                           "given schemas")
        if length < -1:
            raise _field('length', length, f'{length!r} is less than the minimum of -1')
    if not server.get('host'):
        raise errors.nova(409, f"Instance {server['id']} is not ready")
    if server['vm_state'] != 'active':
        raise errors.nova(409, f"Instance {server['id']} is not ready")
    lines = [f"[    0.000000] Linux version 6.1.0 (cloudsim) #1 SMP",
             f"[    1.204211] Run /init as init process",
             f"cloud-init: Cloud-init v. 23.4 running 'init' at {server['launched_at']}",
             f"cloud-init: hostname {server['hostname']} ({server['id']})",
             f"{server['hostname']} login: "]
    if length is not None and length >= 0:
        lines = lines[-length:] if length else []
    return {'output': '\n'.join(lines)}


ACTIONS = {**{name: legacy_console for name in _LEGACY},
           'os-getConsoleOutput': console_output}
