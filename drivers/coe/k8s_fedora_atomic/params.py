"""/etc/sysconfig/heat-params for kubernetes on fedora-atomic (reference 5.5 step 2, 5.6 step 2).

Every configuration step sources this file, so it holds every address and
setting a step needs, computed here from the bay's real addresses. It holds no
credential: bayflow's nodes call no OpenStack or bayflow API (Magnum's user,
password and token parameters are gone).
"""

from bayflow.drivers.coe import kubernetes
from bayflow.validation import LABEL_DEFAULTS

PATH = '/etc/sysconfig/heat-params'
VOLUME_DEVICE = '/dev/vdb'
ETCD_PEER_PORT = kubernetes.ETCD_PORTS[1]


def master(driver, context, network):
    """The master's parameters (Magnum's write-heat-params-master)."""
    masters = context['masters']
    master0 = masters[0]
    uuid = context['bay']['uuid']
    values = {
        'KUBE_API_PUBLIC_ADDRESS': driver.public_ip(context['baymodel'], master0),
        'KUBE_API_PRIVATE_ADDRESS': master0['fixed_ip'],
        **_common(context, network, 'master'),
        'ETCD_DISCOVERY_URL': context['bay'].get('discovery_url') or '',
        'ETCD_INITIAL_CLUSTER': ','.join(
            f'{driver.server_name(uuid, "master", index)}='
            f'http://{server["fixed_ip"]}:{ETCD_PEER_PORT}'
            for index, server in enumerate(masters)),
        'NUMBER_OF_MASTERS': len(masters),
    }
    return _with_bay_settings(values, context)


def node(driver, context, network):
    """A node's parameters: without a load balancer the API and etcd are master 0's."""
    master0 = context['masters'][0]['fixed_ip']
    values = {'KUBE_MASTER_IP': master0, 'ETCD_SERVER_IP': master0,
              **_common(context, network, 'node')}
    return _with_bay_settings(values, context)


def _common(context, network, role):
    baymodel, labels = context['baymodel'], context['labels']
    volume = baymodel.get('docker_volume_size') or 0
    return {
        'KUBE_API_PORT': kubernetes.api_port(baymodel),
        'KUBE_NODE_NAME': context['server_name'],
        'KUBE_NODE_IP': context['fixed_ip'],
        'KUBE_NODE_PUBLIC_IP': context.get('floating_ip') or '',
        'KUBE_ALLOW_PRIV': 'true',
        'DOCKER_VOLUME': VOLUME_DEVICE if volume else '',
        'DOCKER_VOLUME_ID': (context.get('docker_volume') or '') if volume else '',
        'DOCKER_VOLUME_SIZE': volume,
        'DOCKER_STORAGE_DRIVER': baymodel.get('docker_storage_driver') or 'devicemapper',
        **network.params(role, context),
        'PORTAL_NETWORK_CIDR': labels.get('service_cluster_ip_range')
        or LABEL_DEFAULTS['service_cluster_ip_range'],
        'CLUSTER_SUBNET': context.get('cluster_subnet') or '',
    }


def _with_bay_settings(values, context):
    baymodel = context['baymodel']
    values.update({
        'TLS_DISABLED': 'True' if baymodel.get('tls_disabled') else 'False',
        'BAY_UUID': context['bay']['uuid'],
        'HTTP_PROXY': baymodel.get('http_proxy') or '',
        'HTTPS_PROXY': baymodel.get('https_proxy') or '',
        'NO_PROXY': baymodel.get('no_proxy') or '',
    })
    return values

