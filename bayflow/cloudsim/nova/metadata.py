"""Server metadata, tags (2.26) and addresses (ips)."""

from bayflow.cloudsim.nova.common import (
    MAX_TAGS, _METADATA_STATES, _bad, _base, _check_lock, _field, _get_server, _not_found,
    _require_state, _touch)
from bayflow.cloudsim.nova.quotas import _check_metadata
from bayflow.cloudsim.nova.views import _addresses


# -- servers: metadata --------------------------------------------------------------------
def _metadata_body(body, key='metadata'):
    if not isinstance(body, dict) or key not in body:
        raise _bad(f"'{key}' is a required property")
    return body[key]


def show_metadata(sim, req, server_id):
    return {'metadata': dict(_get_server(sim, req, server_id)['metadata'])}


def _set_metadata(sim, req, server_id, replace):
    server = _get_server(sim, req, server_id)
    metadata = _metadata_body(req.body)
    new = dict(metadata) if replace else {**server['metadata'], **(
        metadata if isinstance(metadata, dict) else {})}
    _check_metadata(sim.state, server['project_id'], metadata)
    _check_metadata(sim.state, server['project_id'], new)
    _check_lock(req, server)
    _require_state(server, 'update metadata', _METADATA_STATES)
    server['metadata'] = new
    _touch(server)
    return {'metadata': dict(new)}


def replace_metadata(sim, req, server_id):
    return _set_metadata(sim, req, server_id, replace=True)


def update_metadata(sim, req, server_id):
    return _set_metadata(sim, req, server_id, replace=False)


def show_metadata_item(sim, req, server_id, key):
    server = _get_server(sim, req, server_id)
    if key not in server['metadata']:
        raise _not_found('Metadata item was not found')
    return {'meta': {key: server['metadata'][key]}}


def update_metadata_item(sim, req, server_id, key):
    server = _get_server(sim, req, server_id)
    meta = _metadata_body(req.body, 'meta')
    if not isinstance(meta, dict):
        raise _field('meta', meta, f"{meta!r} is not of type 'object'")
    if len(meta) > 1:
        raise _bad('Request body contains too many items')
    if key not in meta:
        raise _bad('Request body and URI mismatch')
    new = {**server['metadata'], **meta}
    _check_metadata(sim.state, server['project_id'], new, field='meta')
    _check_lock(req, server)
    _require_state(server, 'update metadata', _METADATA_STATES)
    server['metadata'] = new
    _touch(server)
    return {'meta': dict(meta)}


def delete_metadata_item(sim, req, server_id, key):
    server = _get_server(sim, req, server_id)
    if key not in server['metadata']:
        raise _not_found('Metadata item was not found')
    _check_lock(req, server)
    _require_state(server, 'delete metadata', _METADATA_STATES)
    del server['metadata'][key]
    _touch(server)
    return 204, None


# -- servers: tags (2.26) -------------------------------------------------------------
_TAG_STATES = ('active', 'paused', 'suspended', 'stopped')


def _check_tag(tag):
    if not isinstance(tag, str) or not 1 <= len(tag) <= 60 or '/' in tag or ',' in tag:
        raise _bad(f"Tag '{tag}' is invalid. It must be a non empty string without "
                   "characters '/' and ','. Validation error message: "
                   f"{tag!r} does not match '^[^,/]*$'")


def _check_tags(tags, field='tags'):
    if not isinstance(tags, list):
        raise _field(field, tags, f"{tags!r} is not of type 'array'")
    if len(tags) > MAX_TAGS:
        raise _field(field, tags, f'{tags!r} is too long')
    for tag in tags:
        if not isinstance(tag, str) or not 1 <= len(tag) <= 60 or '/' in tag or ',' in tag:
            raise _field(field, tag, f"{tag!r} does not match '^[^,/]*$'")


def list_tags(sim, req, server_id):
    return {'tags': list(_get_server(sim, req, server_id)['tags'])}


def check_tag(sim, req, server_id, tag):
    server = _get_server(sim, req, server_id)
    if tag not in server['tags']:
        raise _not_found(f"Server {server_id} has no tag '{tag}'")
    return 204, None


def replace_tags(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    _require_state(server, 'update tags', _TAG_STATES, task_none=False)
    tags = _metadata_body(req.body, 'tags')
    _check_tags(tags)
    server['tags'] = list(dict.fromkeys(tags))
    return {'tags': list(server['tags'])}


def add_tag(sim, req, server_id, tag):
    server = _get_server(sim, req, server_id)
    _require_state(server, 'update tag', _TAG_STATES, task_none=False)
    _check_tag(tag)
    if len(server['tags']) >= MAX_TAGS:
        raise _bad(f'The number of tags exceeded the per-server limit {MAX_TAGS}')
    if tag in server['tags']:
        return 204, None
    server['tags'].append(tag)
    return 201, None, {'Location': f'{_base(sim)}/v2.1/servers/{server_id}/tags/{tag}'}


def delete_tag(sim, req, server_id, tag):
    server = _get_server(sim, req, server_id)
    _require_state(server, 'delete tag', _TAG_STATES, task_none=False)
    if tag not in server['tags']:
        raise _not_found(f"Instance {server_id} has no tag '{tag}'")
    server['tags'].remove(tag)
    return 204, None


def delete_tags(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    _require_state(server, 'delete tags', _TAG_STATES, task_none=False)
    server['tags'] = []
    return 204, None


# -- servers: ips ----------------------------------------------------------------------
def list_ips(sim, req, server_id):
    server = _get_server(sim, req, server_id)
    addresses = {} if server['vm_state'] == 'building' else _addresses(sim.state, server,
                                                                       extended=False)
    return {'addresses': addresses}


def show_ips(sim, req, server_id, network):
    server = _get_server(sim, req, server_id)
    addresses = _addresses(sim.state, server, extended=False)
    if network not in addresses:
        raise _not_found('Instance is not a member of specified network')
    return {network: addresses[network]}
