"""What a flow is built from: factory arguments and store, from plain bay and baymodel dicts.

bayflow's service layer and embedding hosts both build flows through here, so
a flow saved by one can be rebuilt by the other's process.
"""

import os
import time

from bayflow import validation
from bayflow.drivers import coe
from bayflow.flows import bay_create, bay_delete, bay_update, retry

# The fields a flow reads; the rest of the records stay out of the store.
BAYMODEL_FIELDS = ('uuid', 'name', 'coe', 'image_id', 'keypair_id', 'external_network_id',
                   'dns_nameserver', 'flavor_id', 'master_flavor_id', 'docker_volume_size',
                   'docker_storage_driver', 'network_driver', 'volume_driver',
                   'apiserver_port', 'http_proxy', 'https_proxy', 'no_proxy',
                   'tls_disabled', 'registry_enabled', 'floating_ip_enabled',
                   'server_type', 'cluster_distro')
BAY_FIELDS = ('uuid', 'name', 'node_count', 'master_count', 'discovery_url', 'create_timeout')
# Seconds in a minute of --timeout. A test hook (as BAYFLOW_CRASH_AT): the
# timeout test shortens it rather than wait out a real minute.
MINUTE_SECONDS = float(os.environ.get('BAYFLOW_TEST_MINUTE_SECONDS') or 60)
DEFAULT_WAIT = {'wait_attempts': retry.attempts_for(600, 2.0), 'wait_interval': 2.0}


def create_spec(bay, baymodel, recorder='none', wait=None):
    """-> {'factory', 'factory_kwargs', 'store'} of the create flow.

    ``baymodel`` holds the cloud's ids (image, flavors, external network) and
    ``cluster_distro`` (the image's os_distro), as the cloud checks resolve them.
    """
    flow_bay = {k: bay.get(k) for k in BAY_FIELDS}
    flow_bay['master_count'] = int(flow_bay.get('master_count') or 1)
    flow_bay['node_count'] = int(flow_bay.get('node_count') or 1)
    minutes = flow_bay.get('create_timeout') or 0
    flow_bay['deadline'] = time.time() + minutes * MINUTE_SECONDS if minutes else None
    flow_model = _flow_model(baymodel)
    kwargs = dict(wait or DEFAULT_WAIT, roles=_roles(flow_bay, baymodel))
    return {'factory': bay_create.create_bay_flow, 'factory_kwargs': kwargs,
            'store': {'bay': flow_bay, 'baymodel': flow_model, 'recorder': recorder}}


def _flow_model(baymodel):
    flow_model = {k: baymodel.get(k) for k in BAYMODEL_FIELDS}
    flow_model['labels'] = validation.effective_labels(
        baymodel.get('labels') or {}, baymodel['coe'], baymodel['network_driver'])
    return flow_model


def _roles(flow_bay, baymodel):
    driver = coe.get_driver(baymodel['coe'], baymodel['cluster_distro'],
                            baymodel.get('server_type') or 'vm')
    return [r['role'] for r in driver.roles(flow_bay)]


def update_spec(bay, baymodel, node_count, recorder='none', wait=None):
    """-> {'factory', 'factory_kwargs', 'store'} of the flow scaling ``bay`` (its
    record as built: uuid, node_count, master_count, and its CA as ``ca_cert``
    and ``ca_key``, encrypted, as the create recorded them) to ``node_count``.

    ``baymodel`` as for :func:`create_spec`. The counts travel in the
    factory's arguments, so a resumed flow scales to the same size.
    """
    old = int(bay.get('node_count') or 1)
    flow_bay = {k: bay.get(k) for k in BAY_FIELDS}
    flow_bay.update(master_count=int(flow_bay.get('master_count') or 1),
                    node_count=int(node_count), deadline=None)
    roles = _roles(flow_bay, baymodel)
    role = roles[-1]  # the scalable role: the COE's workers, after its masters
    if flow_bay['node_count'] > old:
        flow_bay['first_index'] = {role: old}
    ca = {'cert': bay['ca_cert'], 'key': bay['ca_key']} if bay.get('ca_cert') else None
    kwargs = dict(wait or DEFAULT_WAIT, old_count=old, new_count=flow_bay['node_count'],
                  role=role)
    return {'factory': bay_update.update_bay_flow, 'factory_kwargs': kwargs,
            'store': {'bay': flow_bay, 'baymodel': _flow_model(baymodel), 'ca': ca,
                      'recorder': recorder}}


def delete_spec(bay, recorder='none', wait=None):
    """-> {'factory', 'factory_kwargs', 'store'} of the delete flow (tag-driven: the
    bay's uuid is all it needs)."""
    return {'factory': bay_delete.delete_bay_flow, 'factory_kwargs': dict(wait or DEFAULT_WAIT),
            'store': {'bay': {k: bay.get(k) for k in BAY_FIELDS}, 'recorder': recorder}}
