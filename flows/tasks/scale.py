"""The steps only a scale needs: look up what the bay already has, and remove nodes.

A scale-up builds new nodes with the create flow's own steps; they need what
the create flow had made by then (network, security groups, the masters'
addresses, the CA), which here is looked up, never made again. A scale-down
removes nodes by their names (``bf-<uuid>-<role>-<index>``), so it can touch
neither the masters nor another bay, and a second run finds nothing to do.
"""

from bayflow import exceptions
from bayflow.flows.tasks import base, coe, secgroups


class FindNetwork(base.BayTask):
    """The bay's network, subnet, router and security groups, as the create made them."""

    def __init__(self):
        super().__init__(name='find-network',
                         provides=('network', 'subnet', 'router', 'gateway',
                                   'router_interface', 'security_groups'))

    def execute(self, bay, baymodel):
        found = self.cloud.find_bay_network(bay['uuid'],
                                            list(secgroups.rules_by_role(baymodel)))
        # The router's gateway and interface were made with it: the floating
        # IPs' steps need only to come after this one.
        return (found['network'], found['subnet'], found['router'], found['router'],
                found['router'], found['security_groups'])


class FindCOEConfig(base.BayTask):
    """What the new nodes' user_data names: the masters' addresses and the
    bay's own CA (from its record: a new CA would not be the one the masters trust)."""

    default_provides = 'coe_config'

    def __init__(self):
        super().__init__(name='find-coe-config')

    def execute(self, bay, baymodel, ca):
        indexes = list(range(bay['master_count']))
        found = self.cloud.role_addresses(bay['uuid'], 'master', indexes)
        if [m['index'] for m in found] != indexes:
            raise exceptions.BayflowError(
                f"bay {bay['uuid']}: masters {indexes} expected, found ports of "
                f"{[m['index'] for m in found]}; bay-delete removes what is left")
        masters = coe.addresses(
            [{'index': m['index'], 'fixed_ip': m['fixed_ip']} for m in found],
            [{'index': m['index'], 'address': m['floating_ip']} for m in found
             if m['floating_ip'] and baymodel.get('floating_ip_enabled', True)])
        if not baymodel.get('tls_disabled') and not ca:
            raise exceptions.BayflowError(
                f"bay {bay['uuid']} has TLS on but no CA recorded: its nodes could not "
                f"join it")
        return {'masters': masters,
                'api_address': coe.coe_driver(baymodel).api_address(baymodel, masters[0]),
                'ca': ca}


class RemoveNodes(base.BayTask):
    """One kind of resource of the nodes ``indexes``, by name; nothing to undo."""

    def __init__(self, kind, role, indexes):
        super().__init__(name=f'remove-{kind.replace("_", "-")}-{role}',
                         provides=f'removed_{kind}_{role}')
        self.kind, self.role, self.indexes = kind, role, list(indexes)

    def execute(self, bay):
        uuid = bay['uuid']
        if self.kind == 'floating_ips':  # found by their ports, which go after them
            ports = self.cloud.role_addresses(uuid, self.role, self.indexes)
            return base.each(lambda p: self.cloud.delete_floating_ip(uuid, p['port_id']),
                             ports)
        delete = {'servers': self.cloud.delete_server, 'volumes': self.cloud.delete_volume,
                  'ports': self.cloud.delete_port}[self.kind]
        return base.each(lambda i: delete(uuid, self.role, i), self.indexes)

    def revert(self, *args, **kwargs):
        """A removal cannot be undone; the bay ends UPDATE_FAILED, and
        bay-delete removes whatever is left."""
