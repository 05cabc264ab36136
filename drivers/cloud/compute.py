"""Nova servers and Cinder volumes of a bay: find-or-create, attach, and
one-call status reads for the engine's polling wait atoms.

A server or volume that goes to ERROR is a permanent failure (CloudError
with the cloud's fault text). user_data may hold keys: it is sent base64
encoded and masked out of every error message.
"""

import base64
import functools
import json

from bayflow.drivers.cloud import coalesce, naming
from bayflow.drivers.cloud.base import looking_first
from bayflow.drivers.cloud.errors import CloudError

VOLUME_READY = ('available', 'in-use')
# Statuses a volume leaves by itself: wait them out before acting on it.
VOLUME_MOVING = ('reserved', 'attaching', 'detaching')
VOLUME_SETTLING = VOLUME_MOVING + ('creating', 'downloading', 'extending', 'maintenance',
                                   'retyping', 'deleting')


def _encode(user_data):
    if user_data is None:
        return None
    raw = user_data.encode() if isinstance(user_data, str) else bytes(user_data)
    return base64.b64encode(raw).decode('ascii')


def _fault(server):
    fault = server.fault or {}
    return fault.get('message') or 'no fault message'


def _attached_to(volume):
    return [a.get('server_id') for a in volume.attachments or () if a.get('server_id')]


def _exact(items, name):
    matches = sorted((r for r in items if r.name == name),
                     key=lambda r: (r.created_at or '', r.id))
    return matches[0] if matches else None


