"""Take one message in: parse it, apply it once, wait out outages.

Runs in the ingest workers, never touching the message itself (a kombu
channel belongs to the consumer's thread): the consumer acknowledges,
dead-letters or requeues by the verdict returned here.
"""

import collections
import threading

from bayflow import lifecycle, log
from bayflow.daemon import dispatch
from bayflow.messaging import events, oslo_wire

LOG = log.get_logger(__name__)

# An outage is waited out with the message held (unacknowledged): first
# retry after RETRY_FIRST seconds, doubling up to RETRY_MAX, for RETRY_FOR
# seconds in all; then the message is requeued for a later delivery.
RETRY_FIRST, RETRY_MAX, RETRY_FOR = 0.2, 5.0, 60.0


def parse(source, body):
    """-> the event of an event message or of an oslo.messaging RPC cast."""
    if source == 'rpc':
        method, kwargs, context, unique_id = oslo_wire.decode_rpc(body)
        return events.from_rpc(method, kwargs, context, unique_id)
    return events.parse(body)


class Ingest:
    def __init__(self, service, flows, notifier, stopping=None):
        self.service, self.flows, self.notifier = service, flows, notifier
        self.stopping = stopping or threading.Event()
        self._lock = threading.Lock()
        self._in_flight = collections.Counter()  # event ids being applied here

    def __call__(self, source, body):
        """-> dispatch.Verdict (never raises)."""
        try:
            event = parse(source, body)
        except Exception as exc:  # noqa: BLE001 - EventRefused, or a bug: both refused
            return dispatch.classify(exc)
        with self._lock:
            first = not self._in_flight[event['id']]
            self._in_flight[event['id']] += 1
        try:
            verdict = self._apply(event)
            self._follow_up(verdict, first)
        finally:
            with self._lock:
                self._in_flight[event['id']] -= 1
                if not self._in_flight[event['id']]:
                    del self._in_flight[event['id']]
        return verdict

    def _apply(self, event):
        delay, waited = RETRY_FIRST, 0.0
        while True:
            verdict = dispatch.handle(self.service, event)
            if verdict.kind != dispatch.RETRY or waited >= RETRY_FOR:
                return verdict
            LOG.warning('event %s: %s; trying again in %.1f s', event['id'],
                        verdict.reason, delay)
            if self.stopping.wait(delay):
                return verdict
            waited += delay
            delay = min(delay * 2, RETRY_MAX)

    def _follow_up(self, verdict, first):
        """Start the flow of an accepted event; a recorded event's flow that
        nobody runs (a crash or an outage came between) is started too, unless
        another delivery of it is still being applied here."""
        event = verdict.event
        try:
            bay = verdict.bay
            if bay is None and verdict.kind in (dispatch.ACCEPTED, dispatch.DUPLICATE) \
                    and first:
                bay = dispatch.needs_run(self.service, event['id'])
            if bay is None or bay['status'] not in lifecycle.IN_PROGRESS:
                return  # nothing to run (an update to the same size changes nothing)
            if verdict.kind == dispatch.ACCEPTED:
                self.notifier.notify(bay['operation'], 'pending', bay, event['context'])
            self.flows.submit(bay['uuid'], event['context'])
        except Exception as exc:  # noqa: BLE001 - the effect is durable; a resume finishes it
            LOG.warning('event %s: recorded, but its flow did not start here: %s',
                        event['id'], exc)
