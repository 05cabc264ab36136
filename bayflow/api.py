"""bayflow's public API for services that run its flows in their own engines.

A host (Magnum's out-of-tree driver, say) describes a bay and its baymodel as
plain dicts, hands over an openstacksdk connection, and gets TaskFlow flows to
run on its own engine and persistence. Nothing here needs bayflow's database:
the steps that keep records report to a recorder the host picks (``none``, or
one it registers). Everything else in bayflow is internal. See
docs/embedding.md.
"""

import concurrent.futures
import threading

from taskflow import engines
from taskflow import states as tf_states

from bayflow.drivers import cloud as cloud_driver
from bayflow.drivers import coe
from bayflow.engine import books
from bayflow.flows import records, retry, specs
from bayflow.flows.records import Recorder

__all__ = ('BayEngine', 'Recorder', 'check_baymodel', 'create_spec', 'delete_spec',
           'register_recorder', 'status_of', 'update_spec', 'use_connection')

create_spec = specs.create_spec
delete_spec = specs.delete_spec
update_spec = specs.update_spec
register_recorder = records.register


def use_connection(conn, **settings):
    """Make the flows' steps use the host's openstacksdk ``conn`` (retry settings
    as keyword arguments of :class:`bayflow.drivers.cloud.Cloud`)."""
    cloud = cloud_driver.Cloud(conn, **settings)
    cloud_driver.set_provider(lambda: cloud)
    return cloud


def check_baymodel(baymodel, warm_up=False):
    """The cloud checks of bay-create: -> the baymodel with the cloud's ids and
    ``cluster_distro``, ready for :func:`create_spec`; raises CloudCheckError.

    The checks are independent reads, so they go out together (with the
    warm-up of a create that follows, when asked)."""
    cloud = cloud_driver.get_cloud()
    def image():
        found = cloud.check_image(baymodel['image_id'])
        coe.get_driver(baymodel['coe'], found['os_distro'],
                       baymodel.get('server_type') or 'vm')
        return found
    calls = {'image': image,
             'keypair': lambda: cloud.check_keypair(baymodel['keypair_id']),
             'flavor': lambda: cloud.check_flavor(baymodel['flavor_id'])}
    if baymodel.get('master_flavor_id'):
        calls['master_flavor'] = lambda: cloud.check_flavor(baymodel['master_flavor_id'],
                                                            field='master_flavor_id')
    calls['external_network'] = lambda: cloud.check_external_network(
        baymodel['external_network_id'])
    if warm_up:
        calls['warm_up'] = cloud.warm_up
    found = cloud.together(calls)
    image = found['image']
    out = dict(baymodel, image_id=image['id'], cluster_distro=image['os_distro'],
               flavor_id=found['flavor']['id'],
               external_network_id=found['external_network']['id'])
    if 'master_flavor' in found:
        out['master_flavor_id'] = found['master_flavor']['id']
    return out


def status_of(flow_detail):
    """Magnum's status for a flow saved by :class:`BayEngine`: {'status', 'reason', 'outputs'}."""
    operation = books.options_of(flow_detail)['operation'].upper()
    retried = retry.retried_steps(engines.flow_from_detail(flow_detail))
    atoms = [a for a in flow_detail if a.name not in retried]
    failure = next((f'{a.name}: {a.failure.exception_str}' for a in atoms
                    if a.failure is not None), None)
    reverting = any(a.state in (tf_states.REVERTING, tf_states.REVERTED) for a in atoms)
    outputs = next((a.results for a in atoms if a.name in ('finish-create', 'finish-update')
                    and a.state == tf_states.SUCCESS), None)
    state = flow_detail.state
    if state == tf_states.SUCCESS:
        status = f'{operation}_COMPLETE'
    elif state == tf_states.REVERTED:
        # A reverted update removed what it added; Heat too left it UPDATE_FAILED.
        status = 'ROLLBACK_COMPLETE' if operation == 'CREATE' else f'{operation}_FAILED'
    elif state == tf_states.FAILURE:
        status = 'ROLLBACK_FAILED' if reverting and operation == 'CREATE' \
            else f'{operation}_FAILED'
    elif reverting and operation == 'CREATE':
        status = 'ROLLBACK_IN_PROGRESS'
    else:
        status = f'{operation}_IN_PROGRESS'
    return {'status': status, 'reason': failure, 'outputs': outputs}


class BayEngine:
    """Submit by id, ask for state by id: what a Magnum driver needs, and no more.

    Flows are saved in the host's TaskFlow ``backend`` (one logbook per bay,
    as bayflow keeps its own) and run on a parallel engine in background
    threads of this process; :meth:`resume` picks up a flow a crashed process left.
    """

    def __init__(self, backend, max_workers=8, recorder='none'):
        self.backend = backend
        self.recorder = recorder  # the name a host registered its Recorder under
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_workers)
        self._steps = concurrent.futures.ThreadPoolExecutor(max_workers=32)
        self._running = {}
        self._lock = threading.Lock()

    def submit_create(self, bay, baymodel):
        """Save and start the create flow of ``bay``; returns its flow id at once."""
        return self._submit(bay['uuid'], specs.create_spec(bay, baymodel, self.recorder),
                            'create')

    def submit_delete(self, bay):
        return self._submit(bay['uuid'], specs.delete_spec(bay, self.recorder), 'delete')

    def submit_update(self, bay, baymodel, node_count):
        """Save and start the flow scaling ``bay`` (its record as built, with the
        CA the create reported) to ``node_count``; returns its flow id at once."""
        return self._submit(bay['uuid'], specs.update_spec(bay, baymodel, node_count,
                                                             self.recorder), 'update')

    def _submit(self, bay_uuid, spec, operation):
        flow_id = books.save_flow(self.backend, bay_uuid, spec['factory'],
                                  spec['factory_kwargs'], spec['store'],
                                  {'operation': operation})
        self.resume(flow_id)
        return flow_id

    def resume(self, flow_id):
        """Run a saved flow: a new one, or one a crash of this host's process left."""
        engine = engines.load_from_detail(books.load_flow(self.backend, flow_id),
                                          backend=self.backend, engine='parallel',
                                          executor=self._steps)
        with self._lock:
            self._running[flow_id] = self._pool.submit(_run, engine)

    def wait(self, flow_id, timeout=None):
        with self._lock:
            future = self._running.get(flow_id)
        if future is not None:
            future.result(timeout)
        return self.state(flow_id)

    def state(self, flow_id):
        """{'status', 'reason', 'outputs'} in Magnum's vocabulary."""
        return status_of(books.load_flow(self.backend, flow_id))

    def close(self):
        self._pool.shutdown(wait=True)
        self._steps.shutdown(wait=True)


def _run(engine):
    try:
        engine.run()
    except Exception:  # noqa: BLE001 - the outcome is read back from the flow detail
        pass
