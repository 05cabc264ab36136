"""Nova v2.1: microversions 2.1-2.96, servers, flavors, keypairs, quotas,
limits, volume attachments, server metadata and tags.

Modelled on nova 34.0.0 (``nova/api/openstack/compute/``): the status codes,
the ``{"itemNotFound": {"code", "message"}}`` error bodies and messages, the
microversion negotiation (both headers, echoed with ``Vary``; unsupported
versions are 406) and the response shapes that change with the microversion.

Servers live in ``state.table('servers')`` as one canonical record (public
keys: what ``/_sim/resources`` lists) that each request renders for its
microversion and its caller (admin-only fields). Private ``_`` keys hold the
build plan: requested networks, resolved security groups, ports, block
devices and the next time-driven transition (``_next`` / ``_next_kind``).
Transitions (BUILD scheduling -> networking -> spawning -> ACTIVE, ERROR on a
``build_error`` fault, deleting -> gone, stop/start/reboot) are applied by the
advancer before each request; only servers with a pending transition are
visited.

Ports come from Neutron's helpers (``neutron.create_port`` / ``bind_port`` /
``unbind_port`` / ``delete_port`` / ``server_addresses`` / ``get_network`` /
``find_security_group``); volumes are Cinder's records, whose ``status`` and
``attachments`` Nova updates on attach and detach (the agreed contract).

Modules: ``common`` (constants, errors, microversions, helpers), ``views``
(server rendering), ``servers`` (list, show, update, delete, actions),
``create`` (POST /servers), ``build`` (time-driven transitions), ``flavors``,
``keypairs``, ``quotas`` (quota sets and limits), ``metadata`` (metadata,
tags, ips) and ``volumes`` (volume attachments).
"""

import time
from functools import partial

from bayflow.cloudsim.nova import (
    build, consoles, create, flavors, keypairs, metadata, quotas, servers, volumes)
from bayflow.cloudsim.nova.common import (
    AZ, FLAVORS, HOST, MAX_VERSION, MIN_VERSION, PREFIX, _base, _forbidden_policy, _micro,
    _versioned, _vstr)
from bayflow.cloudsim.nova.keypairs import SEED_PUBLIC_KEY, fingerprint  # noqa: F401


def seed(state):
    now = time.time()
    table = state.table('flavors')
    for flavorid, name, ram, vcpus, disk in FLAVORS:
        table[flavorid] = flavors._new_flavor(flavorid, name, ram, vcpus, disk, now)
    demo = next((u for u in state.table('users').values() if u['name'] == 'demo'), None)
    if demo is not None:
        keypairs._store_keypair(state, demo['id'], demo.get('default_project_id'),
                                'testkey', 'ssh', keypairs.SEED_PUBLIC_KEY, now)


# -- versions --------------------------------------------------------------------
def _v21(sim):
    return {'id': 'v2.1', 'status': 'CURRENT', 'version': _vstr(MAX_VERSION),
            'min_version': _vstr(MIN_VERSION), 'updated': '2013-07-23T11:33:21Z',
            'links': [{'rel': 'self', 'href': f'{_base(sim)}/v2.1/'}]}


def versions(sim, req):
    v20 = {'id': 'v2.0', 'status': 'DEPRECATED', 'version': '', 'min_version': '',
           'updated': '2025-07-04T12:00:00Z',
           'links': [{'rel': 'self', 'href': f'{_base(sim)}/v2/'}]}
    return {'versions': [v20, _v21(sim)]}


def version(sim, req):
    doc = _v21(sim)
    doc['links'].append({'rel': 'describedby', 'type': 'text/html',
                         'href': 'http://docs.openstack.org/'})
    doc['media-types'] = [{'base': 'application/json',
                           'type': 'application/vnd.openstack.compute+json;version=2.1'}]
    return {'version': doc}


def extensions(sim, req):
    return {'extensions': []}


def availability_zones(sim, req):
    return {'availabilityZoneInfo': [{'zoneName': AZ, 'zoneState': {'available': True},
                                      'hosts': None}]}


def availability_zones_detail(sim, req):
    if not req.context.is_admin:
        raise _forbidden_policy('os_compute_api:os-availability-zone:detail')
    service = {'available': True, 'active': True, 'updated_at': _micro()}
    return {'availabilityZoneInfo': [
        {'zoneName': 'internal', 'zoneState': {'available': True},
         'hosts': {'sim-controller': {'nova-conductor': service,
                                      'nova-scheduler': service}}},
        {'zoneName': AZ, 'zoneState': {'available': True},
         'hosts': {HOST: {'nova-compute': service}}}]}


