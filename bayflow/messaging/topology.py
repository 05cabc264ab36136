"""Exchanges and queues, as kombu objects, and the two ways bayflow publishes to them.

Two families share one broker. bayflow's own events live on a durable topic
exchange of their own (``bayflow.events``). The oslo.messaging side (RPC in,
notifications out) lives on ``[messaging] exchange`` and is declared exactly
as oslo.messaging's rabbit driver declares it with its default options
(non-durable, no queue arguments but a fanout queue's x-expires): RabbitMQ
refuses a redeclaration of a name with other arguments (PRECONDITION_FAILED).
"""

import os
import uuid

import kombu

from bayflow import config, exceptions, log

CONF = config.CONF
EVENTS_EXCHANGE = 'bayflow.events'
EVENTS_QUEUE = 'bayflow.events'
EVENTS_BINDING = 'bay.*'
DEAD_QUEUE = 'bayflow.events.dead'
REASON_HEADER = 'x-bayflow-reason'
ROUTING_KEY_HEADER = 'x-bayflow-original-routing-key'
# oslo.messaging [oslo_messaging_rabbit] rabbit_transient_queues_ttl default (seconds).
FANOUT_QUEUE_TTL = 1800
# Seconds between two looks at an embedded (SQL) queue; kombu's default is 1.
EMBEDDED_POLLING_INTERVAL = 0.2
# Publishing gives up after this and raises; the caller says so in one line.
PUBLISH_RETRY = {'max_retries': 2, 'interval_start': 0.2, 'interval_step': 0.5,
                 'interval_max': 1}


def connection(conf=CONF):
    """A kombu connection to ``[messaging] transport_url`` (embedded SQLite by default).

    oslo.messaging's ``rabbit://`` spelling is accepted as kombu's ``amqp://``.
    """
    url = config.transport_url(conf)
    if url.startswith('rabbit://'):
        url = 'amqp://' + url[len('rabbit://'):]
    try:
        conn = kombu.Connection(url, connect_timeout=5)
        conn.transport   # noqa: B018 - resolves the scheme now, not at first use
    except (KeyError, ImportError):
        raise exceptions.InvalidParameter(
            '[messaging] transport_url', log.scrub_text(url),
            'a kombu URL such as amqp://user:password@host:5672// or '
            'sqla+sqlite:///path/events.sqlite') from None
    if url.startswith('sqla+'):
        if not conf.messaging.transport_url:
            os.makedirs(config.state_path(conf), exist_ok=True)
        # Not a transport option: the SQL transport hands those to create_engine.
        conn.transport.polling_interval = EMBEDDED_POLLING_INTERVAL
    return conn


def events_exchange():
    return kombu.Exchange(EVENTS_EXCHANGE, type='topic', durable=True)


def events_queue():
    return kombu.Queue(EVENTS_QUEUE, events_exchange(), routing_key=EVENTS_BINDING,
                       durable=True)


def dead_queue():
    """On the default exchange (routing key = its name), so any transport can route to it."""
    return kombu.Queue(DEAD_QUEUE, durable=True)


def rpc_exchange(conf=CONF):
    """oslo's control exchange: a topic exchange, durable=False, auto_delete=False."""
    return kombu.Exchange(conf.messaging.exchange, type='topic', durable=False,
                          auto_delete=False)


def rpc_queues(conf, server):
    """The queues an oslo.messaging RPC server on (topic, server) declares.

    ``<topic>`` and ``<topic>.<server>`` on the control exchange, and a
    ``<topic>_fanout_<random>`` queue on the fanout exchange ``<topic>_fanout``.
    """
    topic = conf.messaging.topic
    exchange = rpc_exchange(conf)
    fanout = kombu.Exchange(f'{topic}_fanout', type='fanout', durable=False, auto_delete=True)
    return [
        kombu.Queue(topic, exchange, routing_key=topic, durable=False, auto_delete=False),
        kombu.Queue(f'{topic}.{server}', exchange, routing_key=f'{topic}.{server}',
                    durable=False, auto_delete=False),
        kombu.Queue(f'{topic}_fanout_{uuid.uuid4().hex}', fanout, routing_key=topic,
                    durable=False, auto_delete=False,
                    queue_arguments={'x-expires': FANOUT_QUEUE_TTL * 1000}),
    ]


def notification_queue(conf, routing_key):
    """The queue oslo's notifier declares on first publish, so early notifications wait."""
    return kombu.Queue(routing_key, rpc_exchange(conf), routing_key=routing_key,
                       durable=False, auto_delete=False)


def publish_event(conn, event):
    """Publish one event (persistent) with its type as routing key; declares the topology.

    The event is published as given: validate it first with ``events.make``.
    Declaring on every new connection matters on the embedded transport, whose
    bindings live in the memory of the process that declared them.
    """
    conn.Producer().publish(
        event, exchange=events_exchange(), routing_key=event.get('type', ''),
        serializer='json', delivery_mode=2, message_id=event.get('id'),
        declare=[events_exchange(), events_queue(), dead_queue()],
        retry=True, retry_policy=PUBLISH_RETRY)


def dead_letter(conn, body, headers, reason, routing_key=None, content_type=None):
    """Publish the original body to the dead-letter queue, the reason in a header.

    An explicit publish (not a broker dead-letter-exchange), so the embedded
    transport has one too. ``routing_key`` is the message's original one;
    ``content_type`` its own (bytes without one go out as they are).
    """
    headers = dict(headers or {})
    headers[REASON_HEADER] = ' '.join(str(reason).split())[:1000]
    if routing_key is not None:
        headers[ROUTING_KEY_HEADER] = routing_key
    if isinstance(body, str):
        body, content_type = body.encode('utf-8'), content_type or 'text/plain'
    extra = {'serializer': 'json'} if isinstance(body, dict) else {
        'content_type': content_type or 'application/octet-stream',
        'content_encoding': 'utf-8' if content_type and content_type.startswith(
            ('application/json', 'text/')) else 'binary'}
    conn.Producer().publish(
        body, exchange='', routing_key=DEAD_QUEUE, headers=headers, delivery_mode=2,
        declare=[dead_queue()], retry=True, retry_policy=PUBLISH_RETRY, **extra)
