"""The last steps: tell the recorder what was built, or that the bay is gone."""

from bayflow.flows import records
from bayflow.flows.tasks import base


def addresses(floating_ips, ports):
    """Magnum's master_addresses/node_addresses: floating IPs, else fixed ones."""
    source = floating_ips if floating_ips else ports
    key = 'address' if floating_ips else 'fixed_ip'
    return [item[key] for item in sorted(source, key=lambda i: i['index'])]


class FinishCreate(base.BayTask):
    default_provides = 'bay_outputs'

    def __init__(self, roles):
        needs = [f'{what}_{role}' for role in roles
                 for what in ('ports', 'floating_ips', 'attachments')]
        super().__init__(name='finish-create', requires=needs + ['security_group_rules'])
        self.roles = list(roles)

    def execute(self, bay, coe_config, recorder, **by_role):
        def of(role):
            return addresses(by_role[f'floating_ips_{role}'], by_role[f'ports_{role}'])
        ca = coe_config.get('ca') or {}
        outputs = {'api_address': coe_config['api_address'],
                   'master_addresses': of('master'),
                   'node_addresses': [a for r in self.roles if r != 'master' for a in of(r)],
                   'ca_cert': ca.get('cert'), 'ca_key': ca.get('key')}
        records.get(recorder).create_complete(bay['uuid'], outputs)
        return {k: v for k, v in outputs.items() if k != 'ca_key'}


class FinishUpdate(base.BayTask):
    """Every node the bay now has, read back from the cloud (the ones it kept
    and the ones it added alike), then UPDATE_COMPLETE."""

    default_provides = 'bay_outputs'

    def __init__(self, role, after=()):
        super().__init__(name='finish-update', requires=list(after))
        self.role = role

    def execute(self, bay, baymodel, recorder, **_after):
        found = self.cloud.role_addresses(bay['uuid'], self.role,
                                          range(bay['node_count']))
        use_fip = baymodel.get('floating_ip_enabled', True)
        outputs = {'node_count': bay['node_count'],
                   'node_addresses': [(n['floating_ip'] if use_fip else None)
                                      or n['fixed_ip'] for n in found]}
        records.get(recorder).update_complete(bay['uuid'], outputs)
        return outputs


class FinishDelete(base.BayTask):
    def execute(self, bay, recorder):
        records.get(recorder).delete_complete(bay['uuid'])
