"""The event contract: the shipped schema, each refusal naming its field, RPC casts as events."""

import json
import uuid

import jsonschema
import pytest

from bayflow.messaging import events

CREATE = {'name': 'k8s', 'baymodel': 'k8s-model', 'node_count': 2, 'master_count': 1,
          'discovery_url': 'https://discovery.etcd.io/abc', 'create_timeout': 30}


def event(**changes):
    base = {'version': '1.0', 'id': str(uuid.uuid4()), 'type': 'bay.create',
            'context': {'project_id': 'p1', 'user_id': 'u1', 'request_id': 'req-1'},
            'payload': dict(CREATE)}
    base.update(changes)
    return base


def test_schema_file_is_valid_draft_2020_12():
    schema = events.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema['$schema'] == 'https://json-schema.org/draft/2020-12/schema'
    assert tuple(schema['properties']['type']['enum']) == events.EVENT_TYPES


@pytest.mark.parametrize('type_, payload', [
    ('bay.create', CREATE),
    ('bay.create', {'baymodel': 'm'}),
    ('bay.create', {'baymodel': 'm', 'name': None, 'discovery_url': None}),
    ('bay.update', {'bay': 'k8s', 'node_count': 5}),
    ('bay.delete', {'bay': '0b5dc9a2-4d6c-4bd0-9c5f-2f3f0c8c7a11'}),
])
def test_make_builds_a_valid_event(type_, payload):
    made = events.make(type_, payload, {'project_id': 'p1'})
    uuid.UUID(made['id'])
    assert made == {'version': '1.0', 'id': made['id'], 'type': type_,
                    'context': {'project_id': 'p1', 'user_id': None, 'request_id': None},
                    'payload': payload}
    assert events.make(type_, payload)['id'] != made['id']


def test_parse_takes_bytes_text_or_a_dict_alike():
    ev = event()
    parsed = events.parse(ev)
    assert events.parse(json.dumps(ev)) == parsed == events.parse(json.dumps(ev).encode())
    assert parsed['payload'] == CREATE


def test_an_id_is_compared_in_one_spelling():
    ev = event(id='0B5DC9A2-4D6C-4BD0-9C5F-2F3F0C8C7A11')
    assert events.parse(ev)['id'] == '0b5dc9a2-4d6c-4bd0-9c5f-2f3f0c8c7a11'
    assert events.make('bay.delete', {'bay': 'b'}, event_id=ev['id'])['id'] == \
        '0b5dc9a2-4d6c-4bd0-9c5f-2f3f0c8c7a11'


@pytest.mark.parametrize('body, field, words', [
    (b'\xff\xfe', '$', ['UTF-8']),
    ('{"version": ', '$', ['not valid JSON']),
    ('[1, 2]', '$', ['[1, 2]', 'JSON object']),
    (event(version='2.0'), '$.version', ['"2.0"', '"1.0"']),
    ({k: v for k, v in event().items() if k != 'id'}, '$.id', ['missing']),
    (event(id='12345'), '$.id', ['"12345"', 'UUID']),
    (event(type='bay.explode'), '$.type', ['"bay.explode"', 'bay.create', 'bay.delete']),
    (event(extra=1), '$.extra', ['unknown field', 'payload']),
    (event(context={'auth_token': 'x'}), '$.context.auth_token', ['unknown field', 'user_id']),
    (event(context={'user_id': 7}), '$.context.user_id', ['7', 'string']),
    (event(payload=[1]), '$.payload', ['[1]', 'object']),
    (event(payload={'name': 'k8s'}), '$.payload.baymodel', ['missing', 'bay.create']),
    (event(payload=dict(CREATE, node_count=0)), '$.payload.node_count', ['0', '>= 1']),
    (event(payload=dict(CREATE, node_count='3')), '$.payload.node_count', ['"3"', 'integer']),
    (event(payload=dict(CREATE, node_count=True)), '$.payload.node_count', ['true']),
    (event(payload=dict(CREATE, master_count=0)), '$.payload.master_count', ['0', '>= 1']),
    (event(payload=dict(CREATE, create_timeout=-1)), '$.payload.create_timeout',
     ['-1', '>= 0']),
    (event(payload=dict(CREATE, name='')), '$.payload.name', ['""', '242']),
    (event(payload=dict(CREATE, name='x' * 300)), '$.payload.name', ['xxx...', '242']),
    (event(payload=dict(CREATE, discovery_url=5)), '$.payload.discovery_url', ['5', 'URL']),
    (event(payload=dict(CREATE, colour='red')), '$.payload.colour',
     ['unknown field', 'baymodel', 'create_timeout']),
    (event(type='bay.update', payload={'bay': 'k8s'}), '$.payload.node_count',
     ['missing', 'bay.update']),
    (event(type='bay.update', payload={'bay': 'k8s', 'node_count': 2, 'name': 'x'}),
     '$.payload.name', ['unknown field', 'node_count']),
    (event(type='bay.delete', payload={'bay': ''}), '$.payload.bay', ['""', 'name or uuid']),
    (event(type='bay.delete', payload={}), '$.payload.bay', ['missing', 'bay.delete']),
])
def test_each_refusal_names_the_field(body, field, words):
    with pytest.raises(events.EventRefused) as info:
        events.parse(body)
    refused = info.value
    assert refused.field == field
    assert refused.reason.startswith(field + ':'), refused.reason
    assert '\n' not in refused.reason and str(refused) == refused.reason
    for word in words:
        assert word in refused.reason


