"""Deletes by the bay's names: what a create task's revert calls.

A revert may run after a crash, before the execute's result was saved, or
twice: it cannot count on ids. Each call finds the resource by its exact
bay name (or, for a floating IP, by its port and the bay's mark), removes
it when present and answers whether there was anything to remove.
"""

from openstack import exceptions as sdk_exc

from bayflow.drivers.cloud import naming
from bayflow.drivers.cloud.compute import VOLUME_MOVING, _attached_to


class RevertMixin:

    def _delete_named(self, kind, listing, delete, name, **filters):
        def run():
            found = [r for r in listing(name=name, **filters) if r.name == name]
            for resource in found:
                delete(resource, ignore_missing=True)
            return bool(found)
        return self._call('delete', kind, name, run)

    def delete_network(self, bay_uuid):
        """Remove the bay's network (Neutron removes its subnets and DHCP ports)."""
        return self._delete_named('network', self.network.networks,
                                  self.network.delete_network, naming.network_name(bay_uuid))

    def delete_subnet(self, bay_uuid):
        return self._delete_named('subnet', self.network.subnets, self.network.delete_subnet,
                                  naming.subnet_name(bay_uuid))

    def delete_router(self, bay_uuid):
        """Remove the bay's router with its interfaces and gateway."""
        name = naming.router_name(bay_uuid)
        routers = self._call('list', 'router', name, lambda: [
            self._router_item(r) for r in self.network.routers(name=name) if r.name == name])
        self._remove_routers(routers)
        return bool(routers)

    def delete_security_groups(self, bay_uuid, roles):
        """Remove the groups of ``roles`` (their rules go with them)."""
        removed = False
        for role in roles:
            removed |= self._delete_named(
                'security group', self.network.security_groups,
                self.network.delete_security_group,
                naming.security_group_name(bay_uuid, role))
        return removed

    def delete_port(self, bay_uuid, role, index):
        return self._delete_named('port', self.network.ports, self.network.delete_port,
                                  naming.port_name(bay_uuid, role, index))

    def delete_floating_ip(self, bay_uuid, port_id):
        """Remove the bay's floating IP on the port; one that is not the bay's
        is left alone."""
        def run():
            found = [f for f in self.network.ips(port_id=port_id)
                     if naming.owned(bay_uuid, tag_list=f.tags, description=f.description)]
            for fip in found:
                self.network.delete_ip(fip, ignore_missing=True)
            return bool(found)
        return self._call('delete', 'floating IP', f'of bay {bay_uuid} on port {port_id}',
                          run)

    def delete_server(self, bay_uuid, role, index, wait=True):
        """Remove server ``role``-``index`` and (``wait``) wait until it is gone,
        so its port is unbound and its volume detached."""
        name = naming.server_name(bay_uuid, role, index)

        def run():
            found = [s.id for s in self.compute.servers(details=False, name=f'^{name}$')
                     if s.name == name]
            for server_id in found:
                self.compute.delete_server(server_id, ignore_missing=True)
            return found
        found = self._call('delete', 'server', name, run)
        if wait:
            self.wait_servers_gone(found)
        return bool(found)

    def delete_volume(self, bay_uuid, role, index):
        """Remove the docker volume of ``role``-``index`` once it is detached."""
        name = naming.volume_name(bay_uuid, role, index)
        found = self._call('list', 'volume', name, lambda: [
            v.id for v in self.block_storage.volumes(details=False, name=name)
            if v.name == name])
        removed = False
        for volume_id in found:
            removed |= self.delete_volume_if_present(volume_id, name=name)
        return removed

    def detach_volume(self, server_id, volume_id):
        """Detach the volume from the server unless it is not attached (or
        either is gone): waits out an attach still in progress first, and
        Nova's background detach after."""
        label = f'{volume_id} from server {server_id}'

        def settled():
            try:
                volume = self.block_storage.get_volume(volume_id)
            except sdk_exc.NotFoundException:
                return 'gone'
            return None if volume.status in VOLUME_MOVING else volume

        def run():
            volume = self._wait('volume settled', label, settled)
            if volume == 'gone' or server_id not in _attached_to(volume):
                return False
            self.compute.delete_volume_attachment(server_id, volume_id, ignore_missing=True)
            return True
        def let_go():
            volume = settled()
            return volume is not None and (volume == 'gone'
                                           or server_id not in _attached_to(volume))
        detached = self._call('detach', 'volume', label, run)
        if detached:
            self._wait('volume detached', label,
                       lambda: self._call('read', 'volume', label, let_go))
        return detached
