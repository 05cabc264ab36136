"""The HTTP front of the simulator: parsing, auth, faults, latency, counters.

A real ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive, so the real
openstacksdk talks to it exactly as to a cloud. Latency is applied after a
call's effect and before its response, as a slow cloud behaves: a client
killed mid-call leaves the effect behind.
"""

import collections
import ipaddress
import json
import random
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from bayflow.cloudsim import errors
from bayflow.cloudsim.router import Request, Response, as_response

# Path prefix -> service, for error bodies and fault rules.
SERVICE_PREFIXES = (
    ('/identity', 'identity'), ('/network', 'network'), ('/compute', 'compute'),
    ('/image', 'image'), ('/volume', 'volume'), ('/load-balancer', 'load-balancer'),
    ('/_sim', 'admin'),
)
MUTATING = {'POST', 'PUT', 'PATCH', 'DELETE'}
MAX_BODY = 256 * 1024 ** 2 + 65536      # image data (Glance's cap here) plus headroom
_RAW_TYPES = ('application/octet-stream',)     # bodies kept as bytes, not JSON


def service_of(path):
    for prefix, service in SERVICE_PREFIXES:
        if path == prefix or path.startswith(prefix + '/'):
            return service
    return 'identity'


class FaultRule:
    """``POST /_sim/faults``: let ``skip`` matching calls by, act on ``times``."""

    ACTIONS = ('status', 'delay_ms', 'drop', 'build_error')

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError('a fault rule is a JSON object')
        self.id = str(uuid.uuid4())
        self.method = (spec.get('method') or '').upper() or None
        try:
            self.path = re.compile(spec.get('path') or '')
        except re.error as exc:
            raise ValueError(f'path is not a valid regular expression: {exc}')
        self.skip = int(spec.get('skip') or 0)
        times = spec.get('times', 1)
        self.times = None if times is None else int(times)
        self.status = spec.get('status')
        self.delay_ms = int(spec.get('delay_ms') or 0)
        self.drop = bool(spec.get('drop'))
        self.build_error = bool(spec.get('build_error'))
        self.after_effect = bool(spec.get('after_effect'))
        if self.status is not None and not (400 <= int(self.status) <= 599):
            raise ValueError('status must be an HTTP error code (400-599)')
        if not (self.status or self.delay_ms or self.drop or self.build_error):
            raise ValueError('a fault rule needs an action: status, delay_ms, drop '
                             'or build_error')
        self.seen = 0
        self.fired = 0

    def take(self, method, path):
        """True when this call is one the rule acts on (counts it)."""
        if self.method and self.method != method:
            return False
        if not self.path.search(path):
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True

    def render(self):
        return {'id': self.id, 'method': self.method, 'path': self.path.pattern,
                'skip': self.skip, 'times': self.times, 'status': self.status,
                'delay_ms': self.delay_ms, 'drop': self.drop,
                'build_error': self.build_error, 'after_effect': self.after_effect,
                'seen': self.seen, 'fired': self.fired}


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def add(self, spec):
        rule = FaultRule(spec)
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self):
        with self.lock:
            self.rules = []

    def match(self, method, path):
        with self.lock:
            return [r for r in self.rules if r.take(method, path)]

    def render(self):
        with self.lock:
            return [r.render() for r in self.rules]


class Calls:
    """Counters per method and path template, and a bounded log of recent calls."""

    def __init__(self, size=500):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.recent = collections.deque(maxlen=size)

    def record(self, method, template, path, status, request_id):
        with self.lock:
            self.counts[f'{method} {template}'] += 1
            self.recent.append({'time': time.time(), 'method': method, 'path': path,
                                'template': template, 'status': status,
                                'request_id': request_id})

    def reset(self):
        with self.lock:
            self.counts.clear()
            self.recent.clear()

    def render(self):
        with self.lock:
            return {'counts': dict(self.counts), 'total': sum(self.counts.values()),
                    'recent': list(self.recent)}


class _Drop(Exception):
    """Close the connection without answering."""


