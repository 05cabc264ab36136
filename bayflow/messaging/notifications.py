"""Bay lifecycle notifications, as Magnum Newton sent them (reference 6.2).

An oslo.messaging notification listener on ``[messaging] exchange``, topic
``notifications`` receives ``bayflow.bay.<action>`` with a CADF payload. A
notification is a side channel: a broker error is logged, never raised into
the flow that reported the bay's progress.
"""

import datetime
import socket
import threading
import uuid

from bayflow import config, log
from bayflow.messaging import oslo_wire, topology

CONF = config.CONF
LOG = log.get_logger(__name__)
ACTIONS = ('create', 'update', 'delete')
OUTCOMES = ('pending', 'success', 'failure')
CADF_EVENT = 'http://schemas.dmtf.org/cloud/audit/1.0/event'
INITIATOR_TYPE = 'service/security/account/user'
BAY_TYPE = 'service/bayflow/bay'


def priority_of(outcome):
    """info for pending and success, error for failure (Magnum Newton)."""
    return 'error' if outcome == 'failure' else 'info'


def cadf_payload(action, outcome, bay, context=None):
    """A pycadf Event as a dict: who asked (ids only, never a token), what, which bay."""
    context = context or {}
    target = {'typeURI': BAY_TYPE, 'id': bay.get('uuid'), 'name': bay.get('name')}
    initiator = {'typeURI': INITIATOR_TYPE, 'id': context.get('user_id') or 'unknown',
                 'user_id': context.get('user_id'), 'project_id': context.get('project_id')}
    return {'typeURI': CADF_EVENT,
            'eventType': 'activity',
            'id': str(uuid.uuid4()),
            'eventTime': datetime.datetime.now(datetime.timezone.utc).strftime(
                '%Y-%m-%dT%H:%M:%S.%f+0000'),
            'action': action,
            'outcome': outcome,
            'initiator': initiator,
            'target': target,
            'observer': dict(target)}


class Notifier:
    """Publishes bay notifications on its own (lazily opened) kombu connection."""

    def __init__(self, conf=CONF, connection=None):
        self.conf = conf
        self.publisher_id = f'bayflow.{conf.host or socket.gethostname()}'
        self._conn, self._own = connection, connection is None
        self._lock = threading.Lock()   # flows report from several threads

    def notify(self, action, outcome, bay, context=None):
        """Send ``bayflow.bay.<action>`` to every notification topic; never raises
        on a broker error (one log line instead)."""
        if action not in ACTIONS or outcome not in OUTCOMES:
            raise ValueError(f'notification {action!r}/{outcome!r}: action one of '
                             f'{ACTIONS}, outcome one of {OUTCOMES}')
        priority = priority_of(outcome)
        event_type = f'bayflow.bay.{action}'
        ctx = {k: (context or {}).get(k) for k in ('project_id', 'user_id', 'request_id')}
        body = oslo_wire.encode_notification(
            self.publisher_id, event_type, priority,
            cadf_payload(action, outcome, bay, ctx), ctx)
        try:
            with self._lock:
                self._publish(body, priority)
        except Exception as exc:   # noqa: BLE001 - a notification never fails a flow
            LOG.warning('notification not sent', event_type=event_type, outcome=outcome,
                        bay_uuid=bay.get('uuid'), error=f'{type(exc).__name__}: {exc}')
            self._reset()

    def _publish(self, body, priority):
        if self._conn is None:
            self._conn = topology.connection(self.conf)
        if self._conn.transport.driver_type != 'amqp':
            return   # only oslo.messaging peers listen, and they speak AMQP
        producer = self._conn.Producer()
        for topic in self.conf.messaging.notification_topics:
            routing_key = f'{topic}.{priority}'
            producer.publish(body, exchange=topology.rpc_exchange(self.conf),
                             routing_key=routing_key, serializer='json',
                             declare=[topology.notification_queue(self.conf, routing_key)],
                             retry=True, retry_policy=topology.PUBLISH_RETRY)

    def _reset(self):
        """Drop our own connection after an error, so the next notify reconnects."""
        if self._own and self._conn is not None:
            try:
                self._conn.release()
            except Exception:   # noqa: BLE001,S110 - it is broken already
                pass
            self._conn = None

    def close(self):
        with self._lock:
            self._reset()
