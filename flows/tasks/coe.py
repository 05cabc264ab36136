"""COE configuration: the bay's CA and API address, and the container network's config.

The CA is made once, by its own step at the start of the flow (making an RSA
key takes CPU that would otherwise delay the servers), and travels in the
flow as its certificate and its key encrypted with ``[certificates]`` key;
the servers step issues each server's own certificate from it while it
renders that server's user_data, so no private key is ever stored in the clear.
"""

from bayflow.drivers import coe, network as network_drivers, tls
from bayflow.flows.tasks import base, network


def coe_driver(baymodel):
    return coe.get_driver(baymodel['coe'], baymodel['cluster_distro'],
                          baymodel.get('server_type') or 'vm')


def addresses(ports, floating_ips):
    """[{'fixed_ip', 'floating_ip'}] of a role's servers, by index."""
    fips = {f['index']: f['address'] for f in floating_ips}
    return [{'fixed_ip': p['fixed_ip'], 'floating_ip': fips.get(p['index'])}
            for p in sorted(ports, key=lambda p: p['index'])]


class ConfigureContainerNetwork(base.BayTask):
    default_provides = 'container_network'

    def execute(self, bay, baymodel):
        base.check_deadline(bay)
        driver = network_drivers.get_driver(baymodel['network_driver'])
        labels = baymodel['labels']
        return {'driver': driver.name, 'config': driver.config(labels),
                'allowed_address_pairs': driver.allowed_address_pairs(labels),
                'cluster_subnet': network.FIXED_SUBNET_CIDR}


class CreateCA(base.BayTask):
    """The bay's CA (None with tls_disabled), and the masters' shared
    service-account key when the COE needs one; keys encrypted. They live only
    in the flow and the bay record, so there is nothing in the cloud to revert."""

    default_provides = 'ca'

    def execute(self, bay, baymodel):
        base.check_deadline(bay)
        if baymodel.get('tls_disabled'):
            return None
        ca = tls.make_ca(bay['uuid'], bay.get('name'))
        out = {'cert': ca['cert'], 'key': tls.encrypt_key(ca['key'])}
        if coe_driver(baymodel).shares_service_account_key(bay, baymodel):
            out['service_account_key'] = tls.encrypt_key(tls.service_account_key())
        return out


class ConfigureCOE(base.BayTask):
    default_provides = 'coe_config'
    priority = base.CRITICAL

    def __init__(self):
        super().__init__(name='configure-coe', rebind={'ports': 'ports_master',
                                                       'floating_ips': 'floating_ips_master'})

    def execute(self, bay, baymodel, ports, floating_ips, ca):
        base.check_deadline(bay)
        masters = addresses(ports, floating_ips)
        return {'masters': masters,
                'api_address': coe_driver(baymodel).api_address(baymodel, masters[0]),
                'ca': ca}
