"""What a flow is built from: factory arguments and store, from plain bay and baymodel dicts.

bayflow's service layer and embedding hosts both build flows through here, so
a flow saved by one can be rebuilt by the other's process.
"""

import time

from bayflow import validation
from bayflow.drivers import coe
from bayflow.flows import bay_create, bay_delete

# The fields a flow reads; the rest of the records stay out of the store.
BAYMODEL_FIELDS = ('uuid', 'name', 'coe', 'image_id', 'keypair_id', 'external_network_id',
                   'dns_nameserver', 'flavor_id', 'master_flavor_id', 'docker_volume_size',
                   'docker_storage_driver', 'network_driver', 'volume_driver',
                   'apiserver_port', 'http_proxy', 'https_proxy', 'no_proxy',
                   'tls_disabled', 'registry_enabled', 'floating_ip_enabled',
                   'server_type', 'cluster_distro')
BAY_FIELDS = ('uuid', 'name', 'node_count', 'master_count', 'discovery_url', 'create_timeout')
DEFAULT_WAIT = {'wait_attempts': 300, 'wait_interval': 2.0}


def create_spec(bay, baymodel, recorder='none', wait=None):
    """-> {'factory', 'factory_kwargs', 'store'} of the create flow.

    ``baymodel`` holds the cloud's ids (image, flavors, external network) and
    ``cluster_distro`` (the image's os_distro), as the cloud checks resolve them.
    """
    flow_bay = {k: bay.get(k) for k in BAY_FIELDS}
    flow_bay['master_count'] = int(flow_bay.get('master_count') or 1)
    flow_bay['node_count'] = int(flow_bay.get('node_count') or 1)
    minutes = flow_bay.get('create_timeout') or 0
    flow_bay['deadline'] = time.time() + minutes * 60 if minutes else None
    flow_model = {k: baymodel.get(k) for k in BAYMODEL_FIELDS}
    flow_model['labels'] = validation.effective_labels(
        baymodel.get('labels') or {}, baymodel['coe'], baymodel['network_driver'])
    driver = coe.get_driver(baymodel['coe'], baymodel['cluster_distro'],
                            baymodel.get('server_type') or 'vm')
    kwargs = dict(wait or DEFAULT_WAIT, roles=[r['role'] for r in driver.roles(flow_bay)])
    return {'factory': bay_create.create_bay_flow, 'factory_kwargs': kwargs,
            'store': {'bay': flow_bay, 'baymodel': flow_model, 'recorder': recorder}}


def delete_spec(bay, recorder='none', wait=None):
    """-> {'factory', 'factory_kwargs', 'store'} of the delete flow (tag-driven: the
    bay's uuid is all it needs)."""
    return {'factory': bay_delete.delete_bay_flow, 'factory_kwargs': dict(wait or DEFAULT_WAIT),
            'store': {'bay': {k: bay.get(k) for k in BAY_FIELDS}, 'recorder': recorder}}