# -- registration -------------------------------------------------------------------
def register(router, state):
    state.on_seed(seed)
    state.on_advance(build.advance)

    def add(method, path, handler, min_version=None, auth=True):
        router.add(method, PREFIX + path, _versioned(handler, min_version), 'compute',
                   auth=auth)

    router.add('GET', '/compute', _versioned(versions), 'compute', auth=False)
    add('GET', '', version, auth=False)
    add('GET', '/extensions', extensions)
    add('GET', '/os-availability-zone', availability_zones)
    add('GET', '/os-availability-zone/detail', availability_zones_detail)
    add('GET', '/limits', quotas.limits)

    add('GET', '/flavors', flavors.list_flavors)
    add('POST', '/flavors', flavors.create_flavor)
    add('GET', '/flavors/detail', partial(flavors.list_flavors, detail=True))
    add('GET', '/flavors/{flavor_id}', flavors.show_flavor)
    add('PUT', '/flavors/{flavor_id}', flavors.update_flavor, (2, 55))
    add('DELETE', '/flavors/{flavor_id}', flavors.delete_flavor)
    add('POST', '/flavors/{flavor_id}/action', flavors.flavor_action)
    add('GET', '/flavors/{flavor_id}/os-flavor-access', flavors.list_flavor_access)
    add('GET', '/flavors/{flavor_id}/os-extra_specs', flavors.list_extra_specs)
    add('POST', '/flavors/{flavor_id}/os-extra_specs', flavors.create_extra_specs)
    add('GET', '/flavors/{flavor_id}/os-extra_specs/{key}', flavors.show_extra_spec)
    add('PUT', '/flavors/{flavor_id}/os-extra_specs/{key}', flavors.update_extra_spec)
    add('DELETE', '/flavors/{flavor_id}/os-extra_specs/{key}', flavors.delete_extra_spec)

    add('GET', '/os-keypairs', keypairs.list_keypairs)
    add('POST', '/os-keypairs', keypairs.create_keypair)
    add('GET', '/os-keypairs/{name}', keypairs.show_keypair)
    add('DELETE', '/os-keypairs/{name}', keypairs.delete_keypair)

    add('GET', '/os-quota-sets/{project_id}', quotas.show_quota_set)
    add('PUT', '/os-quota-sets/{project_id}', quotas.update_quota_set)
    add('DELETE', '/os-quota-sets/{project_id}', quotas.delete_quota_set)
    add('GET', '/os-quota-sets/{project_id}/defaults', quotas.show_quota_defaults)
    add('GET', '/os-quota-sets/{project_id}/detail', quotas.show_quota_detail)

    add('GET', '/servers', servers.list_servers)
    add('POST', '/servers', create.create_server)
    add('GET', '/servers/detail', partial(servers.list_servers, detail=True))
    add('GET', '/servers/{server_id}', servers.show_server)
    add('PUT', '/servers/{server_id}', servers.update_server)
    add('DELETE', '/servers/{server_id}', servers.delete_server)
    add('POST', '/servers/{server_id}/action', servers.server_action)
    add('POST', '/servers/{server_id}/remote-consoles', consoles.create_remote_console,
        (2, 6))
    add('GET', '/servers/{server_id}/ips', metadata.list_ips)
    add('GET', '/servers/{server_id}/ips/{network}', metadata.show_ips)
    add('GET', '/servers/{server_id}/metadata', metadata.show_metadata)
    add('PUT', '/servers/{server_id}/metadata', metadata.replace_metadata)
    add('POST', '/servers/{server_id}/metadata', metadata.update_metadata)
    add('GET', '/servers/{server_id}/metadata/{key}', metadata.show_metadata_item)
    add('PUT', '/servers/{server_id}/metadata/{key}', metadata.update_metadata_item)
    add('DELETE', '/servers/{server_id}/metadata/{key}', metadata.delete_metadata_item)
    add('GET', '/servers/{server_id}/tags', metadata.list_tags, (2, 26))
    add('PUT', '/servers/{server_id}/tags', metadata.replace_tags, (2, 26))
    add('DELETE', '/servers/{server_id}/tags', metadata.delete_tags, (2, 26))
    add('GET', '/servers/{server_id}/tags/{tag}', metadata.check_tag, (2, 26))
    add('PUT', '/servers/{server_id}/tags/{tag}', metadata.add_tag, (2, 26))
    add('DELETE', '/servers/{server_id}/tags/{tag}', metadata.delete_tag, (2, 26))
    add('GET', '/servers/{server_id}/os-volume_attachments', volumes.list_volume_attachments)
    add('POST', '/servers/{server_id}/os-volume_attachments', volumes.attach_volume)
    add('GET', '/servers/{server_id}/os-volume_attachments/{volume_id}',
        volumes.show_volume_attachment)
    add('PUT', '/servers/{server_id}/os-volume_attachments/{volume_id}',
        volumes.update_volume_attachment)
    add('DELETE', '/servers/{server_id}/os-volume_attachments/{volume_id}',
        volumes.detach_volume)
