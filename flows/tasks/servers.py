"""Servers on their ports with their rendered user_data, and the wait for ACTIVE."""

from bayflow.drivers import cloud as cloud_driver, tls
from bayflow.flows import retry
from bayflow.flows.tasks import base, coe as coe_tasks


class CreateServers(base.BayTask):
    def __init__(self, role):
        super().__init__(name=f'create-servers-{role}', provides=f'servers_{role}',
                         rebind={'ports': f'ports_{role}', 'volumes': f'volumes_{role}'})
        self.role = role

    def execute(self, bay, baymodel, ports, volumes, coe_config, container_network):
        """Each server's user_data names its docker volume, so the volumes come
        first (and are reverted after the servers that use them)."""
        base.check_deadline(bay)
        volume_of = {v['index']: v['id'] for v in volumes}
        ca = coe_config.get('ca')
        if ca:
            ca = {'cert': ca['cert'], 'key': tls.decrypt_key(ca['key'])}
        masters = coe_config['masters']
        driver = coe_tasks.coe_driver(baymodel)
        flavor = (baymodel.get('master_flavor_id') if self.role == 'master' else None) \
            or baymodel['flavor_id']

        def one(port):
            own = masters[port['index']] if self.role == 'master' else {}
            user_data = driver.render_user_data(self.role, {
                'bay': bay, 'baymodel': baymodel, 'labels': baymodel['labels'],
                'index': port['index'], 'fixed_ip': port['fixed_ip'],
                'floating_ip': own.get('floating_ip'),
                'docker_volume': volume_of.get(port['index']), 'masters': masters,
                'cluster_subnet': container_network.get('cluster_subnet'), 'ca': ca})
            server = self.cloud.ensure_server(
                bay['uuid'], self.role, port['index'], image=baymodel['image_id'],
                flavor=flavor, keypair=baymodel['keypair_id'], port_id=port['id'],
                user_data=user_data)
            return dict(server, index=port['index'])
        return base.each(one, ports)

    def revert(self, bay, *args, **kwargs):
        base.each(lambda i: self.cloud.delete_server(bay['uuid'], self.role, i),
                  base.members(bay, self.role))


class WaitServersActive(base.BayTask):
    """One look at the bay's servers; StillWaiting makes the retry look again."""

    def __init__(self, role):
        super().__init__(name=f'wait-servers-{role}', provides=f'servers_active_{role}',
                         rebind={'servers': f'servers_{role}'})

    def execute(self, bay, servers):
        base.check_deadline(bay)
        statuses = self.cloud.server_statuses(bay['uuid'])
        pending = []
        for server in servers:
            status = statuses.get(server['id'], {})
            if status.get('status') == 'ERROR':
                raise cloud_driver.CloudError(
                    'build', 'server', server.get('name') or server['id'],
                    status.get('fault') or 'the server went to ERROR')
            if status.get('status') != 'ACTIVE':
                pending.append(server.get('name') or server['id'])
        if pending:
            raise retry.StillWaiting(f"not ACTIVE yet: {', '.join(pending)}")
        return servers
