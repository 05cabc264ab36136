"""The simulator object: state, routes and the HTTP server, started in-process."""

import logging
import threading
import time

from bayflow.cloudsim import (
    admin, cinder, errors, glance, keystone, neutron, nova, octavia)
from bayflow.cloudsim.router import Router
from bayflow.cloudsim.server import Calls, Faults, HTTPServer
from bayflow.cloudsim.state import State

LOG = logging.getLogger(__name__)
SERVICES = (keystone, neutron, nova, glance, cinder, octavia, admin)


class Simulator:
    """An OpenStack API simulator on ``host:port`` (port 0 picks a free one).

    ``start()`` serves from a background thread; ``stop()`` shuts it down.
    ``clouds_yaml()`` gives openstacksdk's configuration for clouds ``sim``
    (demo project) and ``sim-admin``.
    """

    def __init__(self, host='127.0.0.1', port=0, latency_ms=0, boot_seconds=1.0,
                 state_file=None, token_ttl=3600):
        self.latency = latency_ms / 1000.0
        self.token_ttl = token_ttl
        self.state = State(boot_seconds=boot_seconds, path=state_file)
        self.router = Router()
        self.faults = Faults()
        self.calls = Calls()
        self.crashes = []         # handler exceptions (each answered as a 500)
        for service in SERVICES:
            service.register(self.router, self.state)
        if not self.state.load():
            self.state.seed()
        self.httpd = HTTPServer((host, port), self)
        self.host, self.port = self.httpd.server_address[:2]
        self._thread = None

    @property
    def url(self):
        host = f'[{self.host}]' if ':' in self.host else self.host
        return f'http://{host}:{self.port}'

    @property
    def auth_url(self):
        return self.url + '/identity'

    # -- running -------------------------------------------------------------
    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={'poll_interval': 0.2},
                                        name='cloudsim', daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=10)
        self.state.save()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset(self):
        """Back to the seed data, faults and counters cleared."""
        self.faults.clear()
        self.calls.reset()
        self.crashes.clear()
        self.state.seed()
        self.state.save()

    # -- auth ----------------------------------------------------------------
    def token(self, token_id):
        token = self.state.table('tokens').get(token_id or '')
        if token and token['expires'] > time.time():
            return token
        return None

    def authenticate(self, headers, service):
        token = self.token(headers.get('X-Auth-Token'))
        if token is None:
            raise errors.for_service(service, 401,
                                     'The request you have made requires authentication.')
        if token['project_id'] is None and service != 'identity':
            raise errors.for_service(service, 403, 'An unscoped token cannot be used here: '
                                                   'scope it to a project.')
        return keystone.Context(token)

    def expire_tokens(self):
        """Make every issued token invalid (clients must re-authenticate)."""
        with self.state.lock:
            self.state.table('tokens').clear()

    # -- configuration handed to openstacksdk ----------------------------------
    def clouds_yaml(self):
        return clouds_config(self.auth_url)

    def log_exception(self, exc):
        """A handler bug: logged, and kept so tests can insist there were none."""
        self.crashes.append(f'{type(exc).__name__}: {exc}')
        del self.crashes[:-100]
        LOG.error('simulator error: %s', exc, exc_info=exc)


def clouds_config(auth_url):
    """openstacksdk's clouds.yaml data for clouds ``sim`` (demo project) and
    ``sim-admin`` of a simulator whose Keystone is at ``auth_url``."""
    clouds = {}
    for name, (user, password, project, _) in zip(('sim', 'sim-admin'), keystone.USERS):
        clouds[name] = {
            'auth': {'auth_url': auth_url, 'username': user, 'password': password,
                     'project_name': project, 'user_domain_name': 'Default',
                     'project_domain_name': 'Default'},
            'region_name': keystone.REGION,
            'identity_api_version': 3,
            'interface': 'public',
        }
    return {'clouds': clouds}