class ComputeMixin:

    # -- volumes ------------------------------------------------------------------
    def _find_volume(self, name):
        volume = _exact(self.block_storage.volumes(details=True, name=name), name)
        if volume is not None and volume.status == 'error':
            raise CloudError('create', 'volume', name, 'the volume went to error')
        return volume

    def ensure_volume(self, bay_uuid, role, index, size_gb, volume_type=None):
        """``{'id', 'name', 'size', 'status'}`` of the docker volume of server
        ``role``-``index`` (metadata carries the bay). It may still be
        ``creating``: :meth:`ensure_volume_attachment` waits for it."""
        name = naming.volume_name(bay_uuid, role, index)
        attrs = {'name': name, 'size': int(size_gb), 'metadata': naming.metadata(bay_uuid),
                 'description': f'bayflow bay {bay_uuid}: docker storage'}
        if volume_type:
            attrs['volume_type'] = volume_type
        volume = self._ensure('volume', name, lambda: self._find_volume(name),
                              lambda: self._create_json('block_storage', '/volumes',
                                                        'volume', attrs))
        return {'id': volume.id, 'name': volume.name, 'size': volume.size,
                'status': volume.status}

    def volume_statuses(self, bay_uuid=None, ids=None):
        """``{id: {'name', 'status', 'attached_to'}}`` of the bay's volumes (of
        those among ``ids``, or of ``ids`` alone) in one list call; volumes that
        are gone are absent. Cinder filters by the bay's metadata, so a look
        costs the same however many bays the project holds."""
        query = {'metadata': json.dumps(naming.metadata(bay_uuid))} \
            if bay_uuid else None

        def read():
            out = {}
            for v in self._list_json('block_storage', '/volumes/detail', 'volumes', query):
                if ids is not None and v['id'] not in ids:
                    continue
                if bay_uuid is not None and not naming.owned(bay_uuid, v.get('name'),
                                                             meta=v.get('metadata')):
                    continue
                out[v['id']] = {'name': v.get('name'), 'status': v['status'],
                                'attached_to': [a['server_id'] for a in v.get('attachments') or ()
                                                if a.get('server_id')]}
            return out
        return self._call('list', 'volumes', bay_uuid or 'by id', read)

    # -- servers ----------------------------------------------------------------
    def _find_server(self, name):
        server = _exact(self.compute.servers(details=True, name=f'^{name}$'), name)
        if server is not None and server.status == 'ERROR':
            raise CloudError('create', 'server', name, f'the server went to ERROR: '
                                                       f'{_fault(server)}')
        return server

    def ensure_server(self, bay_uuid, role, index, image, flavor, keypair, port_id,
                      user_data=None):
        """``{'id', 'name', 'status'}`` of server ``role``-``index`` booted from
        ``image`` (id) with ``flavor`` (id) and ``keypair`` (name) on its port
        (its only NIC); a server with the name is reused. Tags and metadata
        carry the bay. ``user_data``: text, sent base64 encoded."""
        name = naming.server_name(bay_uuid, role, index)
        encoded = _encode(user_data)
        attrs = {'name': name, 'imageRef': image, 'flavorRef': flavor,
                 'key_name': keypair, 'networks': [{'port': port_id}],
                 'tags': naming.tags(bay_uuid), 'metadata': naming.metadata(bay_uuid)}
        if encoded is not None:
            attrs['user_data'] = encoded
        secrets = tuple(s for s in (encoded, user_data if isinstance(user_data, str)
                                    else None) if s)
        # 2.52: tags in the create body.
        server = self._ensure('server', name, lambda: self._find_server(name),
                              lambda: self._create_json('compute', '/servers', 'server', attrs,
                                                        microversion='2.52'),
                              secrets=secrets)
        return {'id': server.id, 'name': name, 'status': server.status or 'BUILD'}

    def server_statuses(self, bay_uuid=None, ids=None):
        """``{id: {'name', 'status', 'fault'}}`` of the bay's servers (or of
        ``ids``) in one list call; servers that are gone are absent.

        A bay's look joins the other bays' looks of the moment (``coalesce``):
        a daemon waiting on 50 bays makes one call where it made 50."""
        if bay_uuid is not None and ids is None:
            bay = naming.bay_uuid(bay_uuid)
            return self._call('list', 'servers', bay, lambda: self._server_looks.get(bay))

        def read():
            out = {}
            for s in self._list_servers({'name': f'^{naming.prefix(bay_uuid)}'}
                                        if bay_uuid else {}):
                if ids is not None and s['id'] not in ids:
                    continue
                if bay_uuid is None or naming.owned(bay_uuid, s['name'], s.get('tags')):
                    out[s['id']] = _server_status(s)
            return out
        return self._call('list', 'servers', bay_uuid or 'by id', read)

    @property
    def _server_looks(self):
        with self._lock:
            if getattr(self, '_coalescer', None) is None:
                self._coalescer = coalesce.Coalescer(self._servers_of_bays)
            return self._coalescer

    def _servers_of_bays(self, bays):
        """``{bay: server_statuses(bay)}`` for several bays, one list call."""
        out = {bay: {} for bay in bays}
        names = '|'.join(naming.prefix(bay) for bay in sorted(bays))
        for s in self._list_servers({'name': f'^({names})'}):
            bay = naming.bay_of(s['name'])
            if bay in out and naming.owned(bay, s['name'], s.get('tags')):
                out[bay][s['id']] = _server_status(s)
        return out

    def _list_servers(self, query):
        # 2.26: the listing carries the servers' tags.
        return self._list_json('compute', '/servers/detail', 'servers', query,
                               microversion='2.26')

    # -- attachment -----------------------------------------------------------------
    def ensure_volume_attachment(self, server_id, volume_id):
        """``{'server_id', 'volume_id', 'device'}``: one volume attached to its
        server (see :meth:`attach_volumes`)."""
        return self.attach_volumes([(server_id, volume_id)])[0]

    def attach_volumes(self, pairs):
        """Attach each ``(server_id, volume_id)`` unless it already is (or is
        being), all at once, then wait (``wait_timeout``) until Cinder shows
        every volume in-use (Nova attaches in the background), one list call
        per look. -> ``[{'server_id', 'volume_id', 'device'}]`` in order.

        A first run asks Nova at once: its wait step saw the servers ACTIVE and
        the volumes available. Otherwise each attach looks first, and waits for
        the volume to be available and the server ACTIVE."""
        pairs = list(pairs)
        return self.wait_attached(pairs, self.start_attachments(pairs))

    def start_attachments(self, pairs):
        """Ask Nova to attach each ``(server_id, volume_id)`` (see
        :meth:`attach_volumes`), all at once; -> ``{pair: device or None}``."""
        return self.together({pair: functools.partial(self._start_attach, *pair)
                              for pair in pairs})

    def wait_attached(self, pairs, devices=None, bay_uuid=None):
        """Wait until Cinder shows every pair's volume in-use on its server, one
        list call per look (of the bay's volumes, given ``bay_uuid``);
        -> ``[{'server_id', 'volume_id', 'device'}]`` (``devices``: what Nova
        answered when asked, else it is asked now)."""
        devices = devices or {}
        self._wait('volumes attached', ', '.join(v for _, v in pairs),
                   lambda: self._all_attached(pairs, bay_uuid))
        out = []
        for server_id, volume_id in pairs:
            device = devices.get((server_id, volume_id))
            if device is None:  # attached by an earlier attempt: ask Nova where
                device = self._call('read', 'volume attachment', volume_id, lambda: next(
                    (a.device for a in self.compute.volume_attachments(server_id)
                     if a.volume_id == volume_id), None))
            out.append({'server_id': server_id, 'volume_id': volume_id, 'device': device})
        return out

    def _start_attach(self, server_id, volume_id):
        """Nova's device for a new attachment; None when there already is one."""
        label = f'{volume_id} to server {server_id}'
        attempts = [0]

        def attach():
            attempts[0] += 1
            if attempts[0] > 1 or looking_first():
                state = self._wait('volume', label,
                                   lambda: self._attach_state(server_id, volume_id, label))
                if state != 'ready':
                    return None
            return self._create_json('compute', f'/servers/{server_id}/os-volume_attachments',
                                     'volumeAttachment', {'volumeId': volume_id}).device
        return self._call('attach', 'volume', label, attach)

    def _nova_maps(self, server_id, volume_id):
        return any(a.volume_id == volume_id
                   for a in self.compute.volume_attachments(server_id))

    def _attach_state(self, server_id, volume_id, label):
        """'attached', 'attaching' (ours, in progress), 'ready' (available and
        the server ACTIVE), or None to wait; CloudError when it never will."""
        volume = self.block_storage.get_volume(volume_id)
        attached = _attached_to(volume)
        if server_id in attached:
            return 'attached'
        if volume.status.startswith('error'):
            raise CloudError('attach', 'volume', label, f'the volume went to {volume.status}')
        if attached:
            raise CloudError('attach', 'volume', label, 'the volume is attached to '
                             f'server {", ".join(attached)}')
        if volume.status in ('reserved', 'attaching'):
            return 'attaching' if self._nova_maps(server_id, volume_id) else None
        if volume.status != 'available':
            return None
        server = self.compute.get_server(server_id)
        if server.status == 'ERROR':
            raise CloudError('attach', 'volume', label, f'server {server.name} went to '
                                                        f'ERROR: {_fault(server)}')
        return 'ready' if server.status == 'ACTIVE' else None

    def _all_attached(self, pairs, bay_uuid=None):
        statuses = self.volume_statuses(bay_uuid, ids={v for _, v in pairs})
        done = True
        for server_id, volume_id in pairs:
            label = f'{volume_id} to server {server_id}'
            status = statuses.get(volume_id)
            if status is None:
                raise CloudError('attach', 'volume', label, 'the volume is gone')
            if server_id in status['attached_to']:
                continue
            if status['status'].startswith('error'):
                raise CloudError('attach', 'volume', label,
                                 f"the volume went to {status['status']}")
            if status['status'] == 'available' and not self._call(
                    'read', 'volume attachments', server_id, self._nova_maps, server_id,
                    volume_id):
                raise CloudError('attach', 'volume', label, 'Nova gave up attaching it (the '
                                                            'volume is available again)')
            done = False
        return done


