"""The create flow of a bay: a graph whose edges are the data each step needs.

Independent branches run in parallel on TaskFlow's parallel engine: the
network and the security groups, each role's ports, floating IPs, volumes
and servers. Each role's servers and volumes are one step each that makes
them all concurrently, so the flow has the same few dozen steps (and the
same persistence cost) at node_count 1 or 50.
"""

from taskflow.patterns import graph_flow, linear_flow

from bayflow.flows import retry
from bayflow.flows.tasks import coe, network, ports, records, secgroups, servers, volumes


def create_bay_flow(roles=('master', 'node'), wait_attempts=600, wait_interval=2.0):
    """The flow that builds a bay; JSON arguments, so any process can rebuild it.

    Store: ``bay`` (uuid, name, node_count, master_count, discovery_url,
    create_timeout, deadline), ``baymodel`` (with effective labels, the
    image's ``cluster_distro`` and resolved ids) and ``recorder``.
    """
    flow = graph_flow.Flow('create-bay')
    flow.add(network.CreateNetwork('create-network'),
             network.CreateSubnet('create-subnet'),
             network.CreateRouter('create-router'),
             network.SetRouterGateway('set-router-gateway'),
             network.AddRouterInterface('add-router-interface'),
             secgroups.CreateSecurityGroups('create-security-groups'),
             secgroups.CreateSecurityGroupRules('create-security-group-rules'),
             coe.ConfigureContainerNetwork('configure-container-network'),
             coe.CreateCA('create-ca'),
             coe.ConfigureCOE())
    for role in roles:
        wait = linear_flow.Flow(
            f'wait-servers-{role}-flow',
            retry=retry.SleepingRetry(wait_attempts, wait_interval,
                                      name=f'wait-servers-{role}-retry'))
        wait.add(servers.WaitServersActive(role))
        # Only the masters' floating IPs go into user_data; the others are
        # made while the servers boot, so their calls do not delay them.
        after = () if role == 'master' else (f'servers_{role}',)
        flow.add(ports.CreatePorts(role), ports.CreateFloatingIPs(role, after),
                 volumes.CreateVolumes(role), servers.CreateServers(role), wait,
                 volumes.AttachVolumes(role))
    flow.add(records.FinishCreate(roles))
    return flow
