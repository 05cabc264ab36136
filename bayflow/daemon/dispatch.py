"""From one event to one service call, and what became of it.

The verdicts are what the consumer does with the message: ``accepted`` and
``duplicate`` are acknowledged, ``refused`` is dead-lettered (a poison
message is never retried), ``retry`` is held back and tried again (a
database or cloud outage says nothing about the event itself).
"""

import collections

from sqlalchemy import exc as sa_exc

from bayflow import exceptions, log
from bayflow.drivers.cloud import errors as cloud_errors
from bayflow.messaging import events
from bayflow.persistence import exceptions as db_exc

LOG = log.get_logger(__name__)

ACCEPTED, DUPLICATE, REFUSED, RETRY = 'accepted', 'duplicate', 'refused', 'retry'
CREATE_FIELDS = ('name', 'node_count', 'master_count', 'discovery_url', 'create_timeout')

Verdict = collections.namedtuple('Verdict', 'kind reason event bay')


def verdict(kind, reason=None, event=None, bay=None):
    return Verdict(kind, reason, event, bay)


def _create_values(payload):
    values = {k: payload[k] for k in CREATE_FIELDS if payload.get(k) is not None}
    values['baymodel_id'] = payload['baymodel']
    return values


def apply(service, event):
    """The service call of ``event``; -> the bay as recorded (flow saved)."""
    payload, event_id = event['payload'], event['id']
    if event['type'] == 'bay.create':
        return service.create_bay(_create_values(payload), event_id=event_id)
    if event['type'] == 'bay.update':
        return service.update_bay(payload['bay'], payload['node_count'], event_id=event_id)
    if event['type'] == 'bay.delete':
        return service.delete_bay(payload['bay'], event_id=event_id)
    raise events.EventRefused(f"$.type: unknown event type {event['type']!r}", '$.type')


def handle(service, event):
    """Apply ``event`` once; -> Verdict. Never raises.

    A create records its event in the transaction that inserts the bay and
    its flow, so a duplicate fails there (DuplicateEvent) with nothing
    written; an update or a delete is looked up first, since its effect may
    be gone (a delete's bay) by the time it comes again.
    """
    creating = event['type'] == 'bay.create'
    try:
        if not creating and service.db.get_event(event['id']) is not None:
            return verdict(DUPLICATE, event=event)
        return verdict(ACCEPTED, event=event, bay=apply(service, event))
    except exceptions.DuplicateEvent:
        return verdict(DUPLICATE, event=event)
    except Exception as exc:  # noqa: BLE001 - sorted into retry / refused below
        found = classify(exc, event)
        if found.kind == REFUSED and _recorded(service, event):
            if creating:   # an earlier delivery's: its baymodel has gone since, say
                return verdict(DUPLICATE, event=event)
            # The bay and the event are in, but a later step failed (another
            # process resumed the bay meanwhile, say): the effect is durable.
            LOG.info('event %s: recorded; then %s', event['id'], found.reason)
            return verdict(ACCEPTED, reason=found.reason, event=event)
        return found


def handle_creates(service, events):
    """Apply bay.create events (distinct ids) in one transaction; -> one
    Verdict each, in order. Never raises.

    One query finds the duplicates and one transaction records the rest: a
    burst of events costs a few statements instead of a few each. When that
    transaction fails (an outage, or a duplicate delivered meanwhile) each
    event is handled alone, which tells them apart.
    """
    try:
        recorded = service.db.recorded_events([e['id'] for e in events])
        fresh = [e for e in events if e['id'] not in recorded]
        results = dict(zip((e['id'] for e in fresh), service.create_bays(
            [(_create_values(e['payload']), e['id']) for e in fresh])))
    except Exception as exc:  # noqa: BLE001 - each alone says what it was
        LOG.info('%d create events handled one at a time: %s', len(events),
                 str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return [handle(service, e) for e in events]
    out = []
    for event in events:
        if event['id'] not in results:
            out.append(verdict(DUPLICATE, event=event))
        elif isinstance(results[event['id']], Exception):
            out.append(classify(results[event['id']], event))
        else:
            out.append(verdict(ACCEPTED, event=event, bay=results[event['id']]))
    return out


def _recorded(service, event):
    try:
        return service.db.get_event(event['id']) is not None
    except Exception:  # noqa: BLE001 - cannot tell: keep the first verdict
        return False


def classify(exc, event=None):
    """Outage (retry) or the event's own fault (refused)."""
    if is_outage(exc):
        return verdict(RETRY, reason=str(exc).splitlines()[0], event=event)
    if isinstance(exc, (exceptions.BayflowError, db_exc.PersistenceError)):
        return verdict(REFUSED, reason=' '.join(str(exc).split()), event=event)
    # A bug of ours: dead-lettered too (with the traceback in the log), so one
    # bad message can never loop; it can be re-published once fixed.
    LOG.exception('event %s: unexpected error', event and event.get('id'))
    return verdict(REFUSED, reason=f'internal error: {type(exc).__name__}: {exc}',
                   event=event)


def is_outage(exc):
    """The database or the cloud is away: nothing wrong with the event."""
    if isinstance(exc, exceptions.DatabaseUnavailable):
        return True
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError,
                        sa_exc.DisconnectionError, sa_exc.TimeoutError)):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, cloud_errors.CloudError):
        # Already retried by the driver: still unreachable or failing (5xx, 429).
        return exc.status is None or exc.status >= 500 or exc.status == 429
    return cloud_errors.is_cloud_error(exc) and cloud_errors.is_transient(exc)


def needs_run(service, event_id):
    """The bay of a recorded event if it is unfinished and nobody runs it (a
    crash or an outage between the record and its run); else None."""
    record = service.db.get_event(event_id)
    if not record or not record.get('bay_uuid'):
        return None
    try:
        ((bay, why_not),) = service.resumable([record['bay_uuid']])
    except db_exc.NotFound:
        return None
    return bay if why_not is None else None
