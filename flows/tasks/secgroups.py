"""Security groups of each role, then the rules the COE and network drivers ask for.

The groups and their rules are two steps: ports need only the groups' ids, so
they go ahead while the (many, independent) rules are added concurrently.
"""

from bayflow.drivers import coe
from bayflow.flows.tasks import base


def rules_by_role(baymodel):
    driver = coe.get_driver(baymodel['coe'], baymodel['cluster_distro'],
                            baymodel.get('server_type') or 'vm')
    return driver.security_groups(baymodel, labels=baymodel['labels'])


class CreateSecurityGroups(base.BayTask):
    default_provides = 'security_groups'
    priority = base.CRITICAL

    def execute(self, bay, baymodel):
        base.check_deadline(bay)
        roles = list(rules_by_role(baymodel))
        groups = base.each(lambda role: self.cloud.ensure_security_group(bay['uuid'], role),
                           roles)
        return dict(zip(roles, groups))

    def revert(self, bay, baymodel, *args, **kwargs):
        self.cloud.delete_security_groups(bay['uuid'], list(rules_by_role(baymodel)))


class CreateSecurityGroupRules(base.BayTask):
    default_provides = 'security_group_rules'
    priority = base.LATE

    def execute(self, bay, baymodel, security_groups):
        base.check_deadline(bay)
        wanted = rules_by_role(baymodel)
        # A role's rules go in one bulk request; the roles side by side.
        created = base.each(lambda role: self.cloud.ensure_security_group_rules(
            security_groups[role], wanted[role], security_groups), list(wanted))
        return {'rules': sum(len(rules) for rules in wanted.values()),
                'created': sum(created)}

    def revert(self, *args, **kwargs):
        """Nothing of its own: removing the groups (next) removes their rules."""
