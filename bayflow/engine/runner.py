"""Run one bay flow under its lease and settle the bay's status from how it ended.

The flow itself ends a successful create or delete (its last step tells the
recorder); what only the engine knows, a revert starting or a flow ending
failed, is moved here through the lifecycle machine, always as the lease
holder.
"""

import concurrent.futures

from taskflow import engines
from taskflow import states as tf_states

from bayflow import exceptions, lifecycle, log
from bayflow.drivers import cloud as cloud_driver
from bayflow.engine import books, lean, watch as watch_mod
from bayflow.flows import retry
from bayflow.persistence import exceptions as db_exc

LOG = log.get_logger(__name__)

# One long-lived pool for every flow of the process: a futurist pool made
# per run costs a second in its shutdown (verified-facts.md).
EXECUTOR = concurrent.futures.ThreadPoolExecutor(max_workers=32,
                                                 thread_name_prefix='bayflow-flow')


def run(db, backend, bay, owner, lease_seconds, progress=None, flow_detail=None):
    """Run (or go on with) the bay's current flow; returns the bay as it ended.

    The caller holds the lease (and may have loaded the flow: ``flow_detail``).
    The flow stops early, SUSPENDED, when the lease is lost (a delete was
    requested, or another owner took over).
    """
    uuid, operation = bay['uuid'], bay['operation']
    fd = flow_detail or books.load_flow(backend, bay['flow_id'])
    options = books.options_of(fd)
    flow = engines.flow_from_detail(fd)
    if _never_ran(fd):
        for task in _tasks(flow):
            task.first_run = True
    engine = lean.load(flow, fd, backend, executor=EXECUTOR,
                       never_resolve=bool(options.get('disable_rollback')))
    watcher = watch_mod.Watch(db, engine, uuid, operation, owner, lease_seconds, progress,
                              on_revert=lambda: _rollback_started(
                                  db, uuid, owner, _failure_text(watcher, fd)),
                              retried=retry.retried_steps(flow))
    with log.operation_context(uuid, operation):
        with watcher:
            try:
                engine.run()
            except Exception as exc:  # noqa: BLE001 - settled below from the flow state
                LOG.info('bay %s: %s flow ended with %s', uuid, operation, exc)
        state = engine.storage.get_flow_state()
        return _settle(db, backend, uuid, operation, state, owner, watcher, fd)


def _never_ran(flow_detail):
    """No step of the flow has started in any process, so none left anything."""
    return all(ad.state == tf_states.PENDING for ad in flow_detail
               if not ad.name.startswith('_TaskFlow'))


def _tasks(flow):
    for node, _meta in flow.iter_nodes():
        if hasattr(node, 'iter_nodes'):
            yield from _tasks(node)
        else:
            yield node


def _failure_text(watcher, fd):
    if watcher.first_failure is not None:
        step, error = watcher.first_failure
        return f'{step} failed: {error}'
    for ad in fd:  # failed in an earlier process; read it from the logbook
        if ad.failure is not None and not ad.failure.check(retry.StillWaiting):
            return f'{ad.name} failed: {ad.failure.exception_str}'
    return 'a step failed'


def _move(db, uuid, trigger, owner, reason, allowed_from=None):
    """One lifecycle move as the lease holder; False if the bay moved on without us."""
    try:
        bay = db.get_bay(uuid)
    except db_exc.NotFound:
        return False
    if allowed_from and bay['status'] not in allowed_from:
        return False
    try:
        lifecycle.transition(db, bay, trigger, reason=reason, owner=owner)
        return True
    except (exceptions.Conflict, exceptions.OperationNotAllowed) as exc:
        LOG.warning('bay %s: could not %s: %s', uuid, trigger, exc)
        return False


def _rollback_started(db, uuid, owner, failure):
    _move(db, uuid, 'rollback', owner, f'Bay CREATE failed, rolling back: {failure}',
          allowed_from=('CREATE_IN_PROGRESS',))


def _leftovers(uuid):
    """What a failed revert left, for the reason (a failed delete step names it already)."""
    try:
        inventory = cloud_driver.get_cloud().bay_inventory(uuid)
    except Exception:  # noqa: BLE001 - the cloud may be what failed
        inventory = None
    return cloud_driver.describe_leftovers(inventory)


def _settle(db, backend, uuid, operation, state, owner, watcher, fd):
    if state == tf_states.SUSPENDED:
        db.release_lease(uuid, owner, operation)
        return _bay_or_none(db, uuid)
    if state == tf_states.SUCCESS:
        if operation == 'delete':
            books.destroy_book(backend, uuid)
        else:
            # Normally freed by create_complete; not when a delete cancelled it.
            db.release_lease(uuid, owner, operation)
        return _bay_or_none(db, uuid)
    failure = _failure_text(watcher, fd)
    if operation == 'delete':
        _move(db, uuid, 'fail', owner,
              f'Bay DELETE failed: {failure}; bay-delete again finishes the job')
    elif operation == 'update':
        _move(db, uuid, 'fail', owner, _update_failed(db, uuid, state, failure, fd))
    elif state == tf_states.REVERTED:
        _rollback_started(db, uuid, owner, failure)
        _move(db, uuid, 'rollback_complete', owner,
              f'Bay CREATE failed and was rolled back: {failure}')
    elif _status(db, uuid) == 'ROLLBACK_IN_PROGRESS':
        _move(db, uuid, 'rollback_failed', owner,
              f'Bay ROLLBACK failed after {failure}; left in the cloud: '
              f'{_leftovers(uuid)}; bay-delete removes them')
    else:
        _move(db, uuid, 'fail', owner,
              f'Bay CREATE failed: {failure} (rollback disabled: what was built '
              f'is kept; bay-delete removes it)')
    db.release_lease(uuid, owner, operation)
    return _bay_or_none(db, uuid)


def _update_failed(db, uuid, state, failure, fd):
    """UPDATE_FAILED either way, as Heat left a failed stack update; the reason
    says whether the nodes it added were removed (node_count is unchanged)."""
    count = (_bay_or_none(db, uuid) or {}).get('node_count')
    sizes = (fd.meta.get('factory') or {}).get('kwargs') or {}
    if sizes.get('new_count', 0) < sizes.get('old_count', 0):
        return (f"Bay UPDATE failed: {failure}; the scale-down to {sizes['new_count']} "
                f"node(s) stopped part-way (a removal cannot be undone); bay-delete "
                f"removes the bay")
    if state == tf_states.REVERTED:
        return (f'Bay UPDATE failed and the nodes it added were removed: {failure}; '
                f'the bay keeps its {count} node(s)')
    if books.options_of(fd).get('disable_rollback'):
        return (f'Bay UPDATE failed: {failure} (rollback disabled: the nodes built are '
                f'kept; bay-delete removes the bay)')
    return (f'Bay UPDATE failed: {failure}; removing what it had added failed too, '
            f'so the bay may hold more than its {count} node(s); bay-delete removes them')


def _status(db, uuid):
    bay = _bay_or_none(db, uuid)
    return bay and bay['status']


def _bay_or_none(db, uuid):
    try:
        return db.get_bay(uuid)
    except db_exc.NotFound:
        return None
