"""The update flow of a bay: scale its nodes from ``old_count`` to ``new_count``.

Scale-up: the new nodes are built by the create flow's own steps (port with
the node security group, floating IP, docker volume, server with its
rendered user_data, the wait for ACTIVE under the sleeping retry, volume
attached) on what the bay already has, looked up, never made again. The
store's bay carries ``first_index`` = old_count, so those steps and their
reverts touch only the nodes this update adds: a failed scale-up reverts to
the bay it started from.

Scale-down: the highest-index nodes go, in the teardown's order (servers,
then their floating IPs and volumes, then their ports), by name.

Either way the last step reads every node back and tells the recorder
(node_count, node_addresses, UPDATE_COMPLETE).
"""

from taskflow.patterns import graph_flow, linear_flow, unordered_flow

from bayflow.flows import retry
from bayflow.flows.tasks import coe, ports, records, scale, servers, volumes


def update_bay_flow(old_count, new_count, role='node', wait_attempts=600, wait_interval=2.0):
    """The flow that scales a bay; JSON arguments, so any process can rebuild it.

    Store: ``bay`` (uuid, name, master_count, discovery_url, node_count =
    new_count and, for a scale-up, ``first_index`` = {role: old_count}),
    ``baymodel`` (as for create), ``ca`` (the bay's CA: cert and encrypted
    key, or None with TLS off) and ``recorder``.
    """
    if new_count > old_count:
        return _scale_up(role, wait_attempts, wait_interval)
    flow = linear_flow.Flow('update-bay')
    if new_count < old_count:
        gone = list(range(new_count, old_count))
        flow.add(scale.RemoveNodes('servers', role, gone),
                 unordered_flow.Flow('update-bay-detached').add(
                     scale.RemoveNodes('floating_ips', role, gone),
                     scale.RemoveNodes('volumes', role, gone)),
                 scale.RemoveNodes('ports', role, gone))
    flow.add(records.FinishUpdate(role))
    return flow


def _scale_up(role, wait_attempts, wait_interval):
    flow = graph_flow.Flow('update-bay')
    wait = linear_flow.Flow(
        f'wait-servers-{role}-flow',
        retry=retry.SleepingRetry(wait_attempts, wait_interval,
                                  name=f'wait-servers-{role}-retry'))
    wait.add(servers.WaitServersActive(role))
    flow.add(scale.FindNetwork(), scale.FindCOEConfig(),
             coe.ConfigureContainerNetwork('configure-container-network'),
             ports.CreatePorts(role), ports.CreateFloatingIPs(role),
             volumes.CreateVolumes(role), servers.CreateServers(role), wait,
             volumes.AttachVolumes(role),
             records.FinishUpdate(role, after=[f'attachments_{role}']))
    return flow
