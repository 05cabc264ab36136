"""How fast is the OpenStack simulator, next to raw HTTP handling?

    python bench/cloudsim_bench.py [--clients 32] [--requests 3200]

(To see where the time goes: ``py-spy record -o prof.svg -- python bench/cloudsim_bench.py``.)

Everything runs in this one process, at latency 0, in three phases:

1. baseline: ``--clients`` threads, each with its own keep-alive
   ``requests.Session``, GET a small fixed JSON document from a trivial
   ``http.server`` (``ThreadingHTTPServer``, HTTP/1.1, TCP_NODELAY: the server
   class the simulator is built on). Raw HTTP handling in Python, nothing else.
2. simulator, raw HTTP: the same clients and the same number of GETs, each an
   authenticated simple read (a Glance image show: auth, routing, the fault
   check, the state lock, rendering, JSON, the call log).
3. simulator, openstacksdk: ``--clients`` threads, each with its own
   ``openstack.connect`` connection, doing simple proxy calls round-robin
   (get network, list networks with a name filter, get flavor, get image, get
   volume: whichever of these services the simulator serves). Requests/s
   counts the HTTP requests the simulator answered (its ``/_sim/calls``).

Why a trivial server in the same process as the baseline: client and server
share one GIL in every phase, so the ratio of (2) to (1) is the simulator's
own overhead over raw HTTP handling, under the same conditions. To show which
side is the bottleneck, each phase also reports the CPU time the server
threads and the client threads spent per request (Linux: per-thread CPU from
/proc). The simulator's capacity is 1 / (its CPU per request) per core.

Request loops are bounded in count and in time (``--max-seconds`` per phase).
"""

import argparse
import json
import os
import sys
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import openstack  # noqa: E402
import requests  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

from bayflow.cloudsim import Simulator  # noqa: E402

TARGET = 500        # simple requests/s through openstacksdk
warnings.filterwarnings('ignore', module='openstack')   # its deprecation noise


class _Trivial(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True      # as the simulator does
    body = json.dumps({'version': {'id': 'v1', 'status': 'CURRENT'}}).encode()

    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(self.body)))
        self._headers_buffer.append(b'\r\n' + self.body)    # one write, as the simulator
        self.flush_headers()

    def log_message(self, *args):
        pass


class _TrivialServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


# -- CPU accounting ------------------------------------------------------------------
_TICK = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100


