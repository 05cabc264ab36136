"""The core of :class:`Cloud`: one shared openstacksdk connection, calls with
transient errors retried, find-or-create, and bounded waits.

Thread safety: the engine runs branches in parallel threads that share one
Cloud. The instance holds only the connection, its settings (never changed
after construction) and a lock-guarded cache of what the cloud supports;
every call keeps its state in locals.
"""

import concurrent.futures
import contextlib
import contextvars
import threading
import time

import tenacity
from openstack import exceptions as sdk_exc

from bayflow.drivers.cloud import errors, http
from bayflow.drivers.cloud.provider import cloud_conf, connect

# False only inside first_run(): see CloudBase._ensure.
_LOOK_FIRST = contextvars.ContextVar('bayflow_look_first', default=True)

# The service names microversion headers use (OpenStack-API-Version).
_API_VERSION_NAMES = {'block_storage': 'volume'}

# Independent calls (the checks of a bay-create, a role's attachments) go out together.
_TOGETHER = concurrent.futures.ThreadPoolExecutor(max_workers=32,
                                                  thread_name_prefix='bayflow-cloud')


@contextlib.contextmanager
def first_run():
    """Creates made here are a flow's first attempt at its step: the engine
    promises that no earlier attempt (of a crashed process) can have made them."""
    token = _LOOK_FIRST.set(False)
    try:
        yield
    finally:
        _LOOK_FIRST.reset(token)


def looking_first():
    """False inside :func:`first_run`: a create need not look for an earlier one."""
    return _LOOK_FIRST.get()


class Plain(dict):
    """An API item as JSON, read like an openstacksdk Resource (``item.id``; None
    for what it lacks), so find (a Resource) and create (this) look alike."""

    __getattr__ = dict.get


