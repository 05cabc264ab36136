"""Run recorded bay flows, a bounded number at once, here or in worker processes.

Each flow runs through ``Service.run_bay``, so under the bay's lease exactly
as ``bayflow resume --wait`` runs it: a killed daemon leaves flows any
resume picks up. The pool is the daemon's ``start_flow`` hook and keeps the
bookkeeping (one run per bay at a time, outcomes, notifications); where a
flow runs is its runner's business: :class:`InProcess`, or
``workers.WorkerProcesses``. A conductor front door would be one more.
"""

import concurrent.futures
import threading

from taskflow import states as tf_states

from bayflow import lifecycle, log
from bayflow.engine import watch

LOG = log.get_logger(__name__)


# How a flow's end counts: its TaskFlow state (SUSPENDED: not an end).
_ENDS = {tf_states.SUCCESS: 'completed', tf_states.REVERTED: 'rolled back',
         tf_states.FAILURE: 'failed', tf_states.REVERT_FAILURE: 'failed'}


# Runs of one bay whose worker process died under them, before the pool
# leaves the bay to a resume (a bay that kills its worker every time).
_LOST_RUNS = 3


class WorkerLost(Exception):
    """The process running the flow died; the bay's lease names a dead owner."""


class InProcess:
    """Runs a flow in the calling thread; -> (the bay as it ended, how its
    flow ended: (operation, TaskFlow state), or None when it suspended)."""

    def __init__(self, service):
        self.service = service
        self._ended = threading.local()  # (operation, state) of this thread's last flow
        watch.observe_flows(self._flow_changed)

    def _flow_changed(self, bay_uuid, operation, state):
        if state in _ENDS:
            self._ended.value = (operation, state)

    def run(self, bay_uuid):
        self._ended.value = None
        final = self.service.run_bay(bay_uuid)
        return final, self._ended.value

    def shutdown(self):
        watch.SHUTDOWN.set()


class FlowPool:
    def __init__(self, service, size, notifier, metrics, runner=None):
        self.service, self.notifier, self.metrics = service, notifier, metrics
        self.runner = runner or InProcess(service)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=size, thread_name_prefix='bay-flow')
        self._lock = threading.Lock()
        self._busy = set()      # bays queued or running here
        self._again = set()     # asked again while running (a delete stopping a create)
        self._contexts = {}     # bay -> the context of the event that started it

    def submit(self, bay_uuid, context=None):
        """Run the bay's current operation here (once: a bay already queued
        or running here runs again when its flow stops)."""
        with self._lock:
            if context is not None:
                self._contexts[bay_uuid] = context
            if bay_uuid in self._busy:
                self._again.add(bay_uuid)
                return False
            self._busy.add(bay_uuid)
            self._pool.submit(self._run, bay_uuid)
        return True

    def _run(self, bay_uuid):
        first, lost = True, 0
        try:
            while True:
                ran = first or self._unfinished(bay_uuid)
                lost = lost + 1 if ran and self._run_once(bay_uuid) == 'lost' else 0
                first = False
                if lost == _LOST_RUNS:
                    LOG.error('bay %s: its flow took %d worker processes down with it; '
                              'left for "bayflow resume"', bay_uuid, lost)
                with self._lock:  # one lock with submit(): no request is missed
                    if 0 < lost < _LOST_RUNS and not watch.SHUTDOWN.is_set():
                        continue  # its owner is dead: take the bay over at once
                    if bay_uuid not in self._again or watch.SHUTDOWN.is_set():
                        self._done(bay_uuid)
                        return
                    self._again.discard(bay_uuid)
        except BaseException:
            with self._lock:
                self._done(bay_uuid)
            raise

    def _done(self, bay_uuid):
        self._busy.discard(bay_uuid)
        self._again.discard(bay_uuid)
        self._contexts.pop(bay_uuid, None)

    def _unfinished(self, bay_uuid):
        try:
            return self.service.get_bay(bay_uuid)['status'] in lifecycle.IN_PROGRESS
        except Exception:  # noqa: BLE001 - gone, or the database away: a resume's job
            return False

    def _run_once(self, bay_uuid):
        """Run the bay's flow; count and announce how it ended (by the flow's own
        end: the bay may be on to another operation already). -> 'lost' when
        the process running it died."""
        self.metrics.flows_running.inc()
        try:
            final, ended = self.runner.run(bay_uuid)
        except WorkerLost as exc:
            LOG.warning('bay %s: %s', bay_uuid, exc)
            return 'lost'
        except Exception as exc:  # noqa: BLE001 - left for a resume; the daemon goes on
            LOG.warning('bay %s: flow not run here: %s', bay_uuid, exc)
            return None
        finally:
            self.metrics.flows_running.dec()
        if ended is None:
            LOG.info('bay %s: flow stopped at a step boundary (%s)', bay_uuid,
                     final['status'])
            return None
        operation, state = ended
        how = _ENDS[state]
        self.metrics.flow_ended('failed' if how == 'rolled back' and operation == 'delete'
                                else how)
        self._record(dict(final, operation=operation), operation,
                     'success' if state == tf_states.SUCCESS else 'failure')

    def _record(self, bay, operation, outcome):
        try:
            self.service.db.finish_events(bay['uuid'], operation, outcome)
        except Exception as exc:  # noqa: BLE001 - informative only
            LOG.warning('bay %s: could not record the outcome of its events: %s',
                        bay['uuid'], exc)
        with self._lock:
            context = self._contexts.get(bay['uuid'])
        self.notifier.notify(operation, outcome, bay, context)

    def shutdown(self):
        """Flows stop at their next step boundary (their bays stay *_IN_PROGRESS,
        leases released); flows not started yet are left for a resume."""
        watch.SHUTDOWN.set()
        self.runner.shutdown()
        self._pool.shutdown(wait=True, cancel_futures=True)
