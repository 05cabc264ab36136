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

    def batch(self, messages):
        """(source, body) pairs -> a dispatch.Verdict each, in order (never raises).

        The create events among them are recorded together, in one
        transaction (dispatch.handle_creates); the rest one at a time.
        """
        verdicts, events = [None] * len(messages), {}
        for i, (source, body) in enumerate(messages):
            try:
                events[i] = parse(source, body)
            except Exception as exc:  # noqa: BLE001 - EventRefused, or a bug: both refused
                verdicts[i] = dispatch.classify(exc)
        firsts = self._enter({i: e['id'] for i, e in events.items()})
        try:
            together = self._together(events, firsts)
            if together:
                found = dispatch.handle_creates(self.service, [events[i] for i in together])
                for i, found_one in zip(together, found):
                    if found_one.kind != dispatch.RETRY:   # an outage: waited out below
                        verdicts[i] = found_one
            # An outage is waited out once a batch: when it outlasts the
            # retries, the rest get one try each and are requeued if it holds.
            patient = True
            for i, event in events.items():
                if verdicts[i] is None:
                    verdicts[i] = self._apply(event, patient)
                    patient = patient and verdicts[i].kind != dispatch.RETRY
                self._follow_up(verdicts[i], firsts[i])
        finally:
            self._leave([e['id'] for e in events.values()])
        return verdicts

    @staticmethod
    def _together(events, firsts):
        """The positions of the creates that can be recorded in one go: the
        first delivery of each id here (another is handled alone, after)."""
        seen, out = set(), []
        for i, event in events.items():
            if event['type'] == 'bay.create' and firsts[i] and event['id'] not in seen:
                seen.add(event['id'])
                out.append(i)
        return out if len(out) > 1 else []

    def _enter(self, ids):
        """Count the event ids ({position: id}) in flight; -> {position: whether
        it is the first delivery of its id here}."""
        firsts = {}
        with self._lock:
            for position, event_id in ids.items():
                firsts[position] = not self._in_flight[event_id]
                self._in_flight[event_id] += 1
        return firsts

    def _leave(self, ids):
        with self._lock:
            for event_id in ids:
                self._in_flight[event_id] -= 1
                if not self._in_flight[event_id]:
                    del self._in_flight[event_id]

    def _apply(self, event, patient=True):
        delay, waited = RETRY_FIRST, 0.0
        while True:
            verdict = dispatch.handle(self.service, event)
            if verdict.kind != dispatch.RETRY or waited >= RETRY_FOR or not patient:
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