class _TooLarge(Exception):
    """A request body over MAX_BODY: answered 413, the connection closed."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'bayflow-cloudsim'
    sys_version = ''
    # TCP_NODELAY: without it Nagle's algorithm and the client's delayed ACK
    # stall every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):     # quiet: counters and /_sim/calls tell
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _read_body(self):
        """The body, by Content-Length or chunked (a streamed image upload)."""
        if (self.headers.get('Transfer-Encoding') or '').lower() == 'chunked':
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline(65537).split(b';')[0].strip() or b'0', 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b'\r\n', b'\n', b''):
                        pass            # trailers
                    return b''.join(chunks)
                total += size
                if total > MAX_BODY:
                    raise _TooLarge()
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get('Content-Length') or 0)
        if length > MAX_BODY:
            raise _TooLarge()
        return self.rfile.read(length) if length else b''

    def _handle(self):
        sim = self.server.sim
        # a random version-4 UUID without os.urandom's syscall on every request
        request_id = 'req-' + str(uuid.UUID(int=random.getrandbits(128), version=4))
        split = urlsplit(self.path)
        path = split.path.rstrip('/') or '/'
        method = self.command
        service = service_of(path)
        try:
            raw = self._read_body()
        except _TooLarge:
            self.close_connection = True
            err = errors.for_service(service, 413, 'The request body is too large.')
            sim.calls.record(method, path, path, 413, request_id)
            self._send(Response(err.status, err.body), request_id, method)
            return
        template = path
        try:
            rules = [] if service == 'admin' else sim.faults.match(method, path)
            response, template = self._dispatch(sim, method, path, split.query, raw,
                                                service, rules)
        except _Drop as drop:
            template = drop.args[0] if drop.args else template
            if method in MUTATING:      # an after_effect drop changed the world
                sim.state.save()
            sim.calls.record(method, template, path, 'dropped', request_id)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if method in MUTATING and service != 'admin' and response.status < 400:
            sim.state.save()
        sim.calls.record(method, template, path, response.status, request_id)
        if sim.latency and service != 'admin':
            time.sleep(sim.latency)
        self._send(response, request_id, method)

    def _dispatch(self, sim, method, path, query, raw, service, rules):
        """The response and the route template the call matched."""
        for rule in rules:
            if rule.delay_ms:
                time.sleep(rule.delay_ms / 1000.0)
        before = [r for r in rules if not r.after_effect]
        for rule in before:
            if rule.drop:
                raise _Drop()
            if rule.status:
                err = errors.for_service(service, int(rule.status),
                                         'Injected fault by the simulator.')
                return Response(err.status, err.body), path
        found = sim.router.match(method, path)
        if isinstance(found, int):
            err = errors.for_service(service, found, 'The resource could not be found.'
                                     if found == 404 else 'Method not allowed.')
            return Response(err.status, err.body), path
        handler, params, template, svc, needs_auth = found
        try:
            body = None
            ctype = (self.headers.get('Content-Type') or '').split(';')[0].strip().lower()
            if raw and ctype not in _RAW_TYPES:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise errors.for_service(svc, 400, 'Malformed request body.')
            query_args = parse_qs(query, keep_blank_values=True)
            headers = self.headers
            if svc == 'admin' and not _is_loopback(self.client_address[0]):
                raise errors.keystone(403, 'The simulator admin API is loopback-only.')
            context = sim.authenticate(headers, svc) if needs_auth else None
            request = Request(method, path, query_args, headers, body, context, raw)
            request.params, request.template = params, template
            request.build_error = any(r.build_error for r in rules)
            sim.state.advance()
            with sim.state.lock:
                result = handler(sim, request, **params)
            response = as_response(result)
        except errors.ApiError as exc:
            response = Response(exc.status, exc.body, exc.headers)
        except Exception as exc:    # a simulator bug must still answer, as a 500
            sim.log_exception(exc)
            err = errors.for_service(svc, 500, f'Internal error: {type(exc).__name__}: {exc}')
            response = Response(err.status, err.body)
        for rule in rules:
            if rule.after_effect and rule.drop:
                raise _Drop(template)
            if rule.after_effect and rule.status:
                err = errors.for_service(service, int(rule.status),
                                         'Injected fault by the simulator.')
                response = Response(err.status, err.body)
        return response, template

    def _send(self, response, request_id, method):
        body = response.body
        headers = dict(response.headers)
        if body is None:
            payload = b''
        elif isinstance(body, (bytes, str)):
            payload = body.encode() if isinstance(body, str) else body
            headers.setdefault('Content-Type', 'text/plain')
        else:
            payload = json.dumps(body).encode()
            headers.setdefault('Content-Type', 'application/json')
        if response.status in (204, 304):
            payload = b''
        self.send_response(response.status)
        headers.setdefault('X-Openstack-Request-Id', request_id)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header('Content-Length', str(0 if method == 'HEAD' else len(payload)))
        # Headers and body leave in one write (one TCP segment for small answers).
        self._headers_buffer.append(b'\r\n')
        if payload and method != 'HEAD':
            self._headers_buffer.append(payload)
        self.flush_headers()


def _is_loopback(host):
    try:
        address = ipaddress.ip_address(host)
        # An IPv4 client of a dual-stack socket shows as ::ffff:127.0.0.1.
        mapped = getattr(address, 'ipv4_mapped', None)
        return (mapped or address).is_loopback
    except ValueError:
        return False


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, sim):
        self.sim = sim
        family = socket.AF_INET6 if ':' in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, Handler)
