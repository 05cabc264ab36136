"""Finding and removing what a bay owns, on complete, failed, half-built and
rolled-back bays alike, and safe to run twice.

What a bay owns is found by its full uuid only: in the name
(``bf-<uuid>-...``), the ``bayflow-bay=<uuid>`` tag, the server/volume
metadata, or a floating IP's description. Nothing else is ever touched,
however alike it looks (Cluster API's OpenStack provider once deleted a
management VM's floating IP along with a cluster).
"""

import functools

from openstack import exceptions as sdk_exc

from bayflow.drivers.cloud import naming
from bayflow.drivers.cloud.compute import VOLUME_SETTLING, _attached_to
from bayflow.drivers.cloud.errors import CloudError, CloudTeardownError
from bayflow.drivers.cloud.network import ROUTER_INTERFACE

# Neutron's order (servers before the ports they hold, floating IPs before
# the router interface they need, ...); volumes once their servers are gone.
TEARDOWN_ORDER = ('servers', 'volumes', 'floating_ips', 'routers', 'ports', 'subnets',
                  'networks', 'security_groups')


class TeardownMixin:

    # -- inventory -------------------------------------------------------------
    def bay_inventory(self, bay_uuid):
        """Everything the bay owns, ``{kind: [plain dicts]}`` for every kind
        in TEARDOWN_ORDER."""
        naming.bay_uuid(bay_uuid)
        return {kind: self._inventory(bay_uuid, kind) for kind in TEARDOWN_ORDER}

    def _inventory(self, bay_uuid, kind):
        return self._call('list', kind.replace('_', ' '), f'of bay {bay_uuid}',
                          getattr(self, f'_find_{kind}'), bay_uuid)

    def _owned_neutron(self, bay_uuid, listing):
        return [r for r in listing() if naming.owned(bay_uuid, r.name, r.tags)]

    def _find_servers(self, bay_uuid):
        found = {}
        for query in ({'name': f'^{naming.prefix(bay_uuid)}'},
                      {'tags': naming.bay_tag(bay_uuid)}):
            for s in self.compute.servers(details=True, **query):
                if naming.owned(bay_uuid, s.name, s.tags, s.metadata):
                    found[s.id] = {'id': s.id, 'name': s.name, 'status': s.status}
        return sorted(found.values(), key=lambda r: r['name'])

    def _find_volumes(self, bay_uuid):
        return [{'id': v.id, 'name': v.name, 'status': v.status,
                 'attached_to': _attached_to(v)}
                for v in self.block_storage.volumes(details=True)
                if naming.owned(bay_uuid, v.name, meta=v.metadata)]

    def _find_floating_ips(self, bay_uuid):
        return [{'id': f.id, 'address': f.floating_ip_address, 'port_id': f.port_id,
                 'name': f.floating_ip_address}
                for f in self.network.ips()
                if naming.owned(bay_uuid, tag_list=f.tags, description=f.description)]

    def _find_routers(self, bay_uuid):
        return [self._router_item(r)
                for r in self._owned_neutron(bay_uuid, self.network.routers)]

    def _router_item(self, router):
        """A router with its interfaces (ports) and gateway network."""
        interfaces = [{'port_id': p.id,
                       'subnet_id': (p.fixed_ips or [{}])[0].get('subnet_id')}
                      for p in self.network.ports(device_id=router.id,
                                                  device_owner=ROUTER_INTERFACE)]
        return {'id': router.id, 'name': router.name, 'interfaces': interfaces,
                'gateway': (router.external_gateway_info or {}).get('network_id')}

    def _find_ports(self, bay_uuid):
        return [{'id': p.id, 'name': p.name, 'network_id': p.network_id,
                 'device_id': p.device_id}
                for p in self._owned_neutron(bay_uuid, self.network.ports)]

    def _find_subnets(self, bay_uuid):
        return [{'id': s.id, 'name': s.name, 'network_id': s.network_id}
                for s in self._owned_neutron(bay_uuid, self.network.subnets)]

    def _find_networks(self, bay_uuid):
        return [{'id': n.id, 'name': n.name}
                for n in self._owned_neutron(bay_uuid, self.network.networks)]

    def _find_security_groups(self, bay_uuid):
        return [{'id': g.id, 'name': g.name}
                for g in self._owned_neutron(bay_uuid, self.network.security_groups)]

    # -- teardown --------------------------------------------------------------
    def teardown(self, bay_uuid):
        """Remove everything the bay owns in TEARDOWN_ORDER; returns what was
        removed by kind. Raises CloudTeardownError naming the leftovers."""
        removed = {kind: self.teardown_step(bay_uuid, kind) for kind in TEARDOWN_ORDER}
        try:
            left = self.bay_inventory(bay_uuid)
        except CloudError as exc:
            raise CloudTeardownError(bay_uuid, None, exc) from exc
        if any(left.values()):
            raise CloudTeardownError(bay_uuid, left, 'resources were still present '
                                                     'after every teardown step')
        return removed

    def teardown_step(self, bay_uuid, kind):
        """One step of :meth:`teardown` (the engine may run each as a task):
        finds the bay's resources of ``kind`` and removes them."""
        if kind not in TEARDOWN_ORDER:
            raise ValueError(f'kind must be one of {", ".join(TEARDOWN_ORDER)}')
        try:
            items = self._inventory(bay_uuid, kind)
            self._remove(kind, items)
        except CloudError as exc:
            raise CloudTeardownError(bay_uuid, self._leftovers(bay_uuid), exc) from exc
        return items

    def _leftovers(self, bay_uuid):
        """What the bay still owns; None when even that cannot be listed."""
        try:
            return self.bay_inventory(bay_uuid)
        except CloudError:
            return None

    def _remove_servers(self, items):
        self._each(items, lambda s: self.delete_server_if_present(s['id'], name=s['name'],
                                                                  wait=False))
        self.wait_servers_gone([s['id'] for s in items])

    def _remove_volumes(self, items):
        self._each(items, lambda v: self.delete_volume_if_present(v['id'], name=v.get('name'),
                                                                  wait=False))
        ids = {v['id'] for v in items}
        if ids:
            self._wait('volumes gone', ', '.join(sorted(ids)),
                       lambda: not self.volume_statuses(ids=ids))

    def _remove_routers(self, items):
        for r in items:
            for interface in r['interfaces']:
                self.remove_router_interface(r['id'], port_id=interface['port_id'])
            self.clear_router_gateway(r['id'])
            self.delete_router_if_present(r['id'], name=r['name'])

    def _remove(self, kind, items):
        special = getattr(self, f'_remove_{kind}', None)
        if special is not None:
            return special(items)
        delete = getattr(self, f'delete_{kind[:-1]}_if_present')
        self._each(items, lambda item: delete(item['id'], name=item.get('name')))

    def _each(self, items, fn):
        """``fn(item)`` for every item at once; the first error (in order) once all are done."""
        self.together({i: functools.partial(fn, item) for i, item in enumerate(items)})

    # -- delete-if-present, one resource each (404 = done) -------------------------
    def _delete(self, kind, rid, name, delete):
        """True when the resource was there to delete; False on 404."""
        def run():
            try:
                delete(rid, ignore_missing=False)
                return True
            except sdk_exc.NotFoundException:
                return False
        return self._call('delete', kind, name or rid, run)

    def delete_server_if_present(self, server_id, name=None, wait=True):
        gone = self._delete('server', server_id, name, self.compute.delete_server)
        if wait:
            self.wait_servers_gone([server_id])
        return gone

    def wait_servers_gone(self, server_ids):
        """Wait (``wait_timeout``) until none of the servers exists: their
        ports are unbound and their volumes detached only then."""
        if not server_ids:
            return
        ids = set(server_ids)
        self._wait('servers gone', ', '.join(sorted(ids)),
                   lambda: not self.server_statuses(ids=ids))

    def delete_volume_if_present(self, volume_id, name=None, wait=True):
        """Delete a volume once it is detached (waiting for Nova to let go of
        it); a volume attached to a live server is an error, not detached."""
        label = name or volume_id

        def settled():
            try:
                volume = self.block_storage.get_volume(volume_id)
            except sdk_exc.NotFoundException:
                return 'gone'
            if volume.status == 'deleting' or volume.status in VOLUME_SETTLING:
                return None
            for server_id in _attached_to(volume):
                if self._server_alive(server_id):
                    raise CloudError('delete', 'volume', label, f'the volume is attached '
                                     f'to server {server_id}; detach it first')
                return None
            return 'ready'
        state = self._call('delete', 'volume', label,
                           lambda: self._wait('volume detached', label, settled))
        if state == 'gone':
            return False
        deleted = self._delete('volume', volume_id, name, self._delete_volume_once)
        if wait:
            self._wait('volume gone', label, lambda: self._call(
                'read', 'volume', label, self._volume_gone, volume_id))
        return deleted

    def _delete_volume_once(self, volume_id, ignore_missing=False):
        """A retried delete whose first answer was lost finds the volume already
        ``deleting``, where Cinder would refuse a second delete with a 400."""
        if self.block_storage.get_volume(volume_id).status == 'deleting':
            return
        self.block_storage.delete_volume(volume_id, ignore_missing=ignore_missing)

    def _server_alive(self, server_id):
        try:
            server = self.compute.get_server(server_id)
        except sdk_exc.NotFoundException:
            return False
        return server.task_state != 'deleting'

    def _volume_gone(self, volume_id):
        try:
            self.block_storage.get_volume(volume_id)
        except sdk_exc.NotFoundException:
            return True
        return False

    def delete_floating_ip_if_present(self, fip_id, name=None):
        return self._delete('floating IP', fip_id, name, self.network.delete_ip)

    def remove_router_interface(self, router_id, subnet_id=None, port_id=None):
        """Detach the router from a subnet (or interface port); 404 = done."""
        def run():
            try:
                self.network.remove_interface_from_router(router_id, subnet=subnet_id,
                                                          port=port_id)
                return True
            except sdk_exc.NotFoundException:
                return False
        return self._call('remove', 'router interface',
                          f'{router_id} on {subnet_id or port_id}', run)

    def clear_router_gateway(self, router_id):
        """Remove the router's external gateway (absent router or gateway = done)."""
        def run():
            try:
                router = self.network.get_router(router_id)
            except sdk_exc.NotFoundException:
                return False
            if not router.external_gateway_info:
                return False
            self.network.update_router(router, external_gateway_info={})
            return True
        return self._call('clear', 'router gateway', router_id, run)

    def delete_router_if_present(self, router_id, name=None):
        return self._delete('router', router_id, name, self.network.delete_router)

    def delete_port_if_present(self, port_id, name=None):
        return self._delete('port', port_id, name, self.network.delete_port)

    def delete_subnet_if_present(self, subnet_id, name=None):
        return self._delete('subnet', subnet_id, name, self.network.delete_subnet)

    def delete_network_if_present(self, network_id, name=None):
        return self._delete('network', network_id, name, self.network.delete_network)

    def delete_security_group_if_present(self, group_id, name=None):
        return self._delete('security group', group_id, name,
                            self.network.delete_security_group)
