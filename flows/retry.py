"""A retry controller that sleeps between tries (Octavia's SleepingRetryTimesController).

Long waits are short atoms under this controller: each try is one look at
the cloud, so the flow passes a step boundary between tries, the lease is
renewed there and a takeover lands on a clean boundary.
"""

import time

from taskflow import retry


class SleepingRetry(retry.Times):
    """Gives up with REVERT_ALL (as Octavia's ComputeRetry): a plain REVERT would
    undo only the waiting step and leave the rest of the bay standing."""

    def __init__(self, attempts, interval, name=None, **kwargs):
        kwargs.setdefault('revert_all', True)
        super().__init__(attempts=attempts, name=name, **kwargs)
        self._interval = interval

    def on_failure(self, history, *args, **kwargs):
        last = [f for _, f in history.outcomes_iter(index=-1)] if len(history) else []
        if any(not f.check(StillWaiting) for f in last):
            return self._revert_action  # a real error: no point waiting more
        if len(history) < self._attempts:
            time.sleep(self._interval)
            return retry.RETRY
        return self._revert_action


class StillWaiting(Exception):
    """Not there yet: the controller above tries again after its interval."""


def retried_steps(flow, under_retry=False):
    """Names of the steps a retry controller may revert and run again.

    Their REVERTING is a retry, not a rollback, and their StillWaiting
    failures are not the bay's error.
    """
    names = set()
    for node, _meta in flow.iter_nodes():
        if hasattr(node, 'iter_nodes'):
            inside = under_retry or node.retry is not None
            names |= retried_steps(node, inside)
            if node.retry is not None:
                names.add(node.retry.name)
        elif under_retry:
            names.add(node.name)
    return names
