"""What runs beside a flow: lease heartbeat, cancellation, step times, progress.

Everything here hangs off TaskFlow's notifiers, so it acts at step
boundaries: that is where a delete request stops a create (the renew says
why), where each step's start and duration are recorded for
``bay-show --steps``, and where the progress display learns of a step.
"""

import os
import signal
import threading
import time

from taskflow import states as tf_states
from taskflow.types import notifier

from bayflow import log
from bayflow.flows.retry import StillWaiting
from bayflow.lifecycle import IN_PROGRESS
from bayflow.persistence import exceptions as db_exc

LOG = log.get_logger(__name__)

# Renew at a step boundary at most this often; the timer renews in between.
_BOUNDARY_RENEW_SECONDS = 1.0
# Test hook: ``<step>:<STATE>`` SIGKILLs this process when that step reaches
# that state (after TaskFlow has saved it), so crash tests hit every boundary.
CRASH_ENV = 'BAYFLOW_CRASH_AT'
# Processes the crash hook kills first: a daemon's flow worker takes its
# daemon along, as the daemon's own crash would.
CRASH_ALSO = []


_ENDS = (tf_states.SUCCESS, tf_states.FAILURE, tf_states.REVERTED, tf_states.REVERT_FAILURE)

# Set when this process is shutting down (the daemon's SIGTERM): every flow
# suspends at its next step boundary, its bay left *_IN_PROGRESS and its
# lease released, for a later resume.
SHUTDOWN = threading.Event()
# Told when a step ends, (step, state, seconds), and when a flow changes
# state, (bay uuid, operation, state), in the flow's thread (the daemon's
# metrics and notifications).
_STEP_OBSERVERS = []
_FLOW_OBSERVERS = []


def observe_steps(callback):
    """Call ``callback(step, state, seconds)`` each time a step of any flow ends."""
    _STEP_OBSERVERS.append(callback)


def observe_flows(callback):
    """Call ``callback(bay_uuid, operation, state)`` on each flow state change."""
    _FLOW_OBSERVERS.append(callback)


class Watch:
    def __init__(self, db, engine, bay_uuid, operation, owner, lease_seconds,
                 progress=None, on_revert=None, retried=()):
        self.db, self.engine = db, engine
        self.bay_uuid, self.operation, self.owner = bay_uuid, operation, owner
        self.lease_seconds = lease_seconds
        self.progress = progress
        self.lost = None  # the LeaseLost that stopped us
        self._stopping = False  # cancelled by a request: keep the lease till we stop
        self.first_failure = None  # (step, error text)
        self._last_renew = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer = None
        self._crash_at = os.environ.get(CRASH_ENV)
        self._starts = {}  # step -> time.time() it started running
        # Called once, when the first step starts reverting (the flow itself
        # goes from RUNNING straight to REVERTED or FAILURE).
        self._on_revert = on_revert
        self.retried = frozenset(retried)  # their failures are waits, not errors

    def __enter__(self):
        self.engine.atom_notifier.register(notifier.Notifier.ANY, self._on_atom)
        self.engine.notifier.register(notifier.Notifier.ANY, self._on_flow)
        self._timer = threading.Thread(target=self._heartbeat, daemon=True,
                                       name=f'lease-{self.bay_uuid[:8]}')
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._timer.join()
        self.engine.atom_notifier.deregister(notifier.Notifier.ANY, self._on_atom)
        self.engine.notifier.deregister(notifier.Notifier.ANY, self._on_flow)
        return False

    # -- lease ---------------------------------------------------------------
    def _heartbeat(self):
        interval = max(self.lease_seconds / 3.0, 0.2)
        while not self._stop.wait(interval):
            self.renew()

    def renew(self):
        """Keep the lease; once a delete request cancels the flow, keep it
        still ("stopping") until the flow has left its current step, so the
        delete waits for that step instead of racing it."""
        with self._lock:
            if self.lost is not None:
                if self._stopping:
                    self._renew_stopping()
                return False
            try:
                self.db.renew_lease(self.bay_uuid, self.owner, self.lease_seconds,
                                    self.operation)
                self._last_renew = time.monotonic()
                return True
            except db_exc.LeaseLost as exc:
                self.lost = exc
                self._stopping = bool(getattr(exc, 'cancelled', False))
                if self._settled():
                    LOG.debug('bay %s: the %s flow settled it; heartbeat stops',
                              self.bay_uuid, self.operation)
                else:
                    LOG.warning('bay %s: stopping the %s flow at this step: %s',
                                self.bay_uuid, self.operation, exc)
                return False
            except Exception as exc:  # noqa: BLE001 - a DB blip: the timer tries again
                LOG.warning('bay %s: could not renew the lease: %s', self.bay_uuid, exc)
                return True

    def _renew_stopping(self):
        try:
            self.db.renew_lease(self.bay_uuid, self.owner, self.lease_seconds,
                                self.operation, stopping=True)
        except db_exc.LeaseLost:
            self._stopping = False  # released or taken: nothing left to keep
        except Exception as exc:  # noqa: BLE001 - a DB blip: the timer tries again
            LOG.warning('bay %s: could not renew the lease: %s', self.bay_uuid, exc)

    def _settled(self):
        """True when the flow's own last step finished the bay (so the lease
        went with it), rather than someone else taking the bay away."""
        try:
            lease = self.db.lease_of(self.bay_uuid)
        except db_exc.NotFound:
            return self.operation == 'delete'
        return (lease['status'] not in IN_PROGRESS and lease['operation'] == self.operation
                and not lease['owner'])

    def _boundary(self):
        if time.monotonic() - self._last_renew >= _BOUNDARY_RENEW_SECONDS:
            self.renew()
        if self.lost is not None or SHUTDOWN.is_set():
            self.engine.suspend()

    # -- notifications -------------------------------------------------------
    def _on_atom(self, state, details):
        name = details.get('task_name') or details.get('retry_name')
        # Start and duration reach the logbook with the step's own state
        # writes (engine.lean); these are for the observers.
        if state == tf_states.RUNNING:
            self._starts[name] = time.time()
        elif state in _ENDS and name in self._starts:
            duration = time.time() - self._starts.pop(name)
            for observer in _STEP_OBSERVERS:
                observer(name, state, duration)
        retried = name in self.retried
        if state == tf_states.REVERTING and not retried and self._on_revert is not None:
            on_revert, self._on_revert = self._on_revert, None
            on_revert()
        error = None
        if state == tf_states.FAILURE:
            result = details.get('result')
            error = getattr(result, 'exception_str', None) or str(result)
            waiting = retried and hasattr(result, 'check') and result.check(StillWaiting)
            if self.first_failure is None and not waiting:
                self.first_failure = (name, error)
        if self.progress is not None:
            self.progress({'kind': 'step', 'step': name, 'state': state, 'error': error})
        self._maybe_crash(name, state)
        self._boundary()

    def _on_flow(self, state, details):
        for observer in _FLOW_OBSERVERS:
            observer(self.bay_uuid, self.operation, state)
        if self.progress is not None:
            self.progress({'kind': 'flow', 'state': state})

    def _maybe_crash(self, name, state):
        if self._crash_at and self._crash_at == f'{name}:{state}':
            for pid in CRASH_ALSO:
                os.kill(pid, signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)

