"""Servers on their ports with their rendered user_data, and the wait for ACTIVE."""

import concurrent.futures

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
            ca = dict(ca, key=tls.decrypt_key(ca['key']))
            if ca.get('service_account_key'):
                ca['service_account_key'] = tls.decrypt_key(ca['service_account_key'])
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
    """Looks at the bay's servers (and their volumes) until all are ready, for
    one slice of the wait; StillWaiting makes the retry go on.

    Cinder is asked about a volume only once its server is ACTIVE, and only
    until the volume has been seen ready (it stays so until its attach): a
    volume is made with its server and takes no longer, and a daemon waiting
    on many booting bays would otherwise ask Cinder as often as Nova, where
    their servers share one look (``server_statuses``). A volume that failed
    is so reported once its server is up.
    Each server's docker volume is asked for the moment that server is ACTIVE
    (its volume available), so the attaches overlap the other servers' boots;
    they go out in the background, so the looking goes on at its pace, and
    the step waits for them before it ends. The attach step then waits for
    them in-use. Undoing them is the servers' and volumes' own reverts' job
    (deleting a server detaches its volumes): this step is re-run by its
    retry, so it has no revert of its own.
    """

    def __init__(self, role):
        super().__init__(name=f'wait-servers-{role}', provides=f'servers_active_{role}',
                         rebind={'servers': f'servers_{role}', 'volumes': f'volumes_{role}'})
        # (server, volume) pairs this process asked Nova to attach: the next
        # try of a first run must not ask again (a resumed flow looks first).
        self._asked = {}

    def execute(self, bay, servers, volumes):
        volume_of = {v['index']: v['id'] for v in volumes}
        asking = {}  # attaches on their way (future -> its pairs): looking goes on meanwhile
        volume_ids = {v['id'] for v in volumes}
        settled = {}  # volumes seen ready: an available volume stays so until we attach it

        def look_at_volumes(server_statuses):
            """-> the volumes' statuses, or None when none is worth asking about."""
            if not any(vid not in settled and _status(server_statuses, sid) == 'ACTIVE'
                       for sid, vid in _pairs(servers, volume_of)):
                return None
            found = self.cloud.volume_statuses(bay['uuid'], ids=volume_ids)
            settled.update((vid, status) for vid, status in found.items()
                           if status['status'] in cloud_driver.VOLUME_READY)
            return found

        def look():
            base.check_deadline(bay)
            self._settle([f for f in asking if f.done()], asking)
            server_statuses = self.cloud.server_statuses(bay['uuid'])
            volume_statuses = look_at_volumes(server_statuses)
            asked = set(self._asked).union(*asking.values())
            pending = cloud_driver.not_ready('server', servers, server_statuses)
            if volume_statuses is None:
                volume_statuses = settled
                pending += [v.get('name') or v['id'] for v in volumes if v['id'] not in settled]
            else:
                pending += cloud_driver.not_ready('volume', volumes, volume_statuses,
                                                  moving={v for _, v in asked})
            ready = [pair for pair in _pairs(servers, volume_of) if pair not in asked
                     and _status(server_statuses, pair[0]) == 'ACTIVE'
                     and _status(volume_statuses, pair[1]) in cloud_driver.VOLUME_READY]
            if ready:
                asking[base.start(self.cloud.start_attachments, ready)] = ready
            return f"not ready yet: {', '.join(pending)}" if pending else None
        try:
            retry.poll(look, self.cloud.wait_interval)
        finally:
            # Nothing outlives the step, and every attach Nova took is
            # remembered (an attach's error wins over StillWaiting).
            self._settle(list(asking), asking)
        return [dict(s, attach_asked=pair in self._asked, attach_device=self._asked.get(pair))
                for s, pair in zip(servers, _pairs(servers, volume_of, keep_missing=True))]

    def _settle(self, futures, asking):
        """Wait for ``futures`` (attaches asked for), keep what each got into
        ``_asked``; then raise the first error among them."""
        concurrent.futures.wait(futures)
        errors = []
        for future in futures:
            asking.pop(future)
            if future.exception() is not None:
                errors.append(future.exception())
            else:
                self._asked.update(future.result())
        if errors:
            raise errors[0]


def _pairs(servers, volume_of, keep_missing=False):
    """(server id, its docker volume's id) of each server (None: it has no volume)."""
    return [(s['id'], volume_of.get(s['index'])) for s in servers
            if keep_missing or s['index'] in volume_of]


def _status(statuses, rid):
    return (statuses.get(rid) or {}).get('status')
