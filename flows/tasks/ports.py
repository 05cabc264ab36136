"""One port per server on the bay's subnet: its fixed IP is the server's address."""

from bayflow.flows.tasks import base


class CreatePorts(base.BayTask):
    def __init__(self, role):
        super().__init__(name=f'create-ports-{role}', provides=f'ports_{role}')
        self.role = role

    def execute(self, bay, network, subnet, security_groups, container_network):
        base.check_deadline(bay)
        pairs = container_network.get('allowed_address_pairs') or []

        def one(index):
            return dict(self.cloud.ensure_port(
                bay['uuid'], self.role, index, network['id'], subnet['id'],
                [security_groups[self.role]], allowed_address_pairs=pairs), index=index)
        return base.each(one, base.members(bay, self.role))

    def revert(self, bay, *args, **kwargs):
        base.each(lambda i: self.cloud.delete_port(bay['uuid'], self.role, i),
                  base.members(bay, self.role))


class CreateFloatingIPs(base.BayTask):
    """Created already bound to their port (found again by port), after the
    router can reach the external network, and after what ``after`` names
    (the create flow puts the nodes' after their servers: no server needs
    them, and the servers are the bay's critical path)."""

    priority = base.CRITICAL

    def __init__(self, role, after=()):
        super().__init__(name=f'create-floating-ips-{role}', provides=f'floating_ips_{role}',
                         rebind={'ports': f'ports_{role}'}, requires=list(after))
        self.role = role

    def execute(self, bay, baymodel, ports, gateway, router_interface, **_after):
        base.check_deadline(bay)
        if not baymodel.get('floating_ip_enabled', True):
            return []
        net = baymodel['external_network_id']
        return base.each(
            lambda port: dict(self.cloud.ensure_floating_ip(bay['uuid'], port['id'], net),
                              index=port['index']), ports)

    def revert(self, bay, ports, *args, **kwargs):
        base.each(lambda port: self.cloud.delete_floating_ip(bay['uuid'], port['id']), ports)