def test_make_refuses_what_parse_refuses():
    with pytest.raises(events.EventRefused, match=r'^\$\.payload\.node_count: 0'):
        events.make('bay.update', {'bay': 'b', 'node_count': 0})
    with pytest.raises(events.EventRefused, match=r'^\$\.id: "x"'):
        events.make('bay.delete', {'bay': 'b'}, event_id='x')


# -- oslo.messaging casts (Magnum's conductor API, reference 6.1) ------------------

RPC_CONTEXT = {'project_id': 'p1', 'user_id': 'u1', 'request_id': 'req-1', 'roles': ['admin']}


def test_bay_create_cast_becomes_a_create_event():
    bay = {'name': 'k8s', 'baymodel_id': 'k8s-model', 'node_count': 3, 'master_count': 1,
           'discovery_url': None, 'uuid': None, 'status': None}
    made = events.from_rpc('bay_create', {'bay': bay, 'bay_create_timeout': 45},
                           RPC_CONTEXT, 'a' * 32)
    assert made['type'] == 'bay.create'
    assert made['payload'] == {'name': 'k8s', 'baymodel': 'k8s-model', 'node_count': 3,
                               'master_count': 1, 'create_timeout': 45}
    assert made['context'] == {'project_id': 'p1', 'user_id': 'u1', 'request_id': 'req-1'}


def test_a_bay_as_a_versioned_object_primitive_and_baymodel_spelling():
    primitive = {'versioned_object.name': 'Bay', 'versioned_object.version': '1.5',
                 'versioned_object.data': {'baymodel_id': None, 'baymodel': 'm',
                                           'node_count': 1}}
    made = events.from_rpc('bay_create', {'bay': primitive, 'bay_create_timeout': 0},
                           {'tenant': 'p2', 'user': 'u2'}, 'b' * 32)
    assert made['payload'] == {'baymodel': 'm', 'node_count': 1, 'create_timeout': 0}
    assert made['context'] == {'project_id': 'p2', 'user_id': 'u2', 'request_id': None}


@pytest.mark.parametrize('bay, target', [
    ({'uuid': '0b5dc9a2-4d6c-4bd0-9c5f-2f3f0c8c7a11', 'name': 'k8s', 'node_count': 4},
     '0b5dc9a2-4d6c-4bd0-9c5f-2f3f0c8c7a11'),
    ({'uuid': None, 'name': 'k8s', 'node_count': 4}, 'k8s'),
])
def test_bay_update_cast_names_the_bay_by_uuid_else_name(bay, target):
    made = events.from_rpc('bay_update', {'bay': bay, 'rollback': False}, {}, 'c' * 32)
    assert (made['type'], made['payload']) == ('bay.update', {'bay': target, 'node_count': 4})


def test_bay_delete_cast_and_the_id_follows_the_unique_id():
    first = events.from_rpc('bay_delete', {'uuid': 'k8s'}, {}, 'd' * 32)
    again = events.from_rpc('bay_delete', {'uuid': 'k8s'}, {}, 'd' * 32)
    other = events.from_rpc('bay_delete', {'uuid': 'k8s'}, {}, 'e' * 32)
    assert (first['type'], first['payload']) == ('bay.delete', {'bay': 'k8s'})
    assert first['id'] == again['id'] != other['id']
    assert uuid.UUID(first['id']).version == 5


@pytest.mark.parametrize('method, kwargs, unique_id, field, words', [
    ('pod_create', {}, 'x', '$.method', ['"pod_create"', 'bay_create']),
    ('bay_create', {'bay_create_timeout': 5}, 'x', '$.args.bay', ['missing']),
    ('bay_create', {'bay': 'k8s'}, 'x', '$.args.bay', ['"k8s"', 'dict']),
    ('bay_delete', {}, 'x', '$.args.uuid', ['missing']),
    ('bay_delete', {'uuid': 'k8s'}, None, '$._unique_id', ['missing']),
    ('bay_create', {'bay': {'node_count': 1}}, 'x', '$.payload.baymodel', ['missing']),
    ('bay_update', {'bay': {'uuid': 'u'}}, 'x', '$.payload.node_count', ['missing']),
])
def test_a_cast_bayflow_cannot_serve_is_refused(method, kwargs, unique_id, field, words):
    with pytest.raises(events.EventRefused) as info:
        events.from_rpc(method, kwargs, {}, unique_id)
    assert info.value.field == field and info.value.reason.startswith(field)
    for word in words:
        assert word in info.value.reason
