"""The HTTP session under openstacksdk, tuned for a bay's fan-outs.

A 50-node bay makes some 300 calls, most of them in its first second while
one Python process (one GIL) prepares them all: per-request CPU in requests
is on the bay's critical path.
"""

import os
import urllib.parse

from requests import utils as requests_utils
from requests.sessions import merge_setting


def tune(conn, pool_size):
    """Widen ``conn``'s connection pools and read the environment's proxy and
    CA settings once per endpoint instead of on every request."""
    session = conn.session.session
    _widen_pool(session, pool_size)
    _read_environment_once(session)


def _widen_pool(session, size):
    """Keep up to ``size`` connections to each endpoint: requests keeps 10, so
    the 11th concurrent call of a step's fan-out would open (and then drop) a
    connection of its own, a TCP handshake and a server thread each time."""
    for adapter in session.adapters.values():
        if getattr(adapter, '_pool_maxsize', size) < size:
            adapter._pool_maxsize = size
            adapter.init_poolmanager(adapter._pool_connections, size,
                                     block=adapter._pool_block)


def _read_environment_once(session):
    """requests reads the proxy variables (every variable of the environment,
    twice) and the CA bundle variables on every request: 0.2 ms of CPU a
    call. Here each endpoint's answer is kept, as a process that started with
    an environment keeps it; the rest of the merge is requests' own."""
    if getattr(session, '_bayflow_env_once', False):
        return
    original = session.merge_environment_settings
    found = {}

    def merge_environment_settings(url, proxies, stream, verify, cert):
        if not session.trust_env:
            return original(url, proxies, stream, verify, cert)
        no_proxy = proxies.get('no_proxy') if proxies is not None else None
        split = urllib.parse.urlsplit(url)
        key = (split.scheme, split.netloc, no_proxy)
        env = found.get(key)
        if env is None:
            env = found.setdefault(key, (
                requests_utils.get_environ_proxies(url, no_proxy=no_proxy),
                os.environ.get('REQUESTS_CA_BUNDLE') or os.environ.get('CURL_CA_BUNDLE')))
        env_proxies, ca_bundle = env
        if proxies is not None:
            for name, value in env_proxies.items():
                proxies.setdefault(name, value)
        if verify is True or verify is None:
            verify = ca_bundle or verify
        return {'proxies': merge_setting(proxies, session.proxies),
                'stream': merge_setting(stream, session.stream),
                'verify': merge_setting(verify, session.verify),
                'cert': merge_setting(cert, session.cert)}

    session.merge_environment_settings = merge_environment_settings
    session._bayflow_env_once = True