class _Service:
    """``cloud.network`` etc.: the connection's proxy, built once (see _service)."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, cloud, owner=None):
        return self if cloud is None else cloud._service(self.name)


class CloudBase:
    """Settings, retries and waits shared by every kind of resource."""

    def __init__(self, conn, retries=5, backoff=1.0, backoff_max=30.0,
                 wait_interval=2.0, wait_timeout=600):
        self.conn = conn
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.backoff_max = float(backoff_max)
        self.wait_interval = float(wait_interval)
        self.wait_timeout = float(wait_timeout)
        self._lock = threading.Lock()
        self._services = {}
        self._endpoints = {}
        self._capabilities = {}
        self._probing = {}  # capability -> the lock its first prober holds
        self._transport = None  # http.JsonTransport, made on first use

    @classmethod
    def from_config(cls, conf=None, cloud=None):
        """A Cloud on openstacksdk's configuration, with ``[cloud]`` settings."""
        group = cloud_conf(conf)
        conn = connect(conf, cloud)
        http.tune(conn, _TOGETHER._max_workers)
        return cls(conn, retries=group.api_retries,
                   backoff=group.retry_backoff, backoff_max=group.retry_backoff_max,
                   wait_interval=group.wait_interval, wait_timeout=group.wait_timeout)

    # -- services: built once under a lock (openstacksdk builds proxies lazily
    #    without one, and concurrent first uses would each build their own) --
    def _service(self, name):
        proxy = self._services.get(name)
        if proxy is None:
            with self._lock:
                proxy = self._services.get(name)
                if proxy is None:
                    proxy = self._services[name] = getattr(self.conn, name)
        return proxy

    def _url(self, service, path):
        """``path`` of ``service`` as an absolute URL: with a relative one,
        keystoneauth looks the endpoint up in the catalog on every request (a
        deep copy of the whole catalog, 0.3 ms of CPU a call); the endpoint of
        a connection's service does not change, so it is looked up once."""
        endpoint = self._endpoints.get(service)
        if endpoint is None:
            endpoint = getattr(self, service).get_endpoint()
            if not endpoint:
                return path  # keystoneauth raises its own EndpointNotFound
            with self._lock:
                endpoint = self._endpoints.setdefault(service, endpoint.rstrip('/'))
        return endpoint + path

    network, compute = _Service(), _Service()
    image, block_storage = _Service(), _Service()

    def _capability(self, key, probe):
        """A fact about the cloud, probed once (e.g. Neutron's tag-creation):
        the first caller probes, callers meanwhile wait for its answer (a
        daemon starting many flows at once would otherwise probe once each).
        A failed probe is not kept: the next caller tries again."""
        with self._lock:
            if key in self._capabilities:
                return self._capabilities[key]
            probing = self._probing.setdefault(key, threading.Lock())
        with probing:
            with self._lock:
                if key in self._capabilities:
                    return self._capabilities[key]
            value = probe()
            with self._lock:
                return self._capabilities.setdefault(key, value)

    def _json_call(self, method, service, url, body=None, params=None, microversion=None):
        """One call of plain JSON on the lean transport (http.JsonTransport),
        else through the service's proxy; HTTP errors raised as openstacksdk's."""
        transport = self._transport
        if transport is None:
            with self._lock:
                if self._transport is None:
                    self._transport = http.JsonTransport(self.conn.session,
                                                         _TOGETHER._max_workers)
                transport = self._transport
        if transport.direct(url):
            response = transport.request(method, url, body, params, microversion,
                                         _API_VERSION_NAMES.get(service, service))
        else:
            extra = {} if body is None else {'json': body}
            response = getattr(getattr(self, service), method)(
                url, params=params, microversion=microversion, **extra)
        sdk_exc.raise_from_response(response)
        return response

    def _list_json(self, service, path, key, params=None, microversion=None):
        """The plain dicts of a list call, every page: openstacksdk would make a
        Resource of each item, about 3 ms of CPU a server, so one look at a
        50-node bay's servers would cost 150 ms."""
        items, url = [], self._url(service, path)
        while url:
            body = self._json_call('get', service, url, params=params,
                                   microversion=microversion).json()
            items += body.get(key) or []
            url = next((link['href'] for link in body.get(f'{key}_links') or ()
                        if link.get('rel') == 'next'), None)
            params = None  # a next link carries the query
        return items

    def _create_json(self, service, path, key, body, microversion=None):
        """POST a create with a plain JSON body; -> the item as :class:`Plain`.

        For the resources a bay has one of per server (ports, floating IPs,
        volumes, servers, attachments): openstacksdk's Resource round trip
        costs 1.5 ms of CPU more a call, and a 50-node bay makes 250 of them
        on its critical path. Errors are openstacksdk's own exceptions."""
        return Plain(self._send_json('post', service, path, {key: body},
                                     microversion=microversion)[key])

    def _send_json(self, method, service, path, body, microversion=None):
        """POST or PUT a plain JSON body; -> the answer's JSON (see :meth:`_create_json`)."""
        return self._json_call(method, service, self._url(service, path), body,
                               microversion=microversion).json()

    # -- calls ---------------------------------------------------------------
    def _call(self, action, kind, name, fn, *args, secrets=(), **kwargs):
        """``fn(*args, **kwargs)`` with transient errors retried (exponential
        backoff with jitter, up to ``retries`` times); a permanent error, or a
        transient one that outlasts the retries, raises :class:`CloudError`.

        ``fn`` is re-run whole, so a find-or-create passed here re-checks
        before it re-creates: a create whose answer was lost is found."""
        tries = [0]

        def attempt():
            tries[0] += 1
            return fn(*args, **kwargs)
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(errors.is_transient),
            stop=tenacity.stop_after_attempt(self.retries + 1),
            wait=(tenacity.wait_exponential(multiplier=self.backoff, max=self.backoff_max)
                  + tenacity.wait_random(0, self.backoff)),
            reraise=True)
        try:
            return retrying(attempt)
        except errors.CloudError:
            raise
        except Exception as exc:
            if errors.is_cloud_error(exc):
                raise errors.from_exception(action, kind, name, exc, tries[0],
                                            secrets) from exc
            raise

    def _ensure(self, kind, name, find, create, secrets=(), action='create'):
        """Find-or-create as one retried unit: ``find()`` returns the existing
        resource or None, ``create()`` makes it.

        Inside :func:`first_run` the first attempt skips the find: nothing can
        exist yet, and a retry (the answer may have been lost) looks first."""
        attempts = [0]

        def find_or_create():
            attempts[0] += 1
            if attempts[0] == 1 and not _LOOK_FIRST.get():
                return create()
            found = find()
            return found if found is not None else create()
        return self._call(action, kind, name, find_or_create, secrets=secrets)

    def _wait(self, what, name, poll, timeout=None):
        """Poll ``poll()`` every ``wait_interval`` (from the start of one look
        to the next) until it returns something truthy (returned); a
        CloudError names ``what`` after ``timeout``."""
        timeout = self.wait_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            started = time.monotonic()
            value = poll()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise errors.CloudError(
                    'wait for', what, name,
                    f'still not done after {timeout:g} s ([cloud] wait_timeout)')
            time.sleep(max(started + self.wait_interval - time.monotonic(), 0))

    @staticmethod
    def together(calls):
        """``{key: fn()}`` with every ``fn`` run concurrently; once all have
        answered, the first error in ``calls``' order is raised, so the user
        sees the same error a one-by-one run would show first."""
        futures = {key: _TOGETHER.submit(contextvars.copy_context().run, fn)
                   for key, fn in calls.items()}
        concurrent.futures.wait(futures.values())
        for future in futures.values():
            if future.exception() is not None:
                raise future.exception()
        return {key: future.result() for key, future in futures.items()}

    def warm_up(self):
        """What a create's first steps would otherwise learn on the way, one
        round trip each: Cinder's API version and Neutron's tag support."""
        self._call('discover', 'service', 'block-storage',
                   self.block_storage.get_endpoint_data)
        self._tag_on_create()

    # -- the session ---------------------------------------------------------
    def identity(self):
        """The project and user of the session, for bay/baymodel records."""
        def read():
            return {'project_id': self.conn.current_project_id,
                    'user_id': self.conn.current_user_id}
        return self._call('read', 'session', 'identity', read)
