"""What every network driver provides (flannel, calico, docker: reference 1 and 3.1).

A network driver owns the container network: its labels, its config, the ports
it needs between the bay's servers, the address pairs its traffic needs on the
bay's ports and the user_data steps that set it up. COE drivers call it; it
never knows which COE it serves beyond the ``coe`` it validates labels for.
"""

import abc

from bayflow import validation


class NetworkDriver(abc.ABC):
    #: The baymodel's network_driver value this driver serves.
    name = None

    def validate_labels(self, coe, labels):
        """-> (labels, warnings): bayflow.validation's check for this COE and driver."""
        return validation.validate_labels(coe, self.name, labels)

    @abc.abstractmethod
    def config(self, labels):
        """-> dict: the container-network configuration the labels describe."""

    def params(self, role, context):
        """-> {NAME: value}: lines the driver adds to the role's parameters file."""
        return {'NETWORK_DRIVER': self.name}

    def security_group_rules(self, labels):
        """-> {role or '*': [rule dicts]}: ports the container network opens
        between the bay's servers (see bayflow.drivers.rules)."""
        return {}

    def allowed_address_pairs(self, labels):
        """-> [{'ip_address': cidr}]: addresses every bay port must let through."""
        return []

    def user_data_parts(self, role, context):
        """-> [(filename, script)]: the role's network steps, in run order."""
        return []

    def __repr__(self):
        return f'<{type(self).__name__} {self.name}>'
