"""Cinder v3: version discovery, volumes, volume metadata and actions, quotas,
limits, volume types and availability zones.

The ``volumes`` table holds each volume as agreed with Nova (which attaches and
detaches by editing ``status`` and ``attachments`` itself, and creates and
deletes boot volumes through ``new_volume`` and ``begin_delete``): id, project_id,
name, description, status, size, attachments (``{server_id, attachment_id,
volume_id, device, id, host_name, attached_at}``), metadata, bootable
(``"true"``/``"false"``, as Cinder renders it), created_at, updated_at,
availability_zone, volume_type, multiattach, encrypted, user_id, plus a few
more Cinder fields and private ``_`` timers.

Time-driven changes (``creating`` -> ``available``/``error`` after
``state.boot_seconds``, ``deleting`` -> gone) are applied by an advancer that
only looks at the volumes still in transition. ``os-extend`` of an in-use
volume is allowed from microversion 3.42, as in Cinder.

Modules: ``common`` (constants, types, microversions, the view, validation),
``volumes`` (timers and volume CRUD), ``actions`` (metadata and actions) and
``quotas`` (quotas, limits, types, zones).
"""

from functools import partial

from bayflow.cloudsim.cinder.actions import (
    delete_metadata_item, get_metadata, get_metadata_item, replace_metadata, set_metadata,
    set_metadata_item, volume_action)
from bayflow.cloudsim.cinder.common import (  # noqa: F401 (DEFAULT_TYPE: Nova's)
    DEFAULT_TYPE, _type as volume_type, _versioned, all_versions, type_id, version_v3)
from bayflow.cloudsim.cinder.quotas import (
    availability_zones, default_quotas, delete_quotas, limits, list_types, show_quotas,
    show_type, update_quotas)
from bayflow.cloudsim.cinder.volumes import (  # noqa: F401 (begin_delete, new_volume: Nova's)
    advance, begin_delete, create_volume, delete_volume, list_volumes, new_volume,
    show_volume, update_volume)


def register(router, state):
    state.on_advance(advance)
    router.add('GET', '/volume', all_versions, 'volume', auth=False)
    router.add('GET', '/volume/v3', version_v3, 'volume', auth=False)
    base = '/volume/v3/{project_id}'
    for method, path, handler in (
            ('GET', '/volumes', list_volumes),
            ('POST', '/volumes', create_volume),
            ('GET', '/volumes/detail', partial(list_volumes, detail=True)),
            ('GET', '/volumes/{volume_id}', show_volume),
            ('PUT', '/volumes/{volume_id}', update_volume),
            ('DELETE', '/volumes/{volume_id}', delete_volume),
            ('POST', '/volumes/{volume_id}/action', volume_action),
            ('GET', '/volumes/{volume_id}/metadata', get_metadata),
            ('POST', '/volumes/{volume_id}/metadata', set_metadata),
            ('PUT', '/volumes/{volume_id}/metadata', replace_metadata),
            ('GET', '/volumes/{volume_id}/metadata/{key}', get_metadata_item),
            ('PUT', '/volumes/{volume_id}/metadata/{key}', set_metadata_item),
            ('DELETE', '/volumes/{volume_id}/metadata/{key}', delete_metadata_item),
            ('GET', '/os-quota-sets/{target}', show_quotas),
            ('GET', '/os-quota-sets/{target}/defaults', default_quotas),
            ('PUT', '/os-quota-sets/{target}', update_quotas),
            ('DELETE', '/os-quota-sets/{target}', delete_quotas),
            ('GET', '/limits', limits),
            ('GET', '/types', list_types),
            ('GET', '/types/{type_ref}', show_type),
            ('GET', '/os-availability-zone', availability_zones)):
        router.add(method, base + path, _versioned(handler), 'volume')
