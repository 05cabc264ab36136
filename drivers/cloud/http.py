"""HTTP to the cloud, tuned for a bay's fan-outs: openstacksdk's session,
and a lean JSON transport beside it for the calls a bay makes by the dozen.

A 50-node bay makes some 300 calls, most of them in its first second while
one Python process (one GIL) prepares them all, and a daemon builds many bays
at once: per-request CPU is on the critical path.
"""

import json
import os
import types
import urllib.parse

import urllib3
from keystoneauth1 import exceptions as ksa_exc
from requests import utils as requests_utils
from requests.sessions import merge_setting

import bayflow
from bayflow import log

LOG = log.get_logger(__name__)
USER_AGENT = f'bayflow/{bayflow.__version__}'


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
                requests_utils.get_environ_proxies(url, no_proxy=no_proxy), _ca_bundle()))
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


def _ca_bundle():
    """The CA bundle the environment names for requests, if any."""
    return os.environ.get('REQUESTS_CA_BUNDLE') or os.environ.get('CURL_CA_BUNDLE')


# -- plain JSON calls on urllib3 ---------------------------------------------------

class Response:
    """What openstacksdk's ``raise_from_response`` and its exceptions read of a
    requests Response, over urllib3's."""

    def __init__(self, raw, method, url):
        self.status_code, self.reason = raw.status, raw.reason
        self.headers, self.content = raw.headers, raw.data
        self.url = url
        self.request = types.SimpleNamespace(method=method, url=url)

    @property
    def text(self):
        return self.content.decode('utf-8', 'replace')

    def json(self):
        return json.loads(self.content)


class JsonTransport:
    """A bay's hot calls (``CloudBase._list_json`` / ``_send_json``) straight on
    urllib3, with keystoneauth's token and TLS settings.

    Through openstacksdk's proxy, keystoneauth's session and requests, a call
    cost 0.6 ms of CPU, 0.18 ms on urllib3; with 50 bays building, that was a
    fifth of the daemon's Python time. What those layers did for these calls
    is done here: a 401 drops the token and tries once more, connection
    failures raise keystoneauth's exceptions and HTTP errors openstacksdk's
    (``raise_from_response``), so retries and messages stay the same.
    Endpoints an environment proxy applies to go the usual way (``direct``).
    """

    def __init__(self, session, pool_size):
        self.session = session  # keystoneauth1 Session
        options = {'maxsize': pool_size, 'retries': urllib3.Retry(0, read=False),
                   'timeout': urllib3.Timeout(total=session.timeout)}
        verify = session.verify
        if verify is False:
            options['cert_reqs'] = 'CERT_NONE'
        else:
            options['cert_reqs'] = 'CERT_REQUIRED'
            options['ca_certs'] = verify if isinstance(verify, str) else (
                _ca_bundle() or requests_utils.DEFAULT_CA_BUNDLE_PATH)
        cert = session.cert
        if cert:
            options['cert_file'], options['key_file'] = \
                (cert if isinstance(cert, (tuple, list)) else (cert, None))
        self._pool = urllib3.PoolManager(**options)
        self._direct = {}

    def direct(self, url):
        """False when the environment sets a proxy for ``url``'s host."""
        netloc = urllib.parse.urlsplit(url).netloc
        found = self._direct.get(netloc)
        if found is None:
            found = self._direct.setdefault(
                netloc, not requests_utils.get_environ_proxies(url))
        return found

    def request(self, method, url, body=None, params=None, microversion=None,
                service_type=None):
        method = method.upper()
        if params:
            url += ('&' if '?' in url else '?') + urllib.parse.urlencode(params)
        data = None if body is None else json.dumps(body).encode()
        headers = {'Accept': 'application/json', 'User-Agent': USER_AGENT}
        if data is not None:
            headers['Content-Type'] = 'application/json'
        if microversion:
            headers['OpenStack-API-Version'] = f'{service_type} {microversion}'
            if service_type == 'compute':
                headers['X-OpenStack-Nova-API-Version'] = microversion
        for attempt in (1, 2):
            headers.update(self.session.get_auth_headers())
            try:
                raw = self._pool.request(method, url, body=data, headers=headers,
                                         redirect=False)
            except urllib3.exceptions.HTTPError as exc:
                raise _connection_error(method, url, exc) from exc
            LOG.debug('%s %s: %s (%s)', method, url, raw.status,
                      raw.headers.get('x-openstack-request-id'))
            if raw.status == 401 and attempt == 1:
                self.session.invalidate()  # expired or revoked: a new one, once
                continue
            return Response(raw, method, url)


def _connection_error(method, url, exc):
    """keystoneauth's exception for a failed connection, as its session raises."""
    reason = getattr(exc, 'reason', None) or exc
    text = f'{method} {url}: {reason}'
    if isinstance(reason, urllib3.exceptions.SSLError):
        return ksa_exc.SSLError(text)
    if isinstance(reason, urllib3.exceptions.NewConnectionError):
        return ksa_exc.ConnectFailure(text)  # refused, unreachable: a TimeoutError subclass
    if isinstance(reason, urllib3.exceptions.TimeoutError):
        return ksa_exc.ConnectTimeout(text)
    return ksa_exc.ConnectFailure(text)
