"""oslo.messaging's AMQP wire format (envelope 2.0), spoken with kombu alone.

bayflow reads RPC casts and writes notifications the way an oslo.messaging
peer does, without importing oslo.messaging (and eventlet) itself.
"""

import datetime
import json
import uuid

from bayflow import log
from bayflow.messaging.events import EventRefused, load_json

ENVELOPE_VERSION = '2.0'
VERSION_KEY, MESSAGE_KEY = 'oslo.version', 'oslo.message'
CONTEXT_PREFIX = '_context_'
# oslo_messaging.notify.dispatcher.PRIORITIES
PRIORITIES = ('audit', 'debug', 'info', 'warn', 'error', 'critical', 'sample')


def decode_rpc(body):
    """An RPC cast's body -> (method, kwargs, context, unique_id); raises EventRefused.

    The context is the cast's ``_context_*`` keys without secrets (auth_token and
    the like never leave this function). A call (it carries ``_msg_id``) is
    refused: bayflow sends no replies, and a caller that times out and retries
    would otherwise ask for a second bay.
    """
    envelope = load_json(body)
    version = envelope.get(VERSION_KEY)
    if MESSAGE_KEY not in envelope or not _compatible(version):
        raise EventRefused(f'$["{VERSION_KEY}"]: {json.dumps(version)} is not allowed: an '
                           f'oslo.messaging {ENVELOPE_VERSION} envelope '
                           f'{{"{VERSION_KEY}": "2.0", "{MESSAGE_KEY}": "<JSON>"}}',
                           f'$["{VERSION_KEY}"]')
    try:
        message = load_json(envelope[MESSAGE_KEY])
    except EventRefused as exc:
        raise EventRefused(exc.reason.replace('$', f'$["{MESSAGE_KEY}"]', 1),
                           f'$["{MESSAGE_KEY}"]') from None
    if message.get('_msg_id') is not None:
        raise EventRefused(f'$._msg_id: {json.dumps(message["_msg_id"])} is not allowed: '
                           f'bayflow serves casts only (a call would wait for a reply)',
                           '$._msg_id')
    method, kwargs = message.get('method'), message.get('args', {})
    if not isinstance(method, str) or not method:
        raise EventRefused('$.method: missing: an RPC message names its method', '$.method')
    if not isinstance(kwargs, dict):
        raise EventRefused('$.args: is not allowed: an object of keyword arguments', '$.args')
    return method, kwargs, unpack_context(message), message.get('_unique_id')


def unpack_context(message):
    """The ``_context_<key>`` entries of an oslo message, secrets left out."""
    return {key[len(CONTEXT_PREFIX):]: value for key, value in message.items()
            if key.startswith(CONTEXT_PREFIX)
            and not log.is_secret_key(key[len(CONTEXT_PREFIX):])}


def encode_notification(publisher_id, event_type, priority, payload, context=None):
    """-> the body oslo.messaging's MessagingV2 notifier would publish."""
    if priority.lower() not in PRIORITIES:
        raise ValueError(f'priority {priority!r}: one of {", ".join(PRIORITIES)}')
    message = {'message_id': str(uuid.uuid4()),
               'publisher_id': publisher_id,
               'event_type': event_type,
               'priority': priority.upper(),
               'payload': payload,
               'timestamp': oslo_timestamp(),
               '_unique_id': uuid.uuid4().hex}
    message.update((CONTEXT_PREFIX + key, value) for key, value in (context or {}).items()
                   if not log.is_secret_key(key))
    return {VERSION_KEY: ENVELOPE_VERSION, MESSAGE_KEY: json.dumps(message)}


def oslo_timestamp(now=None):
    """``str(timeutils.utcnow())``: naive UTC, a space between date and time."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return str(now.astimezone(datetime.timezone.utc).replace(tzinfo=None))


def _compatible(version):
    """oslo's version_is_compatible(2.0, version): same major, minor not newer."""
    try:
        major, minor = (int(part) for part in str(version).split('.'))
    except ValueError:
        return False
    return major == 2 and minor == 0