def _thread_cpu():
    """CPU seconds per live server thread (ThreadingMixIn's request threads)."""
    out = {}
    for thread in threading.enumerate():
        if 'process_request_thread' not in thread.name or thread.native_id is None:
            continue
        try:
            with open(f'/proc/self/task/{thread.native_id}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        out[thread.native_id] = (int(fields[11]) + int(fields[12])) / _TICK
    return out


class _Cpu:
    """Server-thread and whole-process CPU spent between start() and stop()."""

    def start(self):
        self.threads0, self.process0 = _thread_cpu(), time.process_time()

    def stop(self):
        threads1, process1 = _thread_cpu(), time.process_time()
        self.server = sum(cpu - self.threads0.get(tid, 0.0) for tid, cpu in threads1.items())
        self.client = (process1 - self.process0) - self.server
        return self


# -- load ------------------------------------------------------------------------------
def _session():
    session = requests.Session()
    session.mount('http://', HTTPAdapter(pool_connections=1, pool_maxsize=1))
    return session


def _run(workers, total, max_seconds):
    """``total`` calls over one thread per ready worker: (calls, seconds, cpu)."""
    clients = len(workers)
    per = max(1, total // clients)
    done = [0] * clients
    failures = []
    barrier = threading.Barrier(clients + 1)

    def loop(i):
        call = workers[i]
        barrier.wait()
        deadline = time.monotonic() + max_seconds
        try:
            for _ in range(per):
                call()
                done[i] += 1
                if time.monotonic() > deadline:
                    break
        except Exception as exc:    # reported: a failed run gives no figure
            failures.append(exc)

    threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    cpu = _Cpu()
    cpu.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    cpu.stop()
    if failures:
        raise RuntimeError(f'{len(failures)} client(s) failed, first: {failures[0]!r}')
    return sum(done), elapsed, cpu


def _raw_workers(clients, url, headers=None):
    def worker():
        session = _session()
        session.headers.update(headers or {})

        def call():
            response = session.get(url, timeout=30)
            response.raise_for_status()
        call()      # connect before the clock starts
        return call
    return [worker() for _ in range(clients)]


def bench_baseline(args):
    server = _TrivialServer(('127.0.0.1', 0), _Trivial)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        workers = _raw_workers(args.clients, f'http://127.0.0.1:{server.server_address[1]}/')
        return _run(workers, args.requests, args.max_seconds)
    finally:
        server.shutdown()
        server.server_close()


def _token(sim):
    body = {'auth': {'identity': {'methods': ['password'], 'password': {'user': {
        'name': 'demo', 'password': 'demo-password', 'domain': {'name': 'Default'}}}},
        'scope': {'project': {'name': 'demo', 'domain': {'name': 'Default'}}}}}
    response = requests.post(f'{sim.auth_url}/v3/auth/tokens', json=body, timeout=30)
    response.raise_for_status()
    return response.headers['X-Subject-Token']


def bench_sim_raw(sim, args):
    image = next(iter(sim.state.table('images')))
    workers = _raw_workers(args.clients, f'{sim.url}/image/v2/images/{image}',
                           {'X-Auth-Token': _token(sim)})
    return _run(workers, args.requests, args.max_seconds)


def _connect(sim):
    cfg = sim.clouds_yaml()['clouds']['sim']
    return openstack.connect(**cfg['auth'], region_name=cfg['region_name'])


def _sdk_calls(conn):
    """The simple calls this simulator serves: [(label, fn(conn))]."""
    calls = []
    try:
        net = conn.network.create_network(name='bench-net')
        calls.append(('network.get_network', lambda c: c.network.get_network(net.id)))
        calls.append(('network.networks(name=)',
                      lambda c: list(c.network.networks(name='bench-net'))))
    except openstack.exceptions.SDKException:
        pass                        # no Neutron in this simulator (yet)
    try:
        flavor = conn.compute.find_flavor('m1.small', ignore_missing=False)
        calls.append(('compute.get_flavor', lambda c: c.compute.get_flavor(flavor.id)))
    except openstack.exceptions.SDKException:
        pass                        # no Nova in this simulator (yet)
    image = conn.image.find_image('cirros-0.6.2-x86_64-disk', ignore_missing=False)
    calls.append(('image.get_image', lambda c: c.image.get_image(image.id)))
    volume = conn.block_storage.create_volume(size=1, name='bench-vol')
    calls.append(('block_storage.get_volume',
                  lambda c: c.block_storage.get_volume(volume.id)))
    return calls


def bench_sdk(sim, args):
    calls = _sdk_calls(_connect(sim))

    def worker(i):
        conn = _connect(sim)
        for _, fn in calls:         # authenticate and discover before the clock
            fn(conn)
        state = {'n': i}

        def call():
            _, fn = calls[state['n'] % len(calls)]
            state['n'] += 1
            fn(conn)
        return call

    workers = [worker(i) for i in range(args.clients)]
    before = sim.calls.render()['total']
    done, elapsed, cpu = _run(workers, args.requests, args.max_seconds)
    answered = sim.calls.render()['total'] - before
    return done, answered, elapsed, cpu, [label for label, _ in calls]


def _line(label, n, seconds, cpu, base_rate=None):
    rate = n / seconds
    text = (f'  {label:<34} {n:6d} requests in {seconds:6.2f}s = {rate:7.1f} req/s; '
            f'CPU per request: server {cpu.server / n * 1000:5.2f} ms, '
            f'client {cpu.client / n * 1000:5.2f} ms')
    if base_rate:
        text += f'; ratio to baseline {rate / base_rate:.2f}'
    print(text)
    return rate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--clients', type=int, default=32)
    parser.add_argument('--requests', type=int, default=3200,
                        help='calls per phase, split over the clients (default 3200)')
    parser.add_argument('--max-seconds', type=float, default=60.0,
                        help='stop a phase after this long (default 60)')
    args = parser.parse_args(argv)

    print(f'cloudsim bench: {args.clients} concurrent clients, latency 0, clients and '
          f'server in one process, {os.cpu_count()} cores')
    base_n, base_s, base_cpu = bench_baseline(args)
    base_rate = _line('baseline: trivial http.server', base_n, base_s, base_cpu)

    sim = Simulator(latency_ms=0, boot_seconds=0).start()
    try:
        raw_n, raw_s, raw_cpu = bench_sim_raw(sim, args)
        _line('simulator, raw HTTP (image show)', raw_n, raw_s, raw_cpu, base_rate)
        sdk_n, answered, sdk_s, sdk_cpu, labels = bench_sdk(sim, args)
    finally:
        sim.stop()
    sdk_rate = _line('simulator, openstacksdk', answered, sdk_s, sdk_cpu, base_rate)
    print(f'    ({sdk_n} SDK calls, round-robin: {", ".join(labels)})')
    server_ms = sdk_cpu.server / answered * 1000
    client_ms = sdk_cpu.client / answered * 1000
    print(f'  simulator CPU per request / openstacksdk client CPU per request: '
          f'{server_ms / client_ms:.2f}')
    print(f'  simulator capacity for these calls: {1000 / server_ms:.0f} req/s per core; '
          f'openstacksdk needs {client_ms / server_ms:.1f}x the simulator\'s CPU per request, '
          f'so {os.cpu_count()} cores cap the SDK at about '
          f'{os.cpu_count() * 1000 / (server_ms + client_ms):.0f} req/s')
    verdict = 'met' if sdk_rate >= TARGET else 'NOT met'
    bottleneck = 'the simulator' if server_ms > client_ms else 'openstacksdk (client side)'
    print(f'  target >= {TARGET} req/s through openstacksdk: {verdict}; '
          f'bottleneck: {bottleneck}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
