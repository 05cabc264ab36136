"""Read-only look-ups of what a bay already has, for the flows that change a
built bay (scale): its network, router, security groups and each server's
port and floating IP. Nothing is created here: a bay missing its network is
an error naming what is gone, never a reason to build a new one.
"""

from bayflow.drivers.cloud import naming
from bayflow.drivers.cloud.errors import CloudError


class LookupMixin:

    def _find_named(self, kind, listing, bay_uuid, name, **filters):
        found = self._call('find', kind, name,
                           lambda: self._neutron_find(listing, bay_uuid, name, **filters))
        if found is None:
            raise CloudError('find', kind, name, f'bay {bay_uuid} has no {kind} of that name '
                                                 f'any more; bay-delete removes what is left')
        return found

    def find_bay_network(self, bay_uuid, roles):
        """``{'network', 'subnet', 'router', 'security_groups': {role: group}}``
        as the create steps returned them; CloudError when one is gone."""
        net = self._find_named('network', self.network.networks, bay_uuid,
                               naming.network_name(bay_uuid))
        subnet = self._find_named('subnet', self.network.subnets, bay_uuid,
                                  naming.subnet_name(bay_uuid), network_id=net.id)
        router = self._find_named('router', self.network.routers, bay_uuid,
                                  naming.router_name(bay_uuid))
        groups = {}
        for role in roles:
            group = self._find_named('security group', self.network.security_groups,
                                     bay_uuid, naming.security_group_name(bay_uuid, role))
            groups[role] = {'id': group.id, 'name': group.name, 'role': role}
        return {'network': {'id': net.id, 'name': net.name},
                'subnet': {'id': subnet.id, 'name': subnet.name, 'network_id': net.id,
                           'cidr': subnet.cidr, 'gateway_ip': subnet.gateway_ip},
                'router': {'id': router.id, 'name': router.name},
                'security_groups': groups}

    def role_addresses(self, bay_uuid, role, indexes):
        """``[{'index', 'port_id', 'fixed_ip', 'floating_ip'}]`` of the servers
        ``role``-``index`` whose port exists (two list calls at any size);
        the floating IP is the bay's one on that port, else None."""
        names = {naming.port_name(bay_uuid, role, i): i for i in indexes}

        def read():
            ports = [p for p in self.network.ports() if p.name in names
                     and naming.owned(bay_uuid, p.name, p.tags)]
            fips = {f.port_id: f.floating_ip_address for f in self.network.ips()
                    if f.port_id and naming.owned(bay_uuid, tag_list=f.tags,
                                                  description=f.description)}
            out = {}
            for port in sorted(ports, key=lambda p: (p.created_at or '', p.id)):
                index = names[port.name]
                if index not in out:  # of duplicates the oldest, as ensure_port
                    fixed = [f['ip_address'] for f in port.fixed_ips or ()]
                    out[index] = {'index': index, 'port_id': port.id,
                                  'fixed_ip': fixed[0] if fixed else None,
                                  'floating_ip': fips.get(port.id)}
            return [out[i] for i in sorted(out)]
        return self._call('list', 'ports', f'{role}s of bay {bay_uuid}', read)
