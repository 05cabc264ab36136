"""The bay's private network: network, subnet, router, gateway, interface.

Reverts remove by the bay's names, not by ``result``: a create whose answer
was lost (or a step that failed half-way) still made something to remove.
"""

from bayflow.flows.tasks import base

# Magnum's fixed_network_cidr; validation keeps pod and service CIDRs off it.
FIXED_SUBNET_CIDR = '10.0.0.0/24'


class CreateNetwork(base.BayTask):
    priority = base.CRITICAL
    default_provides = 'network'

    def execute(self, bay):
        base.check_deadline(bay)
        return self.cloud.ensure_network(bay['uuid'])

    def revert(self, bay, *args, **kwargs):
        self.cloud.delete_network(bay['uuid'])


class CreateSubnet(base.BayTask):
    priority = base.CRITICAL
    default_provides = 'subnet'

    def execute(self, bay, baymodel, network):
        base.check_deadline(bay)
        return self.cloud.ensure_subnet(bay['uuid'], network['id'], FIXED_SUBNET_CIDR,
                                        [baymodel['dns_nameserver']])

    def revert(self, bay, *args, **kwargs):
        self.cloud.delete_subnet(bay['uuid'])


class CreateRouter(base.BayTask):
    priority = base.CRITICAL
    default_provides = 'router'

    def execute(self, bay):
        base.check_deadline(bay)
        return self.cloud.ensure_router(bay['uuid'])

    def revert(self, bay, *args, **kwargs):
        self.cloud.delete_router(bay['uuid'])


class SetRouterGateway(base.BayTask):
    priority = base.CRITICAL
    default_provides = 'gateway'

    def execute(self, bay, baymodel, router):
        base.check_deadline(bay)
        return self.cloud.ensure_router_gateway(router['id'], baymodel['external_network_id'])

    def revert(self, bay, router, *args, **kwargs):
        self.cloud.clear_router_gateway(router['id'])


class AddRouterInterface(base.BayTask):
    priority = base.CRITICAL
    default_provides = 'router_interface'

    def execute(self, bay, router, subnet):
        base.check_deadline(bay)
        return self.cloud.ensure_router_interface(router['id'], subnet['id'])

    def revert(self, bay, router, subnet, *args, **kwargs):
        self.cloud.remove_router_interface(router['id'], subnet_id=subnet['id'])
