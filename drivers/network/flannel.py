"""flannel: an overlay (udp, vxlan) or routed (host-gw) pod network leased through etcd.

Every host runs flanneld, which leases a /subnetlen of ``flannel_network_cidr``
from the etcd on the masters and hands it to docker's bridge. The masters
publish the network config to etcd (reference 5.5 steps 11-13; nodes run only
the network-service step, 5.6 step 10).
"""

import json

from bayflow.drivers import rules
from bayflow.drivers.userdata import fragment, write_files_script
from bayflow.drivers.network.base import NetworkDriver
from bayflow.validation import LABEL_DEFAULTS

# flannel's own default ports (its udp and vxlan backends).
BACKEND_PORTS = {'udp': 8285, 'vxlan': 8472}
ETCD_CLIENT_PORT = 2379
# flanneld's etcd key prefix, as the image's flannel package ships it.
ETCD_PREFIX = {'fedora-atomic': '/atomic.io/network', 'coreos': '/coreos.com/network'}
DEFAULT_ETCD_PREFIX = ETCD_PREFIX['fedora-atomic']
NETWORK_JSON = '/etc/sysconfig/flannel-network.json'
# The role whose hosts run etcd and publish the config (kubernetes and swarm masters).
ETCD_ROLE = 'master'


def _label(labels, key):
    value = (labels or {}).get(key)
    return LABEL_DEFAULTS[key] if value in (None, '') else value


class FlannelDriver(NetworkDriver):
    name = 'flannel'

    def settings(self, labels):
        """-> (network cidr, subnet length, backend) from effective labels."""
        return (_label(labels, 'flannel_network_cidr'),
                int(_label(labels, 'flannel_network_subnetlen')),
                _label(labels, 'flannel_backend'))

    def config(self, labels):
        """flannel's network config, as flanneld reads it from etcd.

        The key is ``SubnetLen``, a JSON number: the spelling of flannel's
        Config struct and its documentation. Magnum wrote ``Subnetlen``, which
        worked only because Go's JSON decoding matches keys case-insensitively.
        """
        cidr, subnetlen, backend = self.settings(labels)
        return {'Network': cidr, 'SubnetLen': subnetlen, 'Backend': {'Type': backend}}

    def params(self, role, context):
        cidr, subnetlen, backend = self.settings(context.get('labels'))
        distro = (context.get('baymodel') or {}).get('cluster_distro')
        if role == ETCD_ROLE:
            etcd = '127.0.0.1'
        else:
            etcd = context['masters'][0]['fixed_ip']
        return {
            'NETWORK_DRIVER': self.name,
            'FLANNEL_NETWORK_CIDR': cidr,
            'FLANNEL_NETWORK_SUBNETLEN': subnetlen,
            'FLANNEL_BACKEND': backend,
            'FLANNEL_ETCD_ENDPOINT': f'http://{etcd}:{ETCD_CLIENT_PORT}',
            'FLANNEL_ETCD_PREFIX': ETCD_PREFIX.get(distro, DEFAULT_ETCD_PREFIX),
            'FLANNEL_IFACE': context['fixed_ip'],
        }

    def security_group_rules(self, labels):
        """udp and vxlan encapsulate pod traffic in one UDP port, opened between
        every pair of roles; host-gw routes it unencapsulated (see
        allowed_address_pairs) and needs no port of its own."""
        port = BACKEND_PORTS.get(self.settings(labels)[2])
        if port is None:
            return {}
        return {rules.ANY_ROLE: [rules.rule('udp', port, remote_role=rules.ANY_ROLE)]}

    def allowed_address_pairs(self, labels):
        """host-gw sends pod traffic with pod source addresses: Neutron's
        anti-spoofing drops it unless every bay port allows the flannel network."""
        cidr, _, backend = self.settings(labels)
        return [{'ip_address': cidr}] if backend == 'host-gw' else []

    def user_data_parts(self, role, context):
        parts = []
        if role == ETCD_ROLE:
            network = json.dumps(self.config(context.get('labels')), indent=2)
            parts += [('write-network-config.sh',
                       write_files_script([(NETWORK_JSON, network, '0644')])),
                      ('network-config-service.sh', _fragment('network-config-service.sh'))]
        parts.append(('network-service.sh', _fragment('network-service.sh')))
        return parts


def _fragment(name):
    return fragment(__package__, f'flannel/{name}')
