"""Docker volumes: one Cinder volume per server, attached once the server is ACTIVE."""

from bayflow.flows.tasks import base


class CreateVolumes(base.BayTask):
    priority = base.LATE

    def __init__(self, role):
        super().__init__(name=f'create-volumes-{role}', provides=f'volumes_{role}')
        self.role = role

    def execute(self, bay, baymodel):
        base.check_deadline(bay)
        size = baymodel.get('docker_volume_size')
        if not size:
            return []
        return base.each(
            lambda i: dict(self.cloud.ensure_volume(bay['uuid'], self.role, i, size), index=i),
            base.members(bay, self.role))

    def revert(self, bay, *args, **kwargs):
        base.each(lambda i: self.cloud.delete_volume(bay['uuid'], self.role, i),
                  base.members(bay, self.role))


class AttachVolumes(base.BayTask):
    def __init__(self, role):
        super().__init__(name=f'attach-volumes-{role}', provides=f'attachments_{role}',
                         rebind={'servers': f'servers_active_{role}',
                                 'volumes': f'volumes_{role}'})
        self.role = role

    def execute(self, bay, servers, volumes):
        """The wait step asked for most attaches already (each as soon as its
        server was ACTIVE): the rest are asked for here, then all waited in-use."""
        base.check_deadline(bay)
        by_index = {s['index']: s for s in servers}
        pairs = [(by_index[v['index']]['id'], v['id']) for v in volumes]
        devices = {(by_index[v['index']]['id'], v['id']): by_index[v['index']].get('attach_device')
                   for v in volumes if by_index[v['index']].get('attach_asked')}
        devices.update(self.cloud.start_attachments([p for p in pairs if p not in devices]))
        attached = self.cloud.wait_attached(pairs, devices, bay['uuid'])
        return [dict(a, index=v['index']) for a, v in zip(attached, volumes)]

    def revert(self, bay, servers, volumes, *args, **kwargs):
        by_index = {s['index']: s for s in servers}
        base.each(lambda v: self.cloud.detach_volume(by_index[v['index']]['id'], v['id']),
                  [v for v in volumes if v['index'] in by_index])
