"""TaskFlow's parallel engine, with two writes a step instead of five.

The engine marks every step's progress 0.0 as it starts and 1.0 as it ends,
and stores each mark as its own write of the step's atom detail, beside the
two state changes; recording a step's start and duration for ``bay-show
--steps`` would be a fifth. Those writes are the largest part of the
engine's own CPU (verified-facts.md). Nothing reads the progress marks back
(a resumed step starts over, and the progress display listens to the
engine's notifications), so they stay in memory; the start time rides on the
RUNNING write and the duration on the write of how the step ended. Progress
a task reports with details still goes to the database at once.
"""

import datetime
import time

import fasteners
from taskflow import states, storage
from taskflow.engines.action_engine import engine
from taskflow.persistence import models
from taskflow.utils import misc


class LeanStorage(storage.Storage):

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._started = {}  # atom name -> time.time() it started running

    @fasteners.write_locked
    def set_atom_state(self, atom_name, state):
        if state == states.RUNNING:
            self._started[atom_name] = time.time()
            self._meta_in_memory(atom_name, started_at=_now_iso())
        super().set_atom_state(atom_name, state)

    @fasteners.write_locked
    def save(self, atom_name, result, state=states.SUCCESS):
        started = self._started.pop(atom_name, None)
        if started is not None:
            self._meta_in_memory(atom_name, duration=round(time.time() - started, 3))
        super().save(atom_name, result, state)

    # The engine's analysis asks for atoms' states and intentions thousands
    # of times a flow, each through the storage's reader-writer lock. Both
    # are written by the engine's own thread only (tasks run elsewhere but
    # hand their results back to it), so reading one needs no lock.
    def get_atom_state(self, atom_name):
        return self._atomdetail_by_name(atom_name)[0].state

    def get_atom_intention(self, atom_name):
        return self._atomdetail_by_name(atom_name)[0].intention

    def _meta_in_memory(self, atom_name, **values):
        """Into the cached atom detail: the next write of the atom carries it."""
        source, _clone = self._atomdetail_by_name(atom_name)
        source.meta.update(values)

    def set_task_progress(self, task_name, progress, details=None):
        if details is not None:
            return super().set_task_progress(task_name, progress, details=details)
        self._keep_progress(task_name, progress)

    @fasteners.write_locked
    def _keep_progress(self, task_name, progress):
        self._atomdetail_by_name(task_name, expected_type=models.TaskDetail)  # checks the type
        self._meta_in_memory(task_name, **{storage.META_PROGRESS: progress})


class LeanParallelEngine(engine.ParallelActionEngine):

    @misc.cachedproperty
    def storage(self):
        def scope_fetcher(atom_name):
            return self._runtime.fetch_scopes_for(atom_name) if self._compiled else None
        return LeanStorage(self._flow_detail, backend=self._backend,
                           scope_fetcher=scope_fetcher)


def load(flow, flow_detail, backend, **options):
    """``engines.load(..., engine='parallel')`` with :class:`LeanStorage`."""
    return LeanParallelEngine(flow, flow_detail, backend, options)


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()
