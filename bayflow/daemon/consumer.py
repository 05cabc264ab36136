"""The kombu side: consume events and RPC casts, settle each message once.

kombu channels belong to one thread, so this thread only receives and
settles; the ingest workers do the work and hand a verdict back through a
queue. A worker takes every message waiting (up to ``[daemon] ingest_batch``)
at once, so a burst of creates is recorded a batch to a transaction while a
lone event still goes straight through. A message is acknowledged only once
its verdict is in: its effect durable, or it is dead-lettered, or (an outage
outlasting the retries) requeued. ConsumerMixin reconnects with backoff;
messages unacknowledged on a lost connection come back from the broker, and
the recorded event ids make their second delivery a duplicate.
"""

import concurrent.futures
import os
import queue
import signal

from kombu import mixins

from bayflow import log
from bayflow.daemon import dispatch
from bayflow.engine import watch
from bayflow.messaging import topology

LOG = log.get_logger(__name__)

# How often (seconds) the consumer looks for verdicts between deliveries.
SETTLE_INTERVAL = 0.02
# Test hook (as the engine's BAYFLOW_CRASH_AT): SIGKILL after an event's
# effect is durable and before its message is acknowledged.
CRASH_BEFORE_ACK = 'daemon:before-ack'


class Consumer(mixins.ConsumerMixin):
    def __init__(self, connection, conf, ingest, metrics, server_name, workers, batch=1):
        self.connection, self.conf = connection, conf
        self.ingest, self.metrics, self.server_name = ingest, metrics, server_name
        self.workers, self.batch = workers, batch
        self.prefetch = workers * max(batch, 2)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix='ingest')
        self._inbox = queue.Queue()     # received, not taken by a worker yet
        self._verdicts = queue.Queue()
        self._pending = set()   # worker tasks not finished
        self._generation = 0    # channel a message came on; older ones are gone
        self.consuming = False
        self._conn = None
        self._crash = os.environ.get(watch.CRASH_ENV) == CRASH_BEFORE_ACK

    # -- kombu hooks ------------------------------------------------------------
    def create_connection(self):
        self.consuming = False
        return super().create_connection()

    def establish_connection(self):
        return _Established(self)

    def get_consumers(self, Consumer, channel):
        self._generation += 1
        generation = self._generation
        return [
            Consumer(queues=[topology.events_queue()], prefetch_count=self.prefetch,
                     on_message=lambda m: self._received('events', m, generation)),
            Consumer(queues=topology.rpc_queues(self.conf, self.server_name),
                     prefetch_count=self.prefetch,
                     on_message=lambda m: self._received('rpc', m, generation)),
        ]

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self._conn = connection
        self.consuming = True
        LOG.info('consuming %s and the RPC queues of topic %s', topology.EVENTS_QUEUE,
                 self.conf.messaging.topic)

    def on_iteration(self):
        self._settle_ready()

    def on_consume_end(self, connection, channel):
        """Stopping: let in-flight messages finish and settle them."""
        self.consuming = False
        for future in list(self._pending):
            try:
                future.result()
            except Exception:  # noqa: BLE001 - the verdict is queued either way
                pass
        self._settle_ready()

    def on_connection_error(self, exc, interval):
        self.consuming = False
        LOG.warning('message broker unreachable (%s); retrying in %.1f s', exc, interval)
        if self.should_stop:
            raise exc

    # -- messages ------------------------------------------------------------------
    def _received(self, source, message, generation):
        self.metrics.events_consumed.labels(source=source).inc()
        self._inbox.put((source, message, generation))
        future = self._pool.submit(self._take)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)

    def _take(self):
        """In a worker: ingest what waits in the inbox (maybe nothing: an
        earlier worker took it) and queue the verdicts for settling."""
        taken = []
        while len(taken) < self.batch:
            try:
                taken.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        if not taken:
            return
        self.metrics.ingest_batch.observe(len(taken))
        try:
            verdicts = self.ingest.batch([(source, message.body)
                                          for source, message, _ in taken])
        except Exception as exc:  # noqa: BLE001 - Ingest never raises; belt and braces
            verdicts = [dispatch.classify(exc)] * len(taken)
        for (source, message, generation), verdict in zip(taken, verdicts):
            self._verdicts.put((verdict, message, source, generation))

    def _settle_ready(self):
        while True:
            try:
                verdict, message, source, generation = self._verdicts.get_nowait()
            except queue.Empty:
                return
            if generation != self._generation:
                continue  # its channel is gone: the broker redelivers it (a duplicate)
            try:
                self._settle(verdict, message, source)
            except self.connection_errors + self.channel_errors as exc:
                LOG.warning('%s message not settled (%s): the broker redelivers it',
                            source, exc)

    def _settle(self, verdict, message, source):
        if verdict.kind == dispatch.RETRY:
            LOG.warning('%s message requeued: %s', source, verdict.reason)
            message.requeue()
            return
        if verdict.kind == dispatch.REFUSED:
            self.metrics.events_rejected.inc()
            LOG.warning('%s message dead-lettered: %s', source, verdict.reason)
            topology.dead_letter(self._conn, message.body, message.headers,
                                 verdict.reason,
                                 routing_key=message.delivery_info.get('routing_key'),
                                 content_type=message.content_type)
        elif verdict.kind == dispatch.DUPLICATE:
            self.metrics.events_duplicate.inc()
            LOG.info('event %s acknowledged as a duplicate', verdict.event['id'])
        else:
            self.metrics.events_accepted.inc()
            if self._crash:
                os.kill(os.getpid(), signal.SIGKILL)
        message.ack()

    def close(self):
        self._pool.shutdown(wait=True)


class _Established:
    """ConsumerMixin.establish_connection with a short backoff that gives up on stop."""

    def __init__(self, consumer):
        self.consumer = consumer

    def __enter__(self):
        self.conn = self.consumer.create_connection()
        self.conn.ensure_connection(self.consumer.on_connection_error, None,
                                    interval_start=0.2, interval_step=0.5,
                                    interval_max=5)
        return self.conn

    def __exit__(self, *exc):
        self.conn.release()
        return False
