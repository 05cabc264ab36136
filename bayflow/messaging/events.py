"""The event contract: parse, make and translate bay events (schema event-1.0).

One JSON Schema file (shipped beside this module) is the contract; this module
only turns its verdict into one line a person can act on, because a refused
event is dead-lettered with that line as its reason.
"""

import functools
import json
import uuid
from importlib import resources

import jsonschema

from bayflow import exceptions

VERSION = '1.0'
EVENT_TYPES = ('bay.create', 'bay.update', 'bay.delete')
CONTEXT_KEYS = ('project_id', 'user_id', 'request_id')
SCHEMA_FILE = 'event-1.0.schema.json'
# An oslo.messaging cast's `_unique_id` names the same event on every delivery.
RPC_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, 'urn:bayflow:oslo-rpc-cast')
RPC_METHODS = ('bay_create', 'bay_update', 'bay_delete')
_SHOWN = 80   # longest value repr quoted in a reason


class EventRefused(exceptions.BayflowError):
    """An event bayflow will not act on; ``reason`` is one line naming the field."""

    exit_code = 2

    def __init__(self, reason, field=None):
        self.reason, self.field = ' '.join(str(reason).split()), field
        super().__init__(self.reason)


def schema():
    """The event JSON Schema (draft 2020-12), as shipped in the package."""
    return json.loads(_schema_text())


@functools.cache
def _schema_text():
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_text()


@functools.cache
def _validator():
    cls = jsonschema.Draft202012Validator
    return cls(schema(), format_checker=cls.FORMAT_CHECKER)


def load_json(body):
    """bytes | str | dict -> a JSON object; kombu hands either, depending on content type."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            body = bytes(body).decode('utf-8')
        except UnicodeDecodeError as exc:
            raise EventRefused(f'$: the body is not UTF-8 text ({exc.reason})', '$') from None
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise EventRefused(f'$: the body is not valid JSON ({exc})', '$') from None
    if not isinstance(body, dict):
        raise EventRefused(f'$: {_shown(body)} is not allowed: a JSON object', '$')
    return body


def parse(body):
    """-> the validated event, with every context key present; raises EventRefused."""
    event = load_json(body)
    error = jsonschema.exceptions.best_match(_validator().iter_errors(event))
    if error is not None:
        raise _refusal(error, event)
    event = dict(event)
    event['id'] = str(uuid.UUID(event['id']))   # one spelling, so duplicates compare equal
    event['context'] = {k: event['context'].get(k) for k in CONTEXT_KEYS}
    return event


def make(type, payload, context=None, event_id=None):   # noqa: A002 - the contract's word
    """A new valid event (a fresh uuid4 id unless one is given); raises EventRefused."""
    return parse({'version': VERSION, 'id': event_id or str(uuid.uuid4()), 'type': type,
                  'context': dict(context or {}), 'payload': payload})


def from_rpc(method, kwargs, context, message_id):
    """An oslo.messaging cast of Magnum's conductor API -> the same event as a publisher's.

    The id derives from the cast's ``_unique_id``, so a redelivery is a duplicate.
    """
    if method not in RPC_METHODS:
        raise EventRefused(f'$.method: {_shown(method)} is not allowed: one of '
                           f'{", ".join(RPC_METHODS)}', '$.method')
    if not message_id:
        raise EventRefused('$._unique_id: missing: every oslo.messaging cast carries one',
                           '$._unique_id')
    kwargs = kwargs or {}
    if method == 'bay_delete':
        event_type, payload = 'bay.delete', {'bay': _arg(kwargs, 'uuid')}
    else:
        bay = _arg(kwargs, 'bay')
        bay = bay.get('versioned_object.data', bay) if isinstance(bay, dict) else bay
        if not isinstance(bay, dict):
            raise EventRefused(f'$.args.bay: {_shown(bay)} is not allowed: a bay dict',
                               '$.args.bay')
        if method == 'bay_create':
            event_type = 'bay.create'
            payload = {'name': bay.get('name'),
                       'baymodel': bay.get('baymodel_id') or bay.get('baymodel'),
                       'node_count': bay.get('node_count'),
                       'master_count': bay.get('master_count'),
                       'discovery_url': bay.get('discovery_url'),
                       'create_timeout': kwargs.get('bay_create_timeout')}
        else:
            event_type = 'bay.update'
            payload = {'bay': bay.get('uuid') or bay.get('name'),
                       'node_count': bay.get('node_count')}
    payload = {k: v for k, v in payload.items() if v is not None}
    context = context or {}
    ctx = {'project_id': context.get('project_id') or context.get('project')
           or context.get('tenant'),
           'user_id': context.get('user_id') or context.get('user'),
           'request_id': context.get('request_id')}
    return make(event_type, payload, ctx, str(uuid.uuid5(RPC_NAMESPACE, str(message_id))))


def _arg(kwargs, name):
    if kwargs.get(name) is None:
        raise EventRefused(f'$.args.{name}: missing: required by this method', f'$.args.{name}')
    return kwargs[name]


def _refusal(error, event):
    """One line for a schema error: the JSON path, the value, what is allowed."""
    path, instance, what = error.json_path, error.instance, error.schema
    if error.validator == 'required':
        name = next(n for n in error.validator_value if n not in instance)
        field = _child(path, name)
        why = f' by {event["type"]}' if field.startswith('$.payload.') else ''
        return EventRefused(f'{field}: missing: required{why}', field)
    if error.validator == 'additionalProperties':
        allowed = list(what.get('properties', {}))
        name = next(n for n in instance if n not in allowed)
        field = _child(path, name)
        return EventRefused(f'{field}: unknown field: allowed are {", ".join(allowed)}', field)
    if path == '$.type':
        return EventRefused(f'$.type: unknown event type {_shown(instance)}: allowed are '
                            f'{", ".join(EVENT_TYPES)}', path)
    allowed = what.get('description') if isinstance(what, dict) else None
    return EventRefused(f'{path}: {_shown(instance)} is not allowed: '
                        f'{allowed or error.message}', path)


def _child(path, name):
    return f'{path}.{name}' if str(name).isidentifier() else f'{path}[{json.dumps(name)}]'


def _shown(value):
    text = json.dumps(value, default=repr)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 3] + '...'