def _server_status(server):
    fault = (server.get('fault') or {}).get('message') or 'no fault message'
    return {'name': server['name'], 'status': server['status'],
            'fault': fault if server['status'] == 'ERROR' else None}


def not_ready(kind, items, statuses, moving=()):
    """Names of ``items`` (a 'server' or 'volume' dict each, with id and
    name) not ready yet by ``statuses`` (server_statuses / volume_statuses);
    CloudError for one that failed, or for a volume that is gone (a server
    just made may not be listed yet). Volumes in ``moving`` are being
    attached: reserved or attaching is ready enough."""
    ready, failed = _READY[kind]
    pending = []
    for item in items:
        name = item.get('name') or item['id']
        found = statuses.get(item['id'])
        if found is None and kind == 'volume':
            raise CloudError('wait for', kind, name, f'the {kind} is gone')
        status = (found or {}).get('status') or ''
        if status.startswith(failed):
            raise CloudError('build', kind, name,
                             found.get('fault') or f'the {kind} went to {status}')
        if status not in ready and not (item['id'] in moving
                                        and status in ('reserved', 'attaching')):
            pending.append(name)
    return pending


# kind -> (its ready statuses, the prefix of its failed ones)
_READY = {'server': (('ACTIVE',), 'ERROR'), 'volume': (VOLUME_READY, 'error')}
