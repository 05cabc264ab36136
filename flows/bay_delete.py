"""The delete flow of a bay: tear down in Neutron's order, idempotently."""

from taskflow.patterns import linear_flow, unordered_flow

from bayflow.flows.tasks import records, teardown


def delete_bay_flow(wait_attempts=None, wait_interval=None):
    """Servers first (their ports and volumes are freed with them); then, side
    by side, the volumes (Cinder takes its time to delete them) and Neutron's
    chain: floating IPs, the router, ports, subnet, network and security
    groups. Store: ``bay`` and ``recorder``."""
    neutron = linear_flow.Flow('delete-bay-network').add(
        *(teardown.RemoveAll(kind) for kind in
          ('floating_ips', 'routers', 'ports', 'subnets', 'networks', 'security_groups')))
    flow = linear_flow.Flow('delete-bay')
    flow.add(teardown.RemoveAll('servers'),
             unordered_flow.Flow('delete-bay-detached').add(
                 teardown.RemoveAll('volumes'), neutron),
             records.FinishDelete('finish-delete'))
    return flow
