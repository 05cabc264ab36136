"""Flow worker processes: the daemon's flows on more than one core.

A flow is Python work between its cloud calls, and one process runs Python
on one core at a time: with many bays building, the daemon's own process
was the bottleneck. ``[daemon] flow_processes`` workers each run flows in
threads, as the daemon would (``flows.InProcess``, so under each bay's
lease); the daemon keeps everything else (messages, records, outcomes,
notifications, metrics) and hands a worker a bay uuid at a time.

A worker is ``python -m bayflow.daemon.workers FD``: a fresh interpreter
(no fork of a threaded process) given the daemon's option values and log
level over its socket. It sends back each run's end and each step's time.
Whoever dies first:

- a worker: the daemon reaps it (its leases now name a dead process),
  starts another, and runs its bays again (``flows.WorkerLost``);
- the daemon: each worker reads end-of-file and exits at once, as if killed
  with it; the next daemon or ``bayflow resume`` takes the bays over.

SIGTERM and SIGINT are the daemon's to act on: a worker ignores them and
stops when the daemon says so, its flows at their next step boundary.
"""

import concurrent.futures
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing import connection as mp_connection

import bayflow

bayflow.quiet_imports()  # a worker is an entry point of its own

from bayflow import config, log, service as service_mod  # noqa: E402 - after quiet_imports
from bayflow.daemon import flows, heap  # noqa: E402
from bayflow.daemon.flows import WorkerLost  # noqa: E402
from bayflow.engine import watch  # noqa: E402

LOG = log.get_logger(__name__)

# Seconds a new worker has to import bayflow and open the database.
START_TIMEOUT = 120


def count(conf):
    """How many worker processes ``[daemon] flow_processes`` asks for; 1
    means none (flows in the daemon's own process)."""
    wanted = conf.daemon.flow_processes
    if wanted:
        return wanted
    url = config.database_url(conf)
    if url.startswith('sqlite'):
        return 1  # one file, one writer at a time: more processes only wait
    return max(1, min(os.cpu_count() or 1, conf.daemon.max_concurrent_flows))


class _Worker:
    """One worker process, seen from the daemon."""

    def __init__(self, slot, on_message):
        self.slot = slot
        self.pending = {}  # request id -> Future of (bay, ended)
        self.lock = threading.Lock()  # pending, closed
        self.closed = False
        self._send_lock = threading.Lock()
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, '-m', 'bayflow.daemon.workers', str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        finally:
            theirs.close()
        self.conn = mp_connection.Connection(ours.detach())
        self._on_message = on_message

    def send(self, message):
        with self._send_lock:
            self.conn.send(message)

    def wait_ready(self, init):
        """Hand the worker its start-up values; wait for it to say it is ready.
        A worker that does not is killed and reaped before the error."""
        self.send(init)
        if not self.conn.poll(START_TIMEOUT):
            self.kill()
            raise RuntimeError(f'flow worker {self.proc.pid} did not start in '
                               f'{START_TIMEOUT} s')
        try:
            kind, detail = self.conn.recv()
        except EOFError:
            kind, detail = 'failed', f'exit code {self.proc.wait()}'
        if kind != 'ready':
            self.kill()
            raise RuntimeError(f'flow worker {self.proc.pid} did not start: {detail}')

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def read(self):
        """The daemon's reader for this worker, until the worker is gone."""
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                break
            self._on_message(self, message)
        self.proc.wait()  # reaped: its pid is free, its leases' owner dead
        with self.lock:
            self.closed = True
            lost, self.pending = self.pending, {}
        self.conn.close()
        for future in lost.values():
            future.set_exception(WorkerLost(
                f'flow worker {self.proc.pid} died (exit code {self.proc.returncode})'))


