"""A retry controller that sleeps between tries (Octavia's SleepingRetryTimesController).

Long waits are short atoms under this controller: each try looks at the cloud
every ``wait_interval`` for up to SLICE_SECONDS, so the flow passes a step
boundary (the lease renewed, a stop honoured, a takeover landing cleanly)
every few seconds, without paying the engine's per-try bookkeeping on every
look (which would also make the wait notice a server late).
"""

import math
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


# How long one try of a waiting step goes on looking.
SLICE_SECONDS = 3.0


def attempts_for(timeout, interval):
    """Tries of a waiting step that together last about ``timeout`` seconds."""
    return max(math.ceil(timeout / (SLICE_SECONDS + interval)), 1)


def poll(look, interval, slice_seconds=SLICE_SECONDS):
    """Call ``look()`` every ``interval`` until it returns nothing (done); once
    the slice is over, raise StillWaiting with what it last returned.

    Looks start ``interval`` apart (the time a look takes is not added to the
    wait), so a change is seen at most ``interval`` after it happened."""
    give_up = time.monotonic() + slice_seconds
    while True:
        started = time.monotonic()
        pending = look()
        if not pending:
            return
        next_look = started + interval
        if max(next_look, time.monotonic()) > give_up:
            raise StillWaiting(pending)
        time.sleep(max(next_look - time.monotonic(), 0))


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
