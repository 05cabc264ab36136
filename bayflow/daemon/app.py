"""One daemon process: wire the consumer, the ingest, the flow pool and health.

Start: check the database, start the flow worker processes (``workers``),
resume this host's orphans (flows whose owner died, bays recorded but never
run), then consume. SIGTERM or SIGINT: stop consuming (in-flight messages
are settled first), ask running flows to stop at their next step boundary
(bays stay *_IN_PROGRESS, leases released), exit 0.
"""

import signal
import socket
import threading

from bayflow import config, log, service as service_mod
from bayflow.daemon import checks, consumer as consumer_mod, flows as flows_mod, health, heap
from bayflow.daemon import ingest, workers
from bayflow.daemon.metrics import Metrics
from bayflow.messaging import notifications, topology

LOG = log.get_logger(__name__)


def _started_by_the_daemon(bay_uuid):
    """Service.start_flow: the daemon starts a recorded flow itself, after its
    pending notification (Ingest), so nothing runs before that is sent."""


class Daemon:
    def __init__(self, conf=config.CONF, health_port=None):
        self.conf = conf
        self.health_port = conf.daemon.health_port if health_port is None else health_port
        self.metrics = Metrics()
        self.stopping = threading.Event()
        self.notifier = notifications.Notifier(conf)
        self.service = service_mod.Service(
            conf, start_flow=_started_by_the_daemon,
            check_baymodel=checks.CachedChecks(conf.daemon.cloud_check_seconds))
        processes = workers.count(conf)
        self.workers = (workers.WorkerProcesses(conf, processes, self.metrics.step_ended)
                        if processes > 1 else None)
        self.flows = flows_mod.FlowPool(self.service, conf.daemon.max_concurrent_flows,
                                        self.notifier, self.metrics, runner=self.workers)
        self.ingest = ingest.Ingest(self.service, self.flows, self.notifier, self.stopping)
        self.consumer = consumer_mod.Consumer(
            topology.connection(conf), conf, self.ingest, self.metrics,
            conf.host or socket.gethostname(), conf.daemon.ingest_workers,
            conf.daemon.ingest_batch)
        self.health = None

    def run(self):
        """Serve until stopped; -> exit code 0."""
        self.service.db, self.service.backend  # noqa: B018 - fail now if unusable
        if self.workers is not None:
            self.workers.start()
        if self.health_port:
            self.health = health.HealthServer(
                self.conf.daemon.health_host, self.health_port,
                lambda: self.consumer.consuming, self._db_ok, self.metrics,
                self.workers.running if self.workers is not None else None).start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)
        heap.settle()
        try:
            self.resume_orphans()
            self.consumer.run(safety_interval=consumer_mod.SETTLE_INTERVAL)
        finally:
            self._shut_down()
        return 0

    def stop(self, *_signal):
        """Stop taking messages in; run() then winds down and returns."""
        self.stopping.set()
        self.consumer.should_stop = True

    def resume_orphans(self):
        """Unfinished bays nobody runs (their owner dead, or never started)."""
        resumed = [bay['uuid'] for bay, why_not in self.service.resumable()
                   if why_not is None]
        for bay_uuid in resumed:
            self.flows.submit(bay_uuid)
        if resumed:
            LOG.info('resuming %d unfinished bay(s): %s', len(resumed), ', '.join(resumed))

    def _db_ok(self):
        try:
            self.service.db.now()
            return True
        except Exception:  # noqa: BLE001 - any failure means "not healthy"
            return False

    def _shut_down(self):
        LOG.info('stopping: running flows stop at their next step boundary')
        self.consumer.close()
        self.flows.shutdown()
        self.notifier.close()
        if self.health is not None:
            self.health.stop()
        self.service.close()
        LOG.info('stopped')