class WorkerProcesses:
    """The daemon's side: ``run(bay_uuid)`` blocks (in a pool thread) while a
    worker runs the flow; ``on_step(step, state, seconds)`` as in
    ``watch.observe_steps``."""

    def __init__(self, conf, size, on_step):
        self.conf, self.size, self.on_step = conf, size, on_step
        self._lock = threading.Lock()
        self._workers = []
        self._ids = itertools.count()
        self._stopping = False
        self._stopped = threading.Event()  # ends _replace's waits between tries
        self._added = threading.Condition(self._lock)  # a worker (re)started

    def start(self):
        """Start every worker and wait until each has opened the database."""
        workers = [_Worker(slot, self._message) for slot in range(self.size)]
        try:
            for worker in workers:
                worker.wait_ready(self._init())
        except BaseException:
            for worker in workers:
                worker.kill()
            raise
        self._workers = workers
        for worker in workers:
            self._read(worker)
        LOG.info('flows run in %d worker processes: %s', len(workers),
                 ', '.join(str(w.proc.pid) for w in workers))
        return self

    def running(self):
        """(workers running, workers wanted): for /healthz."""
        with self._lock:
            return sum(not w.closed for w in self._workers), self.size

    def _init(self):
        # The daemon spreads its flows evenly over its workers: each one's
        # database pool is its share.
        return {'config': config.snapshot(self.conf),
                'log_level': logging.getLogger().level,
                'flows': -(-self.conf.daemon.max_concurrent_flows // self.size)}

    def _read(self, worker):
        threading.Thread(target=self._serve_reads, args=(worker,), daemon=True,
                         name=f'flow-worker-{worker.slot}').start()

    def _serve_reads(self, worker):
        worker.read()
        with self._lock:
            if self._stopping:
                return
        LOG.warning('flow worker %d died (exit code %s); starting another',
                    worker.proc.pid, worker.proc.returncode)
        self._replace(worker)

    def _replace(self, dead):
        """A new worker in the dead one's slot (tried again until one starts,
        unless the daemon is stopping)."""
        while True:
            with self._lock:
                if self._stopping:
                    return
            try:
                worker = _Worker(dead.slot, self._message)
                worker.wait_ready(self._init())
            except Exception as exc:  # noqa: BLE001 - keep the daemon's other workers
                LOG.error('flow worker could not be started again: %s', exc)
                if self._stopped.wait(5):
                    return
                continue
            with self._added:
                self._workers[dead.slot] = worker
                self._added.notify_all()
            self._read(worker)
            return

    def _message(self, worker, message):
        kind = message[0]
        if kind == 'step':
            self.on_step(*message[1:])
            return
        with worker.lock:
            future = worker.pending.pop(message[1], None)
        if future is None:
            return
        if kind == 'done':
            future.set_result(message[2])
        else:
            future.set_exception(RuntimeError(message[2]))

    def run(self, bay_uuid):
        future = concurrent.futures.Future()
        with self._added:
            # Every worker dead at once (the OOM killer, say): wait for one
            # to be started again rather than give the bay up.
            self._added.wait_for(lambda: self._stopping or any(
                not w.closed for w in self._workers), timeout=START_TIMEOUT)
            worker = min((w for w in self._workers if not w.closed),
                         key=lambda w: len(w.pending), default=None)
            request = next(self._ids)
        if worker is None:
            raise WorkerLost('no flow worker is running')
        with worker.lock:
            if worker.closed:
                raise WorkerLost(f'flow worker {worker.proc.pid} is gone')
            worker.pending[request] = future
        try:
            worker.send(('run', request, bay_uuid))
        except OSError:
            pass  # it died: its reader fails the future
        return future.result()

    def shutdown(self):
        """Each worker stops its flows at their next step boundary and exits."""
        with self._added:
            self._stopping = True
            workers = list(self._workers)
            self._added.notify_all()
        self._stopped.set()
        for worker in workers:
            try:
                worker.send(('stop',))
            except OSError:
                pass
        for worker in workers:
            worker.proc.wait()


# -- the worker process ---------------------------------------------------------

def _worker_main(fd):
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    conn = mp_connection.Connection(fd)
    init = conn.recv()
    conf = config.restore(init['config'])
    log.setup(conf.log_format, level=init['log_level'], log_file=config.log_file(conf))
    watch.CRASH_ALSO.append(os.getppid())
    send_lock = threading.Lock()

    def send(message):
        with send_lock:
            conn.send(message)

    service = service_mod.Service(conf, flows_here=init['flows'])
    try:
        service.db, service.backend  # noqa: B018 - fail now if unusable
    except Exception as exc:  # noqa: BLE001 - told to the daemon, which says it
        send(('failed', str(exc)))
        return 1
    runner = flows.InProcess(service)
    watch.observe_steps(lambda *step: send(('step', *step)))
    pool = concurrent.futures.ThreadPoolExecutor(
        max_workers=conf.daemon.max_concurrent_flows, thread_name_prefix='bay-flow')

    def serve(request, bay_uuid):
        try:
            result = ('done', request, runner.run(bay_uuid))
        except Exception as exc:  # noqa: BLE001 - the daemon logs it
            result = ('failed', request, str(exc) or type(exc).__name__)
        try:
            send(result)
        except OSError:
            pass  # the daemon is gone; the reader exits us

    heap.settle()
    send(('ready', os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            os._exit(1)  # the daemon died: go with it, leases and all
        if message[0] == 'run':
            pool.submit(serve, *message[1:])
        elif message[0] == 'stop':
            runner.shutdown()
            pool.shutdown(wait=True)
            service.close()
            return 0


if __name__ == '__main__':
    sys.exit(_worker_main(int(sys.argv[1])))
