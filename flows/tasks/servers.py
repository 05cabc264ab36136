"""Servers on their ports with their rendered user_data, and the wait for ACTIVE."""

from bayflow.drivers import cloud as cloud_driver, tls
from bayflow.flows import retry
from bayflow.flows.tasks import base, coe as coe_tasks

VOLUME_READY = ('available', 'in-use')


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
    """Looks at the bay's servers (and the volumes they will get) until all
    are ready, for one slice of the wait; StillWaiting makes the retry go on."""

    def __init__(self, role):
        super().__init__(name=f'wait-servers-{role}', provides=f'servers_active_{role}',
                         rebind={'servers': f'servers_{role}', 'volumes': f'volumes_{role}'})

    def execute(self, bay, servers, volumes):
        def look():
            base.check_deadline(bay)
            found = self.cloud.together({
                'servers': lambda: self.cloud.server_statuses(bay['uuid']),
                'volumes': lambda: self.cloud.volume_statuses(
                    ids={v['id'] for v in volumes}) if volumes else {}})
            pending = (_pending(servers, found['servers'], 'server', ('ACTIVE',), 'ERROR')
                       + _pending(volumes, found['volumes'], 'volume', VOLUME_READY, 'error'))
            return f"not ready yet: {', '.join(pending)}" if pending else None
        retry.poll(look, self.cloud.wait_interval)
        return servers


def _pending(items, statuses, kind, ready, failed):
    """Names of ``items`` not ready yet; CloudError for one that failed (or a
    volume that is gone: a server may not be listed yet)."""
    pending = []
    for item in items:
        name = item.get('name') or item['id']
        status = statuses.get(item['id'])
        if status is None and kind == 'volume':
            raise cloud_driver.CloudError('wait for', kind, name, f'the {kind} is gone')
        status = (status or {}).get('status') or ''
        if status.startswith(failed):
            raise cloud_driver.CloudError(
                'build', kind, name, statuses[item['id']].get('fault')
                or f'the {kind} went to {status}')
        if status not in ready:
            pending.append(name)
    return pending
