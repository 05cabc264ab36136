"""Security groups of each role, with the rules the COE and network drivers ask for."""

from bayflow.drivers import coe
from bayflow.flows.tasks import base


def rules_by_role(baymodel):
    driver = coe.get_driver(baymodel['coe'], baymodel['cluster_distro'],
                            baymodel.get('server_type') or 'vm')
    return driver.security_groups(baymodel, labels=baymodel['labels'])


class CreateSecurityGroups(base.BayTask):
    default_provides = 'security_groups'

    def execute(self, bay, baymodel):
        base.check_deadline(bay)
        return self.cloud.ensure_security_groups(bay['uuid'], rules_by_role(baymodel))

    def revert(self, bay, baymodel, *args, **kwargs):
        self.cloud.delete_security_groups(bay['uuid'], list(rules_by_role(baymodel)))
