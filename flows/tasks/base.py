"""What every bay task shares: its cloud, the create deadline, fan-out over servers."""

import concurrent.futures
import contextvars
import threading
import time

from taskflow import task
from taskflow.types import sets

from bayflow import exceptions
from bayflow.drivers import cloud as cloud_driver

# Steps that make one resource per server (ports, floating IPs, volumes,
# servers) make them concurrently: one atom per role keeps the flow's
# persistence cost flat as node_count grows (see verified-facts.md).
_FAN_OUT = concurrent.futures.ThreadPoolExecutor(
    max_workers=32, thread_name_prefix='bayflow-fanout')


# TaskFlow starts the steps that became ready together highest priority
# first, each after its RUNNING write, and their fan-outs then share one GIL:
# the one-call links of the bay's critical path (network, subnet, router and
# its interface, security groups, the masters' floating IPs) go first, so
# each answer is taken up at once, before the fan-outs (ports) that start
# with them; what nothing waits for soon (volumes, security group rules) last.
CRITICAL, LATE = 1, -1


class BayTimeout(exceptions.BayflowError):
    """The bay's create_timeout ran out."""


class BayTask(task.Task):
    """A step of a bay flow; the cloud comes from the driver's provider.

    An embedding host installs its own connection with
    ``bayflow.drivers.cloud.set_provider``; bayflow builds one from its config.
    """

    # Set by the runner on every step of a flow that never ran before: such a
    # step's first create need not look for an earlier attempt's resource.
    first_run = False

    # TaskFlow works out each step's arguments from its execute and revert
    # signatures whenever one is built, and a flow is built again for every
    # run: 25 steps, a hundred inspect.signature calls, a tenth of a daemon's
    # Python time at 50 bays. The answer depends on the class and the
    # arguments only, so each is worked out once.
    _arg_mappings = {}
    _arg_mappings_lock = threading.Lock()

    def _build_arg_mapping(self, executor, requires=None, rebind=None, auto_extract=True,
                           ignore_list=None):
        try:
            key = (type(self), executor.__name__, _frozen(requires), _frozen(rebind),
                   auto_extract, _frozen(ignore_list), _frozen(self.inject))
            hash(key)
        except TypeError:  # an argument we cannot key on: as TaskFlow does
            return super()._build_arg_mapping(executor, requires, rebind, auto_extract,
                                              ignore_list)
        found = self._arg_mappings.get(key)
        if found is None:
            found = super()._build_arg_mapping(executor, requires, rebind, auto_extract,
                                               ignore_list)
            with self._arg_mappings_lock:
                self._arg_mappings[key] = found
        rebind_map, required, optional = found
        return (type(rebind_map)(rebind_map), sets.OrderedSet(required),
                sets.OrderedSet(optional))

    @property
    def cloud(self):
        return cloud_driver.get_cloud()

    def pre_execute(self):
        self._first_run = cloud_driver.first_run() if self.first_run else None
        if self._first_run is not None:
            self._first_run.__enter__()

    def post_execute(self):
        if self._first_run is not None:
            self._first_run.__exit__(None, None, None)
            self._first_run = None


def _frozen(value):
    """A hashable, order-keeping stand-in for an atom argument."""
    if isinstance(value, dict):
        return ('dict', tuple(value.items()))
    if isinstance(value, (list, tuple, set, frozenset)) and not isinstance(value, str):
        return ('seq', tuple(value))
    return value


def check_deadline(bay):
    """Refuse to start a step once the create's time is up (rolls the bay back)."""
    deadline = bay.get('deadline')
    if deadline and time.time() > deadline:
        minutes = bay.get('create_timeout')
        raise BayTimeout(f"bay {bay['uuid']} timed out: create_timeout of "
                         f"{minutes} minute(s) elapsed before this step")


def each(fn, items):
    """``[fn(item) ...]`` concurrently; waits for all, then raises the first error.

    Waiting for every call keeps a revert from racing creates still in flight.
    """
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    # Each call in the context of the step (first_run travels with it).
    futures = [_FAN_OUT.submit(contextvars.copy_context().run, fn, item) for item in items]
    concurrent.futures.wait(futures)
    for future in futures:
        if future.exception() is not None:
            raise future.exception()
    return [f.result() for f in futures]


def start(fn, *args):
    """``fn(*args)`` in the background, in the context of the step; -> its Future.
    The step waits for it before it ends."""
    return _FAN_OUT.submit(contextvars.copy_context().run, fn, *args)


def members(bay, role):
    """Indexes of a role's servers: master_count masters, node_count nodes.

    A scale-up's bay has ``first_index`` ({role: old count}): its steps make
    (and their reverts remove) only the servers it adds, never the bay's own.
    """
    count = bay['master_count'] if role == 'master' else bay['node_count']
    return list(range((bay.get('first_index') or {}).get(role, 0), count))

