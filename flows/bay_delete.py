"""The delete flow of a bay: tear down in Neutron's order, idempotently."""

from taskflow.patterns import linear_flow, unordered_flow

from bayflow.flows.tasks import records, teardown


def delete_bay_flow(wait_attempts=None, wait_interval=None):
    """Servers first (their ports and volumes are freed with them), then
    floating IPs and volumes together, the router, ports, subnet, network
    and security groups. Store: ``bay`` and ``recorder``."""
    flow = linear_flow.Flow('delete-bay')
    flow.add(teardown.RemoveAll('servers'),
             unordered_flow.Flow('delete-bay-detached').add(
                 teardown.RemoveAll('floating_ips'), teardown.RemoveAll('volumes')),
             *(teardown.RemoveAll(kind) for kind in
               ('routers', 'ports', 'subnets', 'networks', 'security_groups')),
             records.FinishDelete('finish-delete'))
    return flow
